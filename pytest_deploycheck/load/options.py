"""The load run's options, written once: pytest's flags (``plugin.load_options``) and
Locust's (``load.locust.events``) are both built from :data:`OPTIONS`, and the names that
``resolve()`` uses in its messages under Locust (:data:`LOCUST_FLAGS`) are Locust's own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "switch", "seconds", "count", "number"]


@dataclass(frozen=True)
class LoadOption:
    """One option; ``pytest`` / ``locust`` is its flag on that side (None: not there)."""

    dest: str  # pytest: deploycheck_<dest>; Locust: <dest>
    help: str
    pytest: str | None = None
    locust: str | None = None
    kind: Kind = "text"
    default: object = None
    metavar: str | None = None


OPTIONS: tuple[LoadOption, ...] = (
    LoadOption(
        "load_profile",
        "the load profile: smoke, baseline, stress, spike, soak (default: smoke)",
        pytest="--load-profile",
        locust="--load-profile",
        metavar="NAME",
    ),
    LoadOption(
        "load_processes",
        "run Locust as a master with N local worker processes (default: one process)",
        pytest="--load-processes",
        kind="count",
        default=0,
        metavar="N",
    ),
    LoadOption(
        "load_artifacts",
        "where the load run writes Locust's HTML report, CSV statistics and the verdict",
        pytest="--load-artifacts",
        metavar="DIR",
    ),
    LoadOption(
        "load_timeout",
        "stop a load run that has not ended after this long (default: 3 hours)",
        pytest="--load-timeout",
        kind="seconds",
        default=3 * 3600,
        metavar="SECONDS",
    ),
    # Under pytest these are the main plugin's own (--env, --deploycheck-config,
    # --allow-destructive): the load run is given what pytest resolved.
    LoadOption("env", "target env (also DEPLOYCHECK_ENV)", locust="--deploycheck-env"),
    LoadOption(
        "config_path", "config file (also DEPLOYCHECK_CONFIG)", locust="--deploycheck-config"
    ),
    LoadOption(
        "allow_destructive",
        "let the users that create data (the creators) run against an env marked production",
        locust="--allow-destructive",
        kind="switch",
        default=False,
    ),
    LoadOption("results", "write the verdict as JSON to this file", locust="--deploycheck-results"),
    LoadOption(
        "request",
        "the request pytest resolved (a file, load/request.py): nothing is resolved again",
        locust="--deploycheck-request",
    ),
    LoadOption(
        "progress_interval",
        "seconds between progress lines",
        locust="--progress-interval",
        kind="number",
        default=10.0,
    ),
)


def locust_flag(dest: str) -> str:
    return next(o.locust for o in OPTIONS if o.dest == dest and o.locust)


# How resolve() names each setting in its messages under Locust: Locust's own flags, and for
# what Locust has no flag for, where it comes from instead.
LOCUST_FLAGS = {
    "env": locust_flag("env"),
    "base_url": "--host",
    "expected_version": "the env's expected_version",
    "config_path": locust_flag("config_path"),
    "allow_destructive": locust_flag("allow_destructive"),
    "job_deadline_s": "the env's journey.job_deadline_s",
    "load_profile": locust_flag("load_profile"),
    "auth_rate_limit": "DEPLOYCHECK_AUTH_RATE_LIMIT",
}
