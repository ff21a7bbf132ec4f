"""The pytest plugin: hooks (the entry point), options, fixtures, the run owner, reporting."""
