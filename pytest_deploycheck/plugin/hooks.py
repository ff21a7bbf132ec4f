"""The pytest plugin's entry point (``pytest11``): options, markers, and the run's objects
registered at configure.

- :mod:`.options`: the ``deploycheck`` option group and the markers;
- :mod:`.setup`: the run's context built from the options and the config;
- :mod:`.session`: :class:`~.session.DeployRun`, the run owner's hooks;
- :mod:`.collection`: hosts, suites, destructive skips, the run order;
- :mod:`.xdist`: the hand-off to pytest-xdist workers (when installed);
- :mod:`.reporting` and :mod:`.verdict`: what the run says, in every output;
- :mod:`.fixtures`: the fixtures, imported here so pytest finds them.
"""

from __future__ import annotations

import contextlib
import threading

import pytest

from pytest_deploycheck.config import ConfigError
from pytest_deploycheck.plugin import options, setup
from pytest_deploycheck.plugin.collection import Collection
from pytest_deploycheck.plugin.fixtures import (  # noqa: F401  (pytest finds fixtures by name here)
    CONTEXT,
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
from pytest_deploycheck.plugin.options import MARKERS
from pytest_deploycheck.plugin.reporting import RunReporting
from pytest_deploycheck.plugin.session import DeployRun


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    options.add_options(parser, pluginmanager)


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    try:
        context = setup.build_context(config)
    except ConfigError as exc:
        raise pytest.UsageError(f"deploycheck: {exc}") from None
    setup.check_rootdir_not_moved_by_config_path(config)
    config.stash[CONTEXT] = context  # for the fixtures (deploy_context)
    setup.collect_the_shipped_suites(config, context)
    setup.end_like_ctrl_c_on_sigterm(config)
    setup.redact_every_log_record(config, context.redactor)
    setup.describe_the_target_in_metadata(config, context)
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
    config.pluginmanager.register(DeployRun(context), DeployRun.NAME)
    config.pluginmanager.register(Collection(context), "deploycheck-collection")
    if config.pluginmanager.has_plugin("xdist"):
        from pytest_deploycheck.plugin.xdist import XdistHooks

        config.pluginmanager.register(XdistHooks(context), XdistHooks.NAME)
    config.pluginmanager.register(RunReporting(), RunReporting.NAME)
    watch_options = (
        "deploycheck_watch",
        "deploycheck_watch_every",
        "deploycheck_watch_metrics",
        "deploycheck_watch_journey_every",
    )
    if not context.is_worker and any(config.getoption(o, None) for o in watch_options):
        from pytest_deploycheck.plugin.watch import WatchLoop, watch_window

        window = watch_window(config, context.env)
        if window is not None:
            listen = config.getoption("deploycheck_watch_metrics", None)
            config.pluginmanager.register(
                WatchLoop(context, config, window, listen), WatchLoop.NAME
            )
    baseline = config.getoption("deploycheck_baseline", None) or (
        context.env.baseline.store if context.env is not None else None
    )
    if baseline and not context.is_worker and context.env is not None:
        from pytest_deploycheck.baseline.store import open_store
        from pytest_deploycheck.plugin.baseline import BaselineRun

        try:
            store = open_store(baseline)
        except ConfigError as exc:
            raise pytest.UsageError(f"deploycheck: {exc}") from None
        config.pluginmanager.register(BaselineRun(context, store), BaselineRun.NAME)
    if config.pluginmanager.has_plugin("base_url"):
        from pytest_deploycheck.plugin import base_url_override

        config.pluginmanager.register(base_url_override, "deploycheck-base-url")
