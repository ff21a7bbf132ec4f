"""The plugin's command-line options and markers (the entry point registers them)."""

from __future__ import annotations

import importlib.metadata
import os

import pytest

from pytest_deploycheck.plugin.option_types import duration, listen_address, positive_seconds

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
    "watch": "watch(False): a read-only check the watch window (--watch) does not repeat",
    "waits_for_job": "needs the journey's finished job: runs after the checks that do not, "
    "while the job processes",
}


def add_options(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """The ``deploycheck`` option group (``pytest --help`` documents each option)."""
    group = parser.getgroup("deploycheck", "post-deploy checks (pytest-deploycheck)")
    group.addoption(
        "--env",
        dest="deploycheck_env",
        metavar="NAME",
        default=None,
        help="target environment from deploycheck.toml (also DEPLOYCHECK_ENV); "
        "'local' starts the embedded reference deployment",
    )
    if not base_url_plugin_active(pluginmanager):
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
        "--watch",
        dest="deploycheck_watch",
        metavar="DURATION",
        type=duration("--watch"),
        default=None,
        help="after a green run, watch the deployment for DURATION (30m, 2h): its read-only "
        "checks again every --watch-every, the passive checks over every new answer, the "
        "target's metrics; GREEN, RED (exit 1) or INCONCLUSIVE (exit 7)",
    )
    group.addoption(
        "--watch-every",
        dest="deploycheck_watch_every",
        metavar="INTERVAL",
        type=duration("--watch-every"),
        default=None,
        help="time between the watch's rounds (default: the env's watch.every_s, 30s)",
    )
    group.addoption(
        "--watch-journey-every",
        dest="deploycheck_watch_journey_every",
        metavar="INTERVAL",
        type=duration("--watch-journey-every"),
        default=None,
        help="where destructive checks are allowed and the run's journey passed, the watch "
        "runs the journey (upload, job, deck) again this often (default: the env's "
        "watch.journey_every_s; off when unset: each deck counts against the account's "
        "quota); its data is cleaned up at the end",
    )
    group.addoption(
        "--watch-metrics-port",
        dest="deploycheck_watch_metrics",
        metavar="[ADDRESS:]PORT",
        type=listen_address("--watch-metrics-port"),
        default=None,
        help="serve the watch's own metrics (Prometheus text) while it runs, on 127.0.0.1 "
        "unless ADDRESS is given (0.0.0.0:9464 to be scraped from elsewhere)",
    )
    group.addoption(
        "--baseline",
        dest="deploycheck_baseline",
        metavar="PATH",
        default=None,
        help="record this run in PATH (a directory, or s3://bucket/prefix) and judge it "
        "against the last green record of another version: latency per read-only endpoint, "
        "5xx share, the API document (overrides the env's baseline.store)",
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


def base_url_plugin_active(pluginmanager: pytest.PytestPluginManager) -> bool:
    if pluginmanager.is_blocked("base_url"):
        return False
    if pluginmanager.has_plugin("base_url"):
        return True
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.name == "base_url" for ep in importlib.metadata.entry_points(group="pytest11"))
