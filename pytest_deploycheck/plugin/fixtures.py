"""The fixtures users' tests and the shipped suites build on.

deploy_env     the target environment, resolved and reachable (session)
deploy_env_unprobed  the same without the reachability probe (session)
base_url       its base URL, e.g. https://api.example.com (session)
http           an HTTP client bound to the env's API prefix, recorded (per test)
smoke_user     the run's signed-in user; one login per run, xdist included (session)
other_user     a second user, for "others cannot read my data" (session)
auth_api       the auth endpoints, spending the rate limit carefully (per test)
sample_pdf     a small valid PDF with real sentences (session)
uploaded_job   the sample PDF uploaded as the smoke user (session)
finished_job   that job followed to its end within the deadline (session)
deck           the finished job's downloaded .apkg (session)
deck_report    the deck validated down to Anki's own import (session)
recommend      report a recommended-level finding without failing (per test)
deploy_host    a host behind the deployment, through testinfra; parametrised over the env's
               infra.hosts or testinfra's --hosts (per module)
schema_fuzzer  schemathesis against the target's OpenAPI document, bounded (per test)
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_deploycheck.checks.apkg import DeckReport, validate_apkg
from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.config.schema import InfraHost
from pytest_deploycheck.infra.hosts import TESTINFRA_OPTIONS, DeployHost
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.journey_ahead import sample_pdf_for
from pytest_deploycheck.properties import EXAMINED, FUZZ
from pytest_deploycheck.run.client import DeployClient
from pytest_deploycheck.run.store import RunUser
from pytest_deploycheck.target import journey
from pytest_deploycheck.target.accounts import AuthApi

if TYPE_CHECKING:
    from pytest_deploycheck.fuzz.fuzzer import SchemaFuzzer

CONTEXT = pytest.StashKey[DeployContext]()
EXCHANGES_FROM = pytest.StashKey[int]()
RECOMMENDATIONS = pytest.StashKey[list[str]]()
HOSTS = pytest.StashKey[dict[str, DeployHost]]()


class DeployCheckWarning(UserWarning):
    """A recommended-level finding: worth fixing, not a failed deployment."""


def deploy_context(config: pytest.Config) -> DeployContext:
    """This run's :class:`DeployContext` (for plugins and fixtures built on this one)."""
    return config.stash[CONTEXT]


@pytest.fixture(scope="session")
def deploy_env(request: pytest.FixtureRequest) -> TargetEnv:
    """The target environment: resolved, read-only, reachable (starts the embedded deployment)."""
    return deploy_context(request.config).reach()


@pytest.fixture(scope="session")
def deploy_env_unprobed(request: pytest.FixtureRequest) -> TargetEnv:
    """The target environment without the reachability probe: for checks of the transport
    itself, and of the hosts and services behind the API (which judge it without its HTTP)."""
    context = deploy_context(request.config)
    if context.env is None:
        return context.reach()  # raises "no target selected"
    context.facts["judged"] = True  # a verdict is due even if the API is never asked
    return context.target or context.env


@pytest.fixture(scope="module")
def deploy_host(request: pytest.FixtureRequest, deploy_env_unprobed: TargetEnv) -> DeployHost:
    """A host behind the deployment with the checks of its roles; ``.testinfra`` is testinfra's
    own ``Host``. Parametrised over the env's ``infra.hosts``, or testinfra's ``--hosts``."""
    spec: InfraHost | None = getattr(request, "param", None)
    if spec is None:
        pytest.skip(
            f"env {deploy_env_unprobed.name!r} lists no hosts (infra.hosts), and no --hosts given"
        )
    return connect_host(request.config, deploy_env_unprobed, spec)


def connect_host(config: pytest.Config, env: TargetEnv, spec: InfraHost) -> DeployHost:
    """The run's one :class:`DeployHost` for ``spec`` (connected on first use)."""
    hosts = config.stash.setdefault(HOSTS, {})
    if spec.url not in hosts:
        options = {name: config.getoption(name, None) for name in TESTINFRA_OPTIONS}
        hosts[spec.url] = DeployHost(
            spec, env.infra.checks_for(spec), env.infra.command_timeout_s, options
        )
        config.add_cleanup(hosts[spec.url].close)
    return hosts[spec.url]


@pytest.fixture(scope="session")
def base_url(deploy_env: TargetEnv) -> str:
    """The target's base URL (without the API prefix)."""
    return deploy_env.base_url


@pytest.fixture
def http(request: pytest.FixtureRequest, deploy_env: TargetEnv) -> Iterator[DeployClient]:
    """An httpx client for the target's API (base URL + api_prefix), with timeouts and a redacted record."""
    context = deploy_context(request.config)
    request.node.stash.setdefault(EXCHANGES_FROM, len(context.exchanges))
    with context.client() as client:
        yield client


@pytest.fixture(scope="session")
def _deploycheck_session_client(
    request: pytest.FixtureRequest, deploy_env: TargetEnv
) -> Iterator[DeployClient]:
    with deploy_context(request.config).client() as client:
        yield client


@pytest.fixture
def auth_api(request: pytest.FixtureRequest, http: DeployClient, deploy_env: TargetEnv) -> AuthApi:
    """The target's auth endpoints, paced to the run's auth budget and retried after a 429."""
    return AuthApi(http, deploy_env, deploy_context(request.config).auth_budget)


@pytest.fixture(scope="session")
def smoke_user(
    request: pytest.FixtureRequest, _deploycheck_session_client: DeployClient, deploy_env: TargetEnv
) -> RunUser:
    """The run's signed-in user: a throwaway one (deleted at the end) or, on production, the smoke account."""
    return deploy_context(request.config).run_user("smoke", _deploycheck_session_client)


@pytest.fixture(scope="session")
def other_user(
    request: pytest.FixtureRequest, _deploycheck_session_client: DeployClient, deploy_env: TargetEnv
) -> RunUser:
    """A second user, to prove one user cannot read another's data; skipped where none is configured."""
    auth = deploy_env.auth
    if (deploy_env.production or auth.mode == "account") and not (
        auth.second_email and auth.second_password
    ):
        pytest.skip(
            f"env {deploy_env.name!r} registers no throwaway users and has no second account "
            "(auth.second_email / auth.second_password)"
        )
    return deploy_context(request.config).run_user("other", _deploycheck_session_client)


@pytest.fixture(scope="session")
def sample_pdf(request: pytest.FixtureRequest, deploy_env: TargetEnv) -> bytes:
    """A small valid PDF with real sentences (or the env's journey.sample_pdf file)."""
    return sample_pdf_for(deploy_context(request.config))


@pytest.fixture(scope="session")
def uploaded_job(
    request: pytest.FixtureRequest, deploy_env: TargetEnv, smoke_user: RunUser
) -> journey.UploadedJob:
    """The sample PDF uploaded as the smoke user (uploaded ahead, at the start of the run; deleted at the end)."""
    return deploy_context(request.config).journey_ahead.uploaded()


@pytest.fixture(scope="session")
def finished_job(
    request: pytest.FixtureRequest, uploaded_job: journey.UploadedJob
) -> journey.JobRun:
    """The uploaded job followed to a finished state within the deadline, with the states seen."""
    return deploy_context(request.config).journey_ahead.finished()


@pytest.fixture(scope="session")
def deck(
    request: pytest.FixtureRequest,
    _deploycheck_session_client: DeployClient,
    deploy_env: TargetEnv,
    smoke_user: RunUser,
    finished_job: journey.JobRun,
) -> journey.DownloadedDeck:
    """The finished job's .apkg, downloaded either way the API offers it (a link, or the file)."""
    ahead = deploy_context(request.config).journey_ahead.deck()
    if ahead is not None:
        return ahead
    return journey.download(_deploycheck_session_client, deploy_env, smoke_user, finished_job)


@pytest.fixture(scope="session")
def deck_report(
    request: pytest.FixtureRequest, deploy_env: TargetEnv, deck: journey.DownloadedDeck
) -> DeckReport:
    """The deck validated: archive, collection, notes, cards, and an import with Anki's own engine."""
    ahead = deploy_context(request.config).journey_ahead.deck_report()
    if ahead is not None:
        return ahead
    report = validate_apkg(
        deck.content, min_notes=deploy_env.journey.min_notes, content_type=deck.content_type
    )
    deploy_context(request.config).facts["deck"] = report.summary()
    return report


@pytest.fixture
def schema_fuzzer(
    request: pytest.FixtureRequest, deploy_env: TargetEnv, recommend: Callable[[str], None]
) -> SchemaFuzzer:
    """schemathesis against the target's OpenAPI document, through the run's client: read-only
    on production, bounded by the env's fuzz budget, with the run's seed and smoke user."""
    from pytest_deploycheck.fuzz.fuzzer import SchemaFuzzer

    context = deploy_context(request.config)
    if importlib.util.find_spec("schemathesis") is None:  # imported where it fuzzes
        pytest.skip("schema fuzzing needs schemathesis: pip install 'pytest-deploycheck[fuzz]'")
    if not (deploy_env.contract.openapi_path or deploy_env.contract.openapi_file):
        pytest.skip(
            f"env {deploy_env.name!r} has no OpenAPI document (contract.openapi_path is empty "
            "and no contract.openapi_file)"
        )

    def sign_in() -> str:
        return str(request.getfixturevalue("smoke_user").access_token)

    def section(text: str) -> None:
        request.node.user_properties.append((FUZZ, text))
        request.node.add_report_section("call", "deploycheck: schema fuzzing", text)

    def looked_at(what: str) -> None:
        note_examined(request.node, what)

    return SchemaFuzzer(
        context,
        sign_in,
        fuzz_seed(request.config),
        recommend,
        section,
        examined=looked_at,
        ahead=context.fuzz_ahead.result,
    )


def fuzz_seed(config: pytest.Config) -> int:
    """--fuzz-seed, else the env's fuzz.seed, else one drawn from the run's id (the same in
    every xdist worker), so a failure can be replayed."""
    chosen = config.getoption("deploycheck_fuzz_seed", None)
    if chosen is not None:
        return int(chosen)
    context = deploy_context(config)
    if context.env is not None and context.env.fuzz.seed is not None:
        return context.env.fuzz.seed
    try:
        return int(context.run_id, 16) % (2**32)
    except ValueError:
        return 0


@pytest.fixture
def examined(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Say what the check examined ("5 error answers judged"): a green must have looked."""

    def record(what: str) -> None:
        note_examined(request.node, what)

    return record


def note_examined(node: pytest.Item, what: str) -> None:
    """What ``node`` examined, as a report section and a property (the ``examined`` fixture)."""
    node.user_properties.append((EXAMINED, what))
    node.add_report_section("call", "deploycheck: examined", what)


@pytest.fixture
def recommend(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Report a recommended-level finding: a warning in the summary and the report, not a failure."""

    def record(message: str) -> None:
        request.node.stash.setdefault(RECOMMENDATIONS, []).append(message)
        # Attributed to the check, wherever it was found (a check, or the fuzzer for it).
        _, line, _ = request.node.location
        warnings.warn_explicit(
            DeployCheckWarning(message),
            DeployCheckWarning,
            filename=str(request.node.path),
            lineno=(line or 0) + 1,
        )

    return record
