"""pytest-deploycheck: tells a team, minutes after a deploy, whether it really works.

This module is the public API: everything the shipped suites and a team's own
checks import comes from here (guarded by ``tests/test_public_api.py``).
A locustfile imports from :mod:`pytest_deploycheck.locust` instead, because
Locust's gevent must never be imported into pytest.

The package, for a reader of its source, from the top layer down (the layers are
import-linter contracts in pyproject.toml)::

    plugin/     the pytest plugin: hooks (entry point), options, setup, session (the run
                owner), collection, xdist, context, fixtures, passive, reporting, verdict
    load/       load options, criteria, statistics, profiles; locust/ for the Locust side
    fuzz/       schema fuzzing with schemathesis, through the run's client
    infra/      checks on the hosts behind the deployment, through testinfra
    deps/       checks of the services behind the API: database, cache, broker, storage
    evidence/   the passive analysers over every answer: contract, headers, leaks
    checks/     what is checked: health, decks, security/ (policy, cookies, exposure, tls)
    target/     drivers of the target's API: accounts, journey, sample PDF
    run/        the recorded HTTP client (bounded on every connection), expectations,
                pacing, store, redaction, the embedded deployment's lifecycle, work
                forked ahead
    config/     the config's shape, reading it, one precedence resolver
    reference/  the embedded reference deployment (never imported by the plugin)
"""

from pytest_deploycheck._version import __version__
from pytest_deploycheck.checks.apkg import DeckReport, validate_apkg
from pytest_deploycheck.checks.health import expect_status_value
from pytest_deploycheck.checks.security.cookies import missing_protections, parse_set_cookie
from pytest_deploycheck.checks.security.exposure import Landing, follow_within, leaks
from pytest_deploycheck.checks.security.policy import REPORT_PROPERTY as SECURITY_PROPERTY
from pytest_deploycheck.checks.security.policy import evaluate as evaluate_headers
from pytest_deploycheck.checks.security.tls import inspect_certificate, legacy_protocol_accepted
from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.deps.http_services import check_http_services
from pytest_deploycheck.deps.metrics import check_metrics
from pytest_deploycheck.deps.postgres import (
    check_postgres_answers,
    check_postgres_migrated,
    parse_alembic_heads,
)
from pytest_deploycheck.deps.rabbitmq import check_rabbitmq_queues
from pytest_deploycheck.deps.redis_cache import check_redis
from pytest_deploycheck.deps.s3 import (
    check_bucket_exists,
    check_bucket_not_public,
    check_bucket_write_read_delete,
)
from pytest_deploycheck.errors import (
    CheckFailed,
    ConfigError,
    DeployCheckError,
    TargetUnreachable,
)
from pytest_deploycheck.fuzz.fuzzer import SchemaFuzzer
from pytest_deploycheck.infra.capacity import check_disk, check_memory
from pytest_deploycheck.infra.files import (
    check_cert_file,
    check_env_file,
    check_secret_file,
    check_sshd_root_login,
)
from pytest_deploycheck.infra.hosts import DeployHost
from pytest_deploycheck.infra.ports import (
    check_listening,
    listening_beyond_internal,
    reachable_from_here,
)
from pytest_deploycheck.infra.processes import check_processes, check_services
from pytest_deploycheck.load.criteria import Criterion as LoadCriterion
from pytest_deploycheck.load.criteria import parse_all as parse_load_criteria
from pytest_deploycheck.load.request import LoadRequest
from pytest_deploycheck.load.run import LoadRun, run_locust
from pytest_deploycheck.plugin.context import DeployContext
from pytest_deploycheck.plugin.fixtures import connect_host, deploy_context
from pytest_deploycheck.run.client import DeployClient, Exchange
from pytest_deploycheck.run.expect import (
    describe,
    excerpt,
    expect_latency,
    expect_no_problems,
    expect_status,
    json_body,
    json_field,
)
from pytest_deploycheck.run.redaction import Redactor
from pytest_deploycheck.run.store import RunUser
from pytest_deploycheck.target.accounts import AuthApi, login_payload
from pytest_deploycheck.target.journey import (
    DownloadedDeck,
    JobRun,
    UploadedJob,
    deck_id_of,
    unsigned,
    without_query,
)
from pytest_deploycheck.target.sample_pdf import make_pdf

__all__ = [
    "AuthApi",
    "CheckFailed",
    "ConfigError",
    "DeckReport",
    "DeployCheckError",
    "DeployClient",
    "DeployContext",
    "DeployHost",
    "DownloadedDeck",
    "Exchange",
    "JobRun",
    "Landing",
    "LoadCriterion",
    "LoadRequest",
    "LoadRun",
    "Redactor",
    "RunUser",
    "SECURITY_PROPERTY",
    "SchemaFuzzer",
    "TargetEnv",
    "TargetUnreachable",
    "UploadedJob",
    "__version__",
    "check_bucket_exists",
    "check_bucket_not_public",
    "check_bucket_write_read_delete",
    "check_cert_file",
    "check_disk",
    "check_env_file",
    "check_http_services",
    "check_listening",
    "check_memory",
    "check_metrics",
    "check_postgres_answers",
    "check_postgres_migrated",
    "check_processes",
    "check_rabbitmq_queues",
    "check_redis",
    "check_secret_file",
    "check_services",
    "check_sshd_root_login",
    "connect_host",
    "deck_id_of",
    "deploy_context",
    "describe",
    "evaluate_headers",
    "excerpt",
    "expect_latency",
    "expect_no_problems",
    "expect_status",
    "expect_status_value",
    "follow_within",
    "inspect_certificate",
    "json_body",
    "json_field",
    "leaks",
    "legacy_protocol_accepted",
    "listening_beyond_internal",
    "login_payload",
    "make_pdf",
    "missing_protections",
    "parse_alembic_heads",
    "parse_load_criteria",
    "parse_set_cookie",
    "reachable_from_here",
    "run_locust",
    "unsigned",
    "validate_apkg",
    "without_query",
]
