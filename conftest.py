"""Repository-level conftest: nothing to configure.

The plugin is loaded through its ``pytest11`` entry point (``pip install -e .``),
exactly as in any project that installs pytest-deploycheck; the shipped suites
in ``suites/`` use only its public fixtures.
"""
