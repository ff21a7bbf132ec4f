"""Markers are registered; destructive checks are skipped on production unless allowed."""

from __future__ import annotations

import pytest

from pytest_deploycheck.plugin.options import MARKERS

DESTRUCTIVE = """
import pytest

@pytest.mark.destructive
def test_deletes_things():
    pass

def test_reads_things():
    pass
"""

PROD = '[envs.prod]\nbase_url = "https://api.example.com"\nproduction = true\n'


def test_all_markers_work_with_strict_markers(pytester: pytest.Pytester) -> None:
    body = "\n".join(f"@pytest.mark.{name}\ndef test_{name}():\n    pass\n" for name in MARKERS)
    pytester.makepyfile("import pytest\n" + body)
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(MARKERS))


def test_markers_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(
        ["@pytest.mark.smoke: a fast post-deploy check*", "@pytest.mark.destructive: *"]
    )


def test_destructive_is_skipped_on_production(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(DESTRUCTIVE)
    (pytester.path / "deploycheck.toml").write_text(PROD)
    result = pytester.runpytest("--env", "prod", "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*destructive: env 'prod' is marked production; destructive checks run only with "
            "--allow-destructive or allow_destructive = true in the env*"
        ]
    )


def test_allow_destructive_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(DESTRUCTIVE)
    (pytester.path / "deploycheck.toml").write_text(PROD)
    result = pytester.runpytest("--env", "prod", "--allow-destructive", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*destructive checks=allowed (--allow-destructive)*"])


def test_env_may_allow_destructive(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(DESTRUCTIVE)
    (pytester.path / "deploycheck.toml").write_text(PROD + "allow_destructive = true\n")
    result = pytester.runpytest("--env", "prod", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_destructive_runs_on_non_production(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(DESTRUCTIVE)
    (pytester.path / "deploycheck.toml").write_text(
        '[envs.staging]\nbase_url = "https://s.example.com"\n'
    )
    result = pytester.runpytest("--env", "staging", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
