"""Collection: hosts as parameters, suites switched off or joining smoke, destructive checks
skipped where not allowed, the run order, and what the auth rate limit will cost."""

from __future__ import annotations

import pytest

from pytest_deploycheck.config import ConfigError, TargetEnv
from pytest_deploycheck.plugin.context import DeployContext

# The order that lets the run wait on the target, not on itself: checks that spend the
# auth rate limit (and may have to wait for its window) run while the journey's job
# processes in the background; checks that wait for the job run last.
_SPENDS_AUTH = frozenset({"auth_api", "refreshed_token"})
_WAITS_FOR_JOB = frozenset({"finished_job", "deck", "deck_report"})
EMBEDDED_FOR_LOAD = {"auth_rate_limit": 0, "cards_limit_month": 1_000_000}


def run_order(item: pytest.Item) -> float:
    """0: the others; 1: checks that spend the auth rate limit; 2: checks that wait for the job
    (the smoke subset's fuzzing, when forked ahead, runs between: see fuzz_ahead)."""
    names = set(getattr(item, "fixturenames", ()))
    if names & _WAITS_FOR_JOB or item.get_closest_marker("waits_for_job"):
        return 2
    return 1 if names & _SPENDS_AUTH else 0


class Collection:
    """The collection hooks of one run (registered at configure)."""

    def __init__(self, context: DeployContext) -> None:
        self.context = context

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """A load run against the embedded deployment: it starts once, for the whole run, with
        a load's settings (no auth limit, no card quota); the Locust process is handed it."""
        env = self.context.env
        if env is None or not env.is_embedded:
            return
        if any(item.get_closest_marker("load") for item in session.items):
            self.context.embedded_overrides.update(EMBEDDED_FOR_LOAD)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """``deploy_host`` runs a check once per host: testinfra's ``--hosts`` when given (as
        testinfra users expect), else the env's ``infra.hosts``."""
        if "deploy_host" not in metafunc.fixturenames:
            return
        from pytest_deploycheck.infra.hosts import hosts_to_check

        env = self.context.env
        option = metafunc.config.getoption
        try:
            hosts = (
                hosts_to_check(env, option("hosts", None), option("connection", None))
                if env
                else []
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
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """The infra and deps suites join ``-m smoke`` only where the env says so (infra.smoke,
        deps.smoke): before pytest selects by marker."""
        env = self.context.env
        if env is None:
            return
        joining = [
            name for name, on in (("infra", env.infra.smoke), ("deps", env.deps.smoke)) if on
        ]
        for item in items:
            if any(item.get_closest_marker(name) for name in joining):
                item.add_marker(pytest.mark.smoke)

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        context = self.context
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
        items.sort(key=run_order)

    def pytest_report_collectionfinish(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> list[str]:
        """Say up front what the auth rate limit will cost this run."""
        context = self.context
        if context.env is None or context.is_worker:
            return []
        lines = []
        if any(item.get_closest_marker("fuzz") for item in items):
            from pytest_deploycheck.plugin.fixtures import fuzz_seed

            seed = fuzz_seed(config)
            lines.append(
                f"deploycheck: schema fuzzing seed {seed} (replay with --fuzz-seed {seed})"
            )
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
