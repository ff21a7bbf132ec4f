"""The pytest plugin: options, markers, the report header, and how failures are shown.

Loaded through the ``pytest11`` entry point. Fixtures live in
:mod:`pytest_deploycheck.fixtures`; what a run targets lives in
:mod:`pytest_deploycheck.context`.
"""

from __future__ import annotations

import html
import importlib.metadata
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from pytest_deploycheck.config import ConfigError, find_config, load_config, resolve_env
from pytest_deploycheck.context import DeployContext, Origins
from pytest_deploycheck.errors import DeployCheckError, TargetUnreachable
from pytest_deploycheck.fixtures import (  # noqa: F401  (pytest finds fixtures by name here)
    CONTEXT,
    EXCHANGES_FROM,
    RECOMMENDATION,
    RECOMMENDATIONS,
    _deploycheck_session_client,
    auth_api,
    base_url,
    deck,
    deck_report,
    deploy_env,
    deploy_env_unprobed,
    finished_job,
    http,
    other_user,
    recommend,
    sample_pdf,
    smoke_user,
    uploaded_job,
)
from pytest_deploycheck.policy import REPORT_PROPERTY, ItemGrade, grade
from pytest_deploycheck.redaction import Redactor

MARKERS = {
    "smoke": "a fast post-deploy check; `-m smoke` is the verdict on a deployment",
    "health": "liveness, readiness and version",
    "auth": "sign-up, sign-in, tokens",
    "journey": "a user's path through the product, end to end",
    "security": "security headers, CORS, exposure, transport",
    "fuzz": "schema-driven fuzzing of the API",
    "infra": "checks on the hosts behind the deployment",
    "load": "load profiles with success criteria",
    "destructive": "creates, changes or deletes data, or spends rate limits; "
    "skipped on production envs unless allowed",
}

_UNREACHABLE = "deploycheck_unreachable"
_FINDINGS = "deploycheck-findings"
_WORKER_STATE_DIR = "deploycheck_state_dir"
_WORKER_OWNER_PID = "deploycheck_owner_pid"
_WORKER_RUN_ID = "deploycheck_run_id"


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("deploycheck", "post-deploy checks (pytest-deploycheck)")
    group.addoption(
        "--env",
        dest="deploycheck_env",
        metavar="NAME",
        default=os.environ.get("DEPLOYCHECK_ENV"),
        help="target environment from deploycheck.toml (also DEPLOYCHECK_ENV); "
        "'local' starts the embedded reference deployment",
    )
    if not _base_url_plugin_active(pluginmanager):
        # pytest-base-url owns --base-url when it is installed; we read its value then.
        group.addoption(
            "--base-url",
            dest="base_url",
            metavar="URL",
            default=None,
            help="target this URL: overrides the env's base_url, or alone targets it ad hoc",
        )
    group.addoption(
        "--expect-version",
        dest="deploycheck_expect_version",
        metavar="VERSION",
        default=None,
        help="the version that should be deployed (overrides the env's expected_version)",
    )
    group.addoption(
        "--allow-destructive",
        action="store_true",
        dest="deploycheck_allow_destructive",
        help="run checks marked destructive even against a production env",
    )
    group.addoption(
        "--job-deadline",
        dest="deploycheck_job_deadline",
        metavar="SECONDS",
        type=_positive_seconds,
        default=None,
        help="how long a job may take to finish (overrides the env's journey.job_deadline_s)",
    )
    group.addoption(
        "--check-rate-limit",
        action="store_true",
        dest="deploycheck_check_rate_limit",
        help="run the opt-in check that the auth rate limit exists (it spends this IP's auth "
        "budget for a minute; destructive)",
    )
    group.addoption(
        "--load-profile",
        dest="deploycheck_load_profile",
        default="smoke",
        metavar="NAME",
        help="the load profile for -m load: smoke, baseline, stress, spike, soak (default: smoke)",
    )
    group.addoption(
        "--load-processes",
        dest="deploycheck_load_processes",
        type=int,
        default=0,
        metavar="N",
        help="run Locust as a master with N local worker processes (default: one process)",
    )
    group.addoption(
        "--load-artifacts",
        dest="deploycheck_load_artifacts",
        default=None,
        metavar="DIR",
        help="where the load run writes Locust's HTML report, CSV statistics and the verdict",
    )
    group.addoption(
        "--load-timeout",
        dest="deploycheck_load_timeout",
        type=float,
        default=3 * 3600,
        metavar="SECONDS",
        help="stop a load run that has not ended after this long (default: 3 hours)",
    )
    group.addoption(
        "--deploycheck-config",
        dest="deploycheck_config",
        metavar="PATH",
        default=os.environ.get("DEPLOYCHECK_CONFIG"),
        help="config file (also DEPLOYCHECK_CONFIG; default: deploycheck.toml, "
        "else [tool.deploycheck] in pyproject.toml, in the rootdir)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    try:
        context = _build_context(config)
    except ConfigError as exc:
        raise pytest.UsageError(f"deploycheck: {exc}") from None
    config.stash[CONTEXT] = context
    config.pluginmanager.register(_RunFindings(), _FINDINGS)
    if config.pluginmanager.has_plugin("base_url"):
        from pytest_deploycheck import base_url_override

        config.pluginmanager.register(base_url_override, "deploycheck-base-url")


def _build_context(config: pytest.Config) -> DeployContext:
    path = find_config(Path(config.rootpath), config.getoption("deploycheck_config"))
    config_file = load_config(path)
    origins = Origins()
    name = config.getoption("deploycheck_env")
    if name:
        origins.env = "--env" if _given_on_command_line(config, "--env") else "DEPLOYCHECK_ENV"
    base_url_option = config.getoption("base_url", None) or None  # pytest-base-url defaults to ""
    if not name and not base_url_option and config_file.default_env:
        name = config_file.default_env
        origins.env = f"default_env in {config_file.label}"
    env = None
    if name or base_url_option:
        env = resolve_env(
            config_file,
            name,
            base_url=base_url_option,
            expected_version=config.getoption("deploycheck_expect_version"),
        )
        origins.base_url = "--base-url" if base_url_option else f"env {env.name!r}"
        if not name:
            origins.env = "--base-url (ad hoc)"
        if config.getoption("deploycheck_expect_version"):
            origins.expected_version = "--expect-version"
        elif env.expected_version:
            origins.expected_version = f"env {env.name!r}"

    options = {
        "allow_destructive_option": config.getoption("deploycheck_allow_destructive"),
        "job_deadline_option": config.getoption("deploycheck_job_deadline"),
        "check_rate_limit": config.getoption("deploycheck_check_rate_limit"),
        "redactor": Redactor(env.secrets if env else ()),
    }
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        state_dir = workerinput.get(_WORKER_STATE_DIR)
        return DeployContext(
            config_file=config_file,
            env=env,
            origins=origins,
            state_dir=Path(state_dir) if state_dir else None,
            owner_pid=int(workerinput.get(_WORKER_OWNER_PID, os.getpid())),
            is_worker=True,
            run_id=str(workerinput.get(_WORKER_RUN_ID, "local")),
            **options,
        )
    state_dir = Path(tempfile.mkdtemp(prefix="deploycheck-")) if env is not None else None
    return DeployContext(
        config_file=config_file,
        env=env,
        origins=origins,
        state_dir=state_dir,
        owner_pid=os.getpid(),
        is_worker=False,
        run_id=uuid.uuid4().hex[:10],
        **options,
    )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: workers share the controller's embedded deployment."""
    context = node.config.stash.get(CONTEXT, None)
    if context is not None and context.state_dir is not None:
        node.workerinput[_WORKER_STATE_DIR] = str(context.state_dir)
        node.workerinput[_WORKER_OWNER_PID] = context.owner_pid
        node.workerinput[_WORKER_RUN_ID] = context.run_id


def pytest_report_header(config: pytest.Config) -> list[str]:
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    if context is None:
        return []
    source = str(context.config_file.path) if context.config_file.path else "none"
    env = context.env
    if env is None:
        return [f"deploycheck: no target selected (config: {source})"]
    target = (
        "embedded reference deployment (started on first use)" if env.is_embedded else env.base_url
    )
    version = env.expected_version or (
        "this package's version" if env.is_embedded else "not checked (no expected_version)"
    )
    allowed, why = context.destructive_allowed
    lines = [
        f"deploycheck: env={env.name} (from {context.origins.env}), "
        f"target={target} (from {context.origins.base_url}), api_prefix={env.api_prefix or '/'}",
        f"deploycheck: production={'yes' if env.production else 'no'}, "
        f"destructive checks={'allowed' if allowed else 'skipped'} ({why}), "
        f"expected version={version}"
        + (f" (from {context.origins.expected_version})" if env.expected_version else "")
        + f", config={source}",
    ]
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    if context is None:
        return
    allowed, why = context.destructive_allowed
    if allowed:
        return
    skip = pytest.mark.skip(reason=f"destructive: {why}")
    for item in items:
        if item.get_closest_marker("destructive"):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    context: DeployContext | None = item.config.stash.get(CONTEXT, None)
    if context is None:
        return report
    error = call.excinfo.value if call.excinfo is not None else None
    if report.failed and isinstance(error, DeployCheckError):
        # Our messages say what happened; a traceback through the plugin would only hide it.
        report.longrepr = str(error)
        if isinstance(error, TargetUnreachable):
            item.session.shouldfail = f"target unreachable: {error.cause or error}"
            report.user_properties.append((_UNREACHABLE, str(error)))
    if report.when == "call":
        for message in item.stash.get(RECOMMENDATIONS, []):
            report.user_properties.append((RECOMMENDATION, message))
        if item.stash.get(RECOMMENDATIONS, []):
            report.sections.append(
                ("deploycheck: recommendations", "\n".join(item.stash[RECOMMENDATIONS]))
            )
    start = item.stash.get(EXCHANGES_FROM, None)
    if start is not None and (report.when == "call" or report.failed):
        exchanges = context.exchanges[start:]
        if exchanges:
            shown = exchanges[-30:]
            text = "\n".join(exchange.render() for exchange in shown)
            if len(exchanges) > len(shown):
                text = f"({len(exchanges) - len(shown)} earlier exchanges not shown)\n" + text
            report.sections.append(("deploycheck: HTTP exchanges", text))
    _redact_report(report, context.redactor)
    return report


class _RunFindings:
    """On the reporting process (the controller under xdist): what the workers' reports carry.

    An unreachable target is a failed verdict (exit code 1) with or without xdist,
    which otherwise turns a worker's stop into "interrupted" (2); recommendations
    are collected for the terminal summary.
    """

    def __init__(self) -> None:
        self.unreachable: list[str] = []
        self.recommendations: list[tuple[str, str]] = []
        self.security: list[tuple[str, str, bool]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == _UNREACHABLE:
                self.unreachable.append(str(value))
            elif name == RECOMMENDATION:
                self.recommendations.append((report.nodeid, str(value)))
            elif name == REPORT_PROPERTY and report.when == "call":
                self.security.extend(
                    (item, level, ok) for item, level, ok in json.loads(str(value))
                )

    def security_grade(self) -> tuple[str, list[ItemGrade]] | None:
        return grade(self.security) if self.security else None

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str]
    ) -> None:
        """pytest-html: the security grade above the results table."""
        result = self.security_grade()
        if result is None:
            return
        headline, rows = result
        cells = "".join(
            f"<tr><td>{html.escape(r.status)}</td><td>{html.escape(r.item)}</td><td>{r.level}</td>"
            f"<td>{r.answers - r.failed} of {r.answers} checks pass</td></tr>"
            for r in rows
        )
        prefix.append(
            f"<h3>deploycheck: security grade</h3><p>{html.escape(headline)}</p><table>{cells}</table>"
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.unreachable and session.exitstatus == pytest.ExitCode.INTERRUPTED:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_sessionfinish(session: pytest.Session) -> None:
    context: DeployContext | None = session.config.stash.get(CONTEXT, None)
    if context is None or context.is_worker:
        return
    try:
        context.notes.extend(context.cleanup())
    except DeployCheckError as exc:
        context.notes.append(f"cleanup failed: {exc}")


def _redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """The last line of defence: no known secret leaves in a report (terminal, JUnit, HTML)."""
    if report.longrepr is not None:
        text = str(report.longrepr)
        if redactor.contains_secret(text):
            report.longrepr = redactor.text(text)
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    if context is None or context.is_worker:
        return
    from pytest_deploycheck import embedded

    findings: _RunFindings | None = config.pluginmanager.get_plugin(_FINDINGS)
    graded = findings.security_grade() if findings is not None else None
    if graded is not None:
        headline, rows = graded
        terminalreporter.section("deploycheck: security grade")
        terminalreporter.write_line(headline)
        for row in rows:
            terminalreporter.write_line(
                f"  {row.status:<8} {row.item:<26} {row.level:<12} {row.answers - row.failed} of {row.answers} checks pass",
                red=row.status == "FAIL",
                yellow=row.status == "warn",
            )
    if findings is not None and findings.recommendations:
        terminalreporter.section("deploycheck: recommendations (not failures)", yellow=True)
        for nodeid, message in findings.recommendations:
            terminalreporter.write_line(context.redactor.text(f"{nodeid}: {message}"), yellow=True)
    lines = list(context.notes)
    if context.state_dir is not None:
        deployment = embedded.read_state(context.state_dir)
        if deployment is not None:
            lines.append(
                f"embedded reference deployment ran at {deployment.url} (log: {deployment.log_path})"
            )
    if context.failure is not None:
        lines.append(str(context.failure))
    if lines:
        terminalreporter.section("deploycheck")
        for line in lines:
            terminalreporter.write_line(context.redactor.text(line))


def pytest_unconfigure(config: pytest.Config) -> None:
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    if context is None or context.is_worker or context.state_dir is None:
        return
    from pytest_deploycheck import embedded

    embedded.stop(context.state_dir)
    shutil.rmtree(context.state_dir, ignore_errors=True)


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise pytest.UsageError(f"--job-deadline takes seconds, e.g. 120; got {value!r}") from None
    if seconds <= 0:
        raise pytest.UsageError(f"--job-deadline must be more than 0 seconds; got {value!r}")
    return seconds


def _given_on_command_line(config: pytest.Config, option: str) -> bool:
    return any(
        arg == option or arg.startswith(option + "=") for arg in config.invocation_params.args
    )


def _base_url_plugin_active(pluginmanager: pytest.PytestPluginManager) -> bool:
    if pluginmanager.is_blocked("base_url"):
        return False
    if pluginmanager.has_plugin("base_url"):
        return True
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.name == "base_url" for ep in importlib.metadata.entry_points(group="pytest11"))
