"""Setting up a run at configure: its context (the env resolved, a controller's or a
worker's), the shipped suites collected, SIGTERM ended as Ctrl-C, every log record redacted,
the target named in pytest-html's Environment table."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from pytest_deploycheck.config import Requested, resolve
from pytest_deploycheck.config.resolve import EnvCheck
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.leftovers import ledger_path
from pytest_deploycheck.run.redaction import Redactor
from pytest_deploycheck.shipped import shipped


def selected_env_checks() -> tuple[EnvCheck, ...]:
    from pytest_deploycheck.load.criteria import check_load_settings
    from pytest_deploycheck.run.embedded import run_checks

    return (*run_checks(), check_load_settings)


def build_context(config: pytest.Config) -> DeployContext:
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
            checks=selected_env_checks(),
        ),
        rootdir=Path(config.rootpath),
        invocation_dir=Path(config.invocation_params.dir),
    )
    env = resolution.env
    common: dict[str, Any] = {
        "resolution": resolution,
        "check_rate_limit": option("deploycheck_check_rate_limit"),
        "redactor": Redactor(env.secrets if env else ()),
    }
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        from pytest_deploycheck.plugin.xdist import worker_run

        return DeployContext(**worker_run(workerinput), **common)
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


def collect_the_shipped_suites(config: pytest.Config, context: DeployContext) -> None:
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


def check_rootdir_not_moved_by_config_path(config: pytest.Config) -> None:
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


def describe_the_target_in_metadata(config: pytest.Config, context: DeployContext) -> None:
    """pytest-html's Environment table (pytest-metadata) names what the run judged."""
    env = context.env
    if env is None or context.is_worker or not config.pluginmanager.has_plugin("metadata"):
        return
    from pytest_metadata.plugin import metadata_key

    metadata = config.stash[metadata_key]
    metadata["deploycheck env"] = f"{env.name} ({context.resolution.env_name.origin})"
    metadata["deploycheck target"] = (
        "embedded reference deployment" if env.is_embedded else env.shown_base_url
    )
    metadata["deploycheck production"] = "yes" if env.production else "no"
    if context.resolution.expected_version.value:
        metadata["deploycheck expected version"] = str(context.resolution.expected_version.value)


def redact_every_log_record(config: pytest.Config, redactor: Redactor) -> None:
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


def end_like_ctrl_c_on_sigterm(config: pytest.Config) -> None:
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
