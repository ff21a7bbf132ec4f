"""Load: run a Locust profile against the target and judge the env's success criteria.

    pytest --env staging -m load --load-profile baseline [--load-processes 2]

Locust runs in its own process; each criterion becomes a test result, and
Locust's HTML report and CSV statistics are attached to the pytest-html
report. Not part of ``-m smoke``: a load run takes minutes and creates data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_deploycheck import (
    CheckFailed,
    LoadCriterion,
    LoadRequest,
    LoadRun,
    deploy_context,
    parse_load_criteria,
    run_locust,
)

pytestmark = [pytest.mark.load, pytest.mark.destructive]

LOCUSTFILE = Path(__file__).resolve().parent.parent / "locustfiles" / "anki_compendium.py"
# (the same path in a checkout and in the installed package)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "criterion" not in metafunc.fixturenames:
        return
    plugin_active = metafunc.config.pluginmanager.has_plugin("deploycheck")  # -p no:deploycheck
    context = deploy_context(metafunc.config) if plugin_active else None
    env = context.env if context is not None else None
    # Validated at start with the rest of the env (a bad criterion is a usage error).
    parsed = parse_load_criteria(env.load.criteria if env is not None else None)
    metafunc.parametrize("criterion", parsed, ids=[str(c) for c in parsed])


@pytest.fixture(scope="session")
def load_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LoadRun:
    """The profile run once for the session; criteria are judged on its statistics."""
    context = deploy_context(request.config)
    env = context.env
    if env is None:
        pytest.skip("no target selected")
    option = request.config.getoption
    artifacts = Path(option("deploycheck_load_artifacts") or tmp_path_factory.mktemp("load"))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    # The env as this run resolved it, its embedded deployment started once (with a load's
    # settings): handed to the Locust process, which resolves and starts nothing again.
    target = request.getfixturevalue("deploy_env")
    profile = option("deploycheck_load_profile") or "smoke"
    handed = LoadRequest(target, *context.destructive_allowed, profile)
    extra_env = {}
    if not env.is_embedded:
        # One sign-in for every Locust process: the run's smoke user.
        user = request.getfixturevalue("smoke_user")
        extra_env = {"DEPLOYCHECK_LOAD_ACCESS_TOKEN": user.access_token}
        if user.refresh_token:
            extra_env["DEPLOYCHECK_LOAD_REFRESH_TOKEN"] = user.refresh_token
    run = run_locust(
        LOCUSTFILE,
        artifacts,
        env_name=None,
        host=target.base_url,
        request=handed,
        profile=profile,
        processes=option("deploycheck_load_processes"),
        # This suite is destructive: running at all, it is allowed (pytest's own rule).
        allow_destructive=context.destructive_allowed[0],
        extra_env=extra_env,
        on_line=(lambda line: reporter.write_line(context.redactor.text(line)))
        if reporter
        else None,
        timeout_s=option("deploycheck_load_timeout"),
        cwd=Path(request.config.rootpath),
    )
    context.notes.append(
        f"load run artifacts: {artifacts} (locust-report.html, locust_stats.csv, verdict.json)"
    )
    return run


def _attach_artifacts(request: pytest.FixtureRequest, run: LoadRun) -> None:
    try:
        import pytest_html
    except ImportError:
        return
    extras = request.getfixturevalue("extras")
    extras.append(pytest_html.extras.url(str(run.html_report), name="Locust HTML report"))
    for suffix in ("stats", "failures"):
        path = Path(f"{run.csv_prefix}_{suffix}.csv")
        if path.exists():
            extras.append(pytest_html.extras.text(path.read_text(), name=path.name))


def test_load_run_completed(request: pytest.FixtureRequest, load_run: LoadRun) -> None:
    _attach_artifacts(request, load_run)
    report = load_run.report
    if report.aborted:
        raise CheckFailed(f"the load run was aborted: {report.aborted}")
    if report.breaking_point:
        print(report.breaking_point)
    if not report.requests:
        raise CheckFailed("the load run made no requests; its output:\n" + load_run.output[-2000:])


def test_load_criterion(load_run: LoadRun, criterion: LoadCriterion) -> None:
    report = load_run.report
    verdict = report.verdict_for(criterion.id)
    if verdict is None:
        raise CheckFailed(f"{criterion} was not judged by the load run")
    if not verdict.ok:
        failing = "; ".join(
            f"{e.name}: {e.failures} of {e.requests} failed"
            + (f" ({', '.join(e.reasons)})" if e.reasons else "")
            for e in report.errors
        )
        raise CheckFailed(
            f"{criterion} breached: measured {verdict.measured_text}, limit {verdict.limit_text} "
            f"({report.profile} profile, {report.requests} requests)"
            + (f"; failing endpoints: {failing}" if failing else "")
        )
