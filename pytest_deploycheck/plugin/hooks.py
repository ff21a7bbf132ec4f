"""The pytest plugin: options, markers, the report header, and how failures are shown.

Loaded through the ``pytest11`` entry point. Fixtures live in
:mod:`pytest_deploycheck.plugin.fixtures`; what a run targets lives in
:mod:`pytest_deploycheck.plugin.context`.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import shutil
import signal
import tempfile
import threading
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from pytest_deploycheck.config import ConfigError, Requested, TargetEnv, resolve
from pytest_deploycheck.config.resolve import EnvCheck
from pytest_deploycheck.errors import CheckFailed, DeployCheckError, TargetUnreachable
from pytest_deploycheck.evidence.finding import internal_error
from pytest_deploycheck.evidence.review import write_exchanges
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.fixtures import (  # noqa: F401  (pytest finds fixtures by name here)
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
    deploy_host,
    examined,
    finished_job,
    http,
    other_user,
    recommend,
    sample_pdf,
    schema_fuzzer,
    smoke_user,
    uploaded_job,
)
from pytest_deploycheck.plugin.leftovers import ledger_path
from pytest_deploycheck.plugin.option_types import positive_seconds
from pytest_deploycheck.plugin.reporting import CAUSE, UNREACHABLE, RunReporting, redact_report
from pytest_deploycheck.plugin.verdict import Verdict, write_facts
from pytest_deploycheck.run.redaction import Redactor
from pytest_deploycheck.shipped import shipped

MARKERS = {
    "smoke": "a fast post-deploy check; `-m smoke` is the verdict on a deployment",
    "health": "liveness, readiness and version",
    "auth": "sign-up, sign-in, tokens",
    "journey": "a user's path through the product, end to end",
    "security": "security headers, CORS, exposure, transport",
    "fuzz": "schema-driven fuzzing of the API",
    "infra": "checks on the hosts behind the deployment (pytest-testinfra)",
    "deps": "checks of the services behind the API: database, cache, broker, storage, metrics",
    "load": "load profiles with success criteria",
    "destructive": "creates, changes or deletes data, or spends rate limits; "
    "skipped on production envs unless allowed",
    "waits_for_job": "needs the journey's finished job: runs after the checks that do not, "
    "while the job processes",
}

_WORKER_STATE_DIR = "deploycheck_state_dir"
_WORKER_OWNER_PID = "deploycheck_owner_pid"
_WORKER_RUN_ID = "deploycheck_run_id"
_WORKER_LEDGER = "deploycheck_ledger"
_WORKER_FAILURE = "deploycheck_failure"


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("deploycheck", "post-deploy checks (pytest-deploycheck)")
    group.addoption(
        "--env",
        dest="deploycheck_env",
        metavar="NAME",
        default=None,
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
        type=positive_seconds("--job-deadline"),
        default=None,
        help="how long a job may take to finish (overrides the env's journey.job_deadline_s)",
    )
    group.addoption(
        "--auth-rate-limit",
        dest="deploycheck_auth_rate_limit",
        metavar="CALLS/WINDOW",
        default=None,
        help="the target's limit on register + login + refresh together, e.g. 5/60s or off "
        "(also DEPLOYCHECK_AUTH_RATE_LIMIT; overrides the env's auth.rate_limit); "
        "the run paces its auth calls to stay within it",
    )
    group.addoption(
        "--check-rate-limit",
        action="store_true",
        dest="deploycheck_check_rate_limit",
        help="run the opt-in check that the auth rate limit exists (it spends this IP's auth "
        "budget for a minute; destructive)",
    )
    group.addoption(
        "--deploycheck-json",
        dest="deploycheck_json",
        metavar="PATH",
        default=None,
        help="write the verdict as JSON (verdict, causes, counts, timings, versions, cleanup) "
        "for dashboards and chat notifications",
    )
    group.addoption(
        "--wait-for-version",
        dest="deploycheck_wait_for_version",
        metavar="SECONDS",
        type=positive_seconds("--wait-for-version"),
        default=None,
        help="before any check, wait up to SECONDS for the info endpoint to report the expected "
        "version (a stage started during a rollout judges the new release)",
    )
    group.addoption(
        "--fuzz-seed",
        dest="deploycheck_fuzz_seed",
        metavar="N",
        type=int,
        default=None,
        help="the seed of schema fuzzing (overrides the env's fuzz.seed; printed by every run "
        "that fuzzes, so a failure can be replayed)",
    )
    group.addoption(
        "--passive-checks",
        dest="deploycheck_passive",
        choices=("on", "off"),
        default="on",
        help="examine every answer of the run against the contract, the header policy and the "
        "leak patterns at the end of the run (default: on; the env's passive.* switch each)",
    )
    group.addoption(
        "--no-shipped-suites",
        action="store_false",
        dest="deploycheck_shipped_suites",
        default=True,
        help="do not collect the shipped suites (they are collected when no test paths are "
        "given and a target is selected)",
    )
    group.addoption(
        "--deploycheck-config",
        dest="deploycheck_config",
        metavar="PATH",
        default=None,
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
    _check_rootdir_not_moved_by_config_path(config)
    config.stash[CONTEXT] = context
    _collect_the_shipped_suites(config, context)
    _end_like_ctrl_c_on_sigterm(config)
    _redact_every_log_record(config, context.redactor)
    _describe_the_target_in_metadata(config, context)
    if not context.is_worker:

        def show_progress(line: str) -> None:
            # From the main thread only, with capture suspended as pytest's live logs do:
            # a check's captured output must not swallow it.
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            capture = config.pluginmanager.get_plugin("capturemanager")
            if reporter is None or threading.current_thread() is not threading.main_thread():
                return
            with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                reporter.write_line(context.redactor.text(line), yellow=True)

        context.on_wait = show_progress
    config.pluginmanager.register(RunReporting(), RunReporting.NAME)
    if config.pluginmanager.has_plugin("base_url"):
        from pytest_deploycheck.plugin import base_url_override

        config.pluginmanager.register(base_url_override, "deploycheck-base-url")


def _collect_the_shipped_suites(config: pytest.Config, context: DeployContext) -> None:
    """In a team's own repository, ``pytest --env NAME -m smoke`` runs the shipped suites
    beside the team's tests; given test paths, pytest runs those only, as always."""
    if (
        context.env is None
        or not config.getoption("deploycheck_shipped_suites")
        or config.args_source == pytest.Config.ArgsSource.ARGS
    ):
        return
    suites = shipped("suites")
    if suites is None:
        return
    collected = [
        Path(config.invocation_params.dir, arg.split("::")[0]).resolve() for arg in config.args
    ]
    if any(suites == path or path in suites.parents for path in collected):
        return  # already collected (this repository's testpaths)
    config.args.append(str(suites))


def _check_rootdir_not_moved_by_config_path(config: pytest.Config) -> None:
    """pytest picks its rootdir before it knows plugin options, so in ``--deploycheck-config
    PATH`` it takes PATH for a test path and may root the run in the config's folder."""
    args = list(config.invocation_params.args)
    if "--deploycheck-config" not in args:
        return
    invoked = Path(config.invocation_params.dir).resolve()
    rootdir = Path(config.rootpath).resolve()
    if rootdir == invoked or rootdir in invoked.parents:
        return
    raise pytest.UsageError(
        f"deploycheck: '--deploycheck-config PATH' moved pytest's rootdir to {rootdir} (pytest "
        "reads the rootdir before it knows this option); write --deploycheck-config=PATH, or set "
        "DEPLOYCHECK_CONFIG=PATH"
    )


def _describe_the_target_in_metadata(config: pytest.Config, context: DeployContext) -> None:
    """pytest-html's Environment table (pytest-metadata) names what the run judged."""
    env = context.env
    if env is None or context.is_worker or not config.pluginmanager.has_plugin("metadata"):
        return
    from pytest_metadata.plugin import metadata_key

    metadata = config.stash[metadata_key]
    metadata["deploycheck env"] = f"{env.name} ({context.resolution.env_name.origin})"
    metadata["deploycheck target"] = (
        "embedded reference deployment" if env.is_embedded else env.base_url
    )
    metadata["deploycheck production"] = "yes" if env.production else "no"
    if context.resolution.expected_version.value:
        metadata["deploycheck expected version"] = str(context.resolution.expected_version.value)


def _redact_every_log_record(config: pytest.Config, redactor: Redactor) -> None:
    """Libraries log secrets (httpx logs signed links at INFO): redact every record as it is
    made, so captured logs, live logs, reports and JUnit never see them."""
    previous = logging.getLogRecordFactory()

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's to report, not ours
            return record
        shown = redactor.text(message)
        if shown != message:
            record.msg, record.args = shown, None
        return record

    def restore() -> None:
        logging.setLogRecordFactory(previous)

    logging.setLogRecordFactory(make_record)
    config.add_cleanup(restore)


def _end_like_ctrl_c_on_sigterm(config: pytest.Config) -> None:
    """CI stops a job with SIGTERM: end the run as Ctrl-C does (cleanup, summary, exit 2)."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def interrupt(signum: int, frame: object) -> None:
        # Once is enough: a second SIGTERM must not cut the cleanup short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt("SIGTERM: the run was cancelled")

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    signal.signal(signal.SIGTERM, interrupt)
    config.add_cleanup(restore)


def _selected_env_checks() -> tuple[EnvCheck, ...]:
    from pytest_deploycheck.load.criteria import check_load_settings
    from pytest_deploycheck.run.embedded import run_checks

    return (*run_checks(), check_load_settings)


def _build_context(config: pytest.Config) -> DeployContext:
    option = config.getoption
    resolution = resolve(
        Requested(
            env=option("deploycheck_env"),
            base_url=option("base_url", None) or None,  # pytest-base-url defaults to ""
            expected_version=option("deploycheck_expect_version"),
            config_path=option("deploycheck_config"),
            allow_destructive=option("deploycheck_allow_destructive"),
            job_deadline_s=option("deploycheck_job_deadline"),
            load_profile=option("deploycheck_load_profile", None),
            auth_rate_limit=option("deploycheck_auth_rate_limit"),
            checks=_selected_env_checks(),
        ),
        rootdir=Path(config.rootpath),
    )
    env = resolution.env
    common: dict[str, Any] = {
        "resolution": resolution,
        "check_rate_limit": option("deploycheck_check_rate_limit"),
        "redactor": Redactor(env.secrets if env else ()),
    }
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        state_dir = workerinput.get(_WORKER_STATE_DIR)
        ledger = workerinput.get(_WORKER_LEDGER)
        failure = workerinput.get(_WORKER_FAILURE)
        return DeployContext(
            failure=CheckFailed(failure) if failure else None,
            state_dir=Path(state_dir) if state_dir else None,
            owner_pid=int(workerinput.get(_WORKER_OWNER_PID, os.getpid())),
            is_worker=True,
            run_id=str(workerinput.get(_WORKER_RUN_ID, "local")),
            ledger=Path(ledger) if ledger else None,
            **common,
        )
    state_dir = Path(tempfile.mkdtemp(prefix="deploycheck-")) if env is not None else None
    run_id = uuid.uuid4().hex[:10]
    return DeployContext(
        state_dir=state_dir,
        owner_pid=os.getpid(),
        is_worker=False,
        run_id=run_id,
        # An embedded deployment goes with the run: nothing of it can be left behind.
        ledger=ledger_path(Path(config.rootpath), env.name, run_id)
        if env is not None and not env.is_embedded
        else None,
        **common,
    )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: workers share the controller's embedded deployment."""
    context = node.config.stash.get(CONTEXT, None)
    if context is not None and context.state_dir is not None:
        node.workerinput[_WORKER_STATE_DIR] = str(context.state_dir)
        node.workerinput[_WORKER_OWNER_PID] = context.owner_pid
        node.workerinput[_WORKER_RUN_ID] = context.run_id
        node.workerinput[_WORKER_LEDGER] = str(context.ledger) if context.ledger else None
        if context.failure is not None:
            node.workerinput[_WORKER_FAILURE] = str(context.failure)


def pytest_report_header(config: pytest.Config) -> list[str]:
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    if context is None:
        return []
    resolution = context.resolution
    env = context.env
    if env is None:
        return [f"deploycheck: no target selected (config: {resolution.config_source})"]
    target = (
        "embedded reference deployment (started on first use)" if env.is_embedded else env.base_url
    )
    expected = resolution.expected_version
    if expected.value:
        version = str(expected)
    elif env.is_embedded:
        version = "this package's version (the embedded deployment's)"
    else:
        version = "not checked (no expected_version)"
    allowed, why = context.destructive_allowed
    prefix = f", api_prefix={env.api_prefix}" if env.api_prefix else ", api_prefix=(none)"
    return [
        f"deploycheck: env={env.name} (from {resolution.env_name.origin}), "
        f"target={target} (from {resolution.base_url.origin}){prefix}",
        f"deploycheck: production={'yes' if env.production else 'no'}, "
        f"destructive checks={'allowed' if allowed else 'skipped'} ({why}), "
        f"expected version={version}, config={resolution.config_source}",
    ]


# The order that lets the run wait on the target, not on itself: checks that spend the
# auth rate limit (and may have to wait for its window) run while the journey's job
# processes in the background; checks that wait for the job run last.
_SPENDS_AUTH = frozenset({"auth_api", "refreshed_token"})
_WAITS_FOR_JOB = frozenset({"finished_job", "deck", "deck_report"})


def _run_order(item: pytest.Item) -> int:
    names = set(getattr(item, "fixturenames", ()))
    if names & _WAITS_FOR_JOB or item.get_closest_marker("waits_for_job"):
        return 2
    return 1 if names & _SPENDS_AUTH else 0


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``deploy_host`` runs a check once per host: testinfra's ``--hosts`` when given (as
    testinfra users expect), else the env's ``infra.hosts``."""
    if "deploy_host" not in metafunc.fixturenames:
        return
    from pytest_deploycheck.infra.hosts import hosts_to_check

    context: DeployContext | None = metafunc.config.stash.get(CONTEXT, None)
    env = context.env if context is not None else None
    option = metafunc.config.getoption
    try:
        hosts = (
            hosts_to_check(env, option("hosts", None), option("connection", None)) if env else []
        )
    except ConfigError as exc:  # a --hosts entry that is no testinfra connection string
        raise pytest.UsageError(f"deploycheck: {exc}") from None
    metafunc.parametrize(
        "deploy_host",
        hosts or [None],
        ids=[host.label for host in hosts] or ["no-hosts"],
        indirect=True,
        scope="module",
    )


@pytest.hookimpl(tryfirst=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_add_enabled_suites_to_smoke(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """The infra and deps suites join ``-m smoke`` only where the env says so (infra.smoke,
    deps.smoke): before pytest selects by marker."""
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    env = context.env if context is not None else None
    if env is None:
        return
    joining = [name for name, on in (("infra", env.infra.smoke), ("deps", env.deps.smoke)) if on]
    for item in items:
        if any(item.get_closest_marker(name) for name in joining):
            item.add_marker(pytest.mark.smoke)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    if context is None:
        return
    if context.env is None and any(
        {"deploy_env", "deploy_env_unprobed"} & set(getattr(item, "fixturenames", ()))
        for item in items
    ):
        raise pytest.UsageError(
            "deploycheck: no target selected: pass --env NAME (known: "
            + ", ".join(context.config_file.env_names())
            + "), set default_env in the config, or pass --base-url URL"
        )
    env = context.env
    switched_off = sorted(name for name, on in (env.suites if env else {}).items() if not on)
    if env is not None and switched_off:
        for item in items:
            off = [name for name in switched_off if item.get_closest_marker(name)]
            if off:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"suite {off[0]!r} is off for env {env.name!r} (suites.{off[0]} = false)"
                    )
                )
    allowed, why = context.destructive_allowed
    if not allowed:
        skip = pytest.mark.skip(reason=f"destructive: {why}")
        for item in items:
            if item.get_closest_marker("destructive"):
                item.add_marker(skip)
    items.sort(key=_run_order)


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    """Say up front what the auth rate limit will cost this run."""
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    if context is None or context.env is None or context.is_worker:
        return []
    lines = []
    if any(item.get_closest_marker("fuzz") for item in items):
        from pytest_deploycheck.plugin.fixtures import fuzz_seed

        seed = fuzz_seed(config)
        lines.append(f"deploycheck: schema fuzzing seed {seed} (replay with --fuzz-seed {seed})")
    calls = planned_auth_calls(context.env, items)
    limit, window = context.env.auth.rate_limit_parsed
    if not calls:
        return lines
    if not limit:
        return [*lines, f"deploycheck: {calls} auth calls planned (auth.rate_limit = 'off')"]
    windows = max(0, -(-(calls - limit) // limit))
    wait = f"expected wait about {windows * window:.0f} s" if windows else "no wait expected"
    return [
        *lines,
        f"deploycheck: {calls} auth calls planned within the target's limit of "
        f"{limit}/{window:g}s: {wait}",
    ]


def planned_auth_calls(env: TargetEnv, items: list[pytest.Item]) -> int:
    """Register, login and refresh calls the selected checks will spend."""
    runnable = [item for item in items if not item.get_closest_marker("skip")]
    needs: dict[str, int] = {}
    for item in runnable:
        for name in getattr(item, "fixturenames", ()):
            needs[name] = needs.get(name, 0) + 1
    throwaway = not env.production and env.auth.mode == "throwaway"
    sign_in = 2 if throwaway else 1
    calls = sign_in if "smoke_user" in needs else 0
    if "other_user" in needs and (throwaway or env.auth.second_email):
        calls += sign_in
    calls += needs.get("auth_api", 0) + (1 if "refreshed_token" in needs else 0)
    return calls


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """--wait-for-version, on the controller, before any worker or check starts."""
    config = session.config
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    seconds = config.getoption("deploycheck_wait_for_version", None)
    if context is None or context.is_worker or not seconds or context.env is None:
        return
    from pytest_deploycheck.run.rollout import wait_for_version

    try:
        target = context.reach()
        wait_for_version(target, context.redactor, seconds, on_progress=context.on_wait)
    except DeployCheckError as exc:
        context.failure = exc  # the first check fails with it; the run stops there


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    """Start the journey's upload ahead when a selected, runnable check needs its job."""
    context: DeployContext | None = session.config.stash.get(CONTEXT, None)
    if context is not None and context.env is not None and not session.config.option.collectonly:
        distributed = session.config.pluginmanager.has_plugin("dsession")  # xdist counts its own
        if session.config.getoption("deploycheck_passive") == "on" and not distributed:
            from pytest_deploycheck.evidence import ANALYSERS

            # The passive checks report at the end: the progress counts them from the start.
            session.testscollected += len(ANALYSERS)
        runnable = [item for item in session.items if not item.get_closest_marker("skip")]
        needs = frozenset(name for item in runnable for name in getattr(item, "fixturenames", ()))
        if "uploaded_job" in needs:
            context.journey_ahead.start(needs)
    return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Where this check's exchanges begin: a failing fixture's exchanges explain its error."""
    context: DeployContext | None = item.config.stash.get(CONTEXT, None)
    if context is not None:
        item.stash[EXCHANGES_FROM] = len(context.exchanges)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    context: DeployContext | None = item.config.stash.get(CONTEXT, None)
    if context is None:
        return report
    error = call.excinfo.value if call.excinfo is not None else None
    if report.failed and error is not None and _raised_by_the_plugin(call.excinfo, item):
        # A bug of ours (a KeyError in a fixture): a failure that names it, not the target.
        message = internal_error(f"{item.nodeid} ({report.when})", error)
        report.longrepr = message
        report.user_properties.append((CAUSE, message.split(";", 1)[0]))
    elif report.failed and isinstance(error, DeployCheckError):
        # Our messages say what happened; a traceback through the plugin would only hide it.
        report.longrepr = str(error)
        if isinstance(error, CheckFailed) and error.cause:
            report.user_properties.append((CAUSE, error.cause))
        if error is context.failure and not isinstance(error, TargetUnreachable):
            item.session.shouldfail = str(error)  # --wait-for-version: nothing else to judge
        if isinstance(error, TargetUnreachable):
            item.session.shouldfail = f"target unreachable: {error.cause or error}"
            report.user_properties.append((UNREACHABLE, str(error)))
    recommendations: list[str] = item.stash.get(RECOMMENDATIONS, [])
    if report.when == "call" and recommendations:
        for message in recommendations:
            report.user_properties.append((RECOMMENDATION, message))
        report.sections.append(("deploycheck: recommendations", "\n".join(recommendations)))
    start = item.stash.get(EXCHANGES_FROM, None)
    if start is not None and (report.when == "call" or report.failed):
        exchanges = context.exchanges[start:]
        if exchanges:
            shown = exchanges[-30:]
            text = "\n".join(exchange.render() for exchange in shown)
            if len(exchanges) > len(shown):
                text = f"({len(exchanges) - len(shown)} earlier exchanges not shown)\n" + text
            report.sections.append(("deploycheck: HTTP exchanges", text))
    redact_report(report, context.redactor)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Before JUnit and HTML are written: clean up, then decide the verdict they carry."""
    config = session.config
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    if context is None:
        return
    context.stop_background()
    state_dir = context.state_dir if context.state_dir and context.state_dir.is_dir() else None
    if state_dir is not None:
        write_facts(state_dir, os.getpid(), context.run_facts())
    if context.is_worker:
        if state_dir is not None:
            write_exchanges(state_dir, context.exchanges)
        return
    try:
        context.notes.extend(context.cleanup())
    except DeployCheckError as exc:
        context.notes.append(f"cleanup failed: {exc}")
    if state_dir is not None:
        write_exchanges(state_dir, context.exchanges)  # the controller's, the cleanup's included
    reporting: RunReporting | None = config.pluginmanager.get_plugin(RunReporting.NAME)
    if reporting is None or context.env is None:
        return
    _review_every_answer(session, context, reporting)
    verdict = reporting.decide(session, context)
    session.exitstatus = verdict.exit_code
    _publish(config, verdict, context)


def _review_every_answer(
    session: pytest.Session, context: DeployContext, reporting: RunReporting
) -> None:
    """The passive analysers, once the checks and the cleanup are done (not for a cancelled
    or unreachable run: there is no verdict on the answers to give)."""
    if session.exitstatus == pytest.ExitCode.INTERRUPTED or reporting.unreachable:
        return
    if context.failure is not None or session.config.option.collectonly:
        return
    if session.config.getoption("deploycheck_passive") == "off":
        return
    from pytest_deploycheck.plugin.passive import review_the_run

    review_the_run(session, context)  # a bug of ours there fails its checks, naming it


def _raised_by_the_plugin(
    excinfo: pytest.ExceptionInfo[BaseException] | None, item: pytest.Item
) -> bool:
    """An exception that is no verdict on the target (not an assertion, a check's failure or a
    skip) whose nearest frame of code written for the run, going outwards from where it was
    raised and past the libraries it went through, is the plugin's (its package or a shipped
    suite), not the check file's own."""
    if excinfo is None or isinstance(
        excinfo.value,
        (AssertionError, DeployCheckError, KeyboardInterrupt, pytest.skip.Exception),
    ):
        return False
    if isinstance(excinfo.value, (pytest.fail.Exception, pytest.exit.Exception)):
        return False
    ours = str(Path(__file__).resolve().parent.parent)
    suites = shipped("suites")
    frames = []
    tb: TracebackType | None = excinfo.tb
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    for filename in reversed(frames):
        resolved = str(Path(filename).resolve())
        if resolved.startswith(ours) or (suites is not None and resolved.startswith(str(suites))):
            return True
        if Path(resolved) == Path(str(item.path)).resolve() or "conftest" in resolved:
            return False  # the team's own check or fixture
    return False


def _publish(config: pytest.Config, verdict: Verdict, context: DeployContext) -> None:
    """JUnit's run properties and the JSON summary: the verdict where machines read it."""
    from _pytest.junitxml import xml_key

    redact = context.redactor.text
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        properties = {
            "deploycheck_verdict": verdict.verdict,
            "deploycheck_env": verdict.env,
            "deploycheck_target": verdict.target,
            "deploycheck_production": "yes" if verdict.production else "no",
            "deploycheck_expected_version": verdict.expected_version,
            "deploycheck_deployed_version": verdict.deployed_version,
            "deploycheck_plugin_version": verdict.plugin_version,
        }
        for name, value in properties.items():
            if value is not None:
                xml.add_global_property(name, redact(str(value)))
        for number, cause in enumerate(verdict.causes, 1):
            xml.add_global_property(
                f"deploycheck_cause_{number}",
                redact(f"{cause.summary} ({len(cause.checks)} checks)"),
            )
        for recommendation in verdict.recommendations:
            xml.add_global_property("deploycheck_recommendation", redact(recommendation))
    path = config.getoption("deploycheck_json")
    if path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(redact(verdict.to_json()))


def pytest_unconfigure(config: pytest.Config) -> None:
    context: DeployContext | None = config.stash.get(CONTEXT, None)
    if context is None or context.is_worker or context.state_dir is None:
        return
    from pytest_deploycheck.run import embedded

    embedded.stop(context.state_dir)
    embedded.keep_log(context.state_dir, context.run_id)
    shutil.rmtree(context.state_dir, ignore_errors=True)


def _base_url_plugin_active(pluginmanager: pytest.PytestPluginManager) -> bool:
    if pluginmanager.is_blocked("base_url"):
        return False
    if pluginmanager.has_plugin("base_url"):
        return True
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.name == "base_url" for ep in importlib.metadata.entry_points(group="pytest11"))
