"""The config's shape: every key an env may have, its default and its validation.

Models are frozen and forbid unknown keys, so a typo is an error that names
the key (see :mod:`.loader` for how errors are worded).
"""

from __future__ import annotations

import re
import string
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

EMBEDDED = "embedded"
ADHOC_ENV = "adhoc"
BUILTIN_LOCAL_ENV = "local"

# Values from ${VAR} are secrets and are redacted everywhere, except in these
# keys: a redacted base URL or expected version would make every message useless.
PUBLIC_KEYS = frozenset({"base_url", "api_prefix", "expected_version"})


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(s|m|min|h)?\s*$")


def parse_rate_limit(text: str) -> tuple[int, float]:
    """``"5/60s"`` -> ``(5, 60.0)``; ``"10/1m"`` -> ``(10, 60.0)``; ``"off"`` -> ``(0, 0.0)``."""
    if text.strip().lower() in ("off", "none", "0"):
        return 0, 0.0
    found = _RATE.match(text)
    if not found or not found.group(3) and not found.group(2):
        raise ValueError(f"must be like '5/60s', '10/1m' or 'off', got {text!r}")
    calls = int(found.group(1))
    amount = float(found.group(2) or 1)
    seconds = amount * {"s": 1, "m": 60, "min": 60, "h": 3600}[found.group(3) or "s"]
    if calls <= 0 or seconds <= 0:
        raise ValueError(f"must allow at least one call in a window longer than 0, got {text!r}")
    return calls, seconds


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Model):
    """Seconds; every request the plugin sends has all three."""

    connect: float = Field(5.0, gt=0, le=300)  # TCP connect, and the TLS handshake
    read: float = Field(10.0, gt=0, le=600)  # each wait for bytes
    total: float = Field(60.0, gt=0, le=3600)  # the whole exchange, however it trickles


class Limits(_Model):
    """Bytes of an answer's body the run reads before it stops and fails the check."""

    max_body_bytes: int = Field(10_000_000, gt=0)  # any answer (JSON answers are small)
    max_deck_bytes: int = Field(200_000_000, gt=0)  # a downloaded deck


class LatencyBudgets(_Model):
    """Milliseconds a single answer may take before a check fails."""

    health: int = Field(1000, gt=0)
    default: int = Field(2000, gt=0)


class HealthSettings(_Model):
    """How the target reports liveness, readiness and its version."""

    # Paths under api_prefix, or under the base URL with from_root (a /health at the root
    # while the API lives under /api). "" turns a check off: the service has no such endpoint.
    from_root: bool = False
    liveness_path: str = "/health"
    readiness_path: str = "/ready"
    info_path: str = "/info"
    status_field: str = "status"
    healthy_values: tuple[str, ...] = ("healthy", "ok", "pass", "up")
    ready_values: tuple[str, ...] = ("ready", "ok", "pass", "up")
    # Any other string field starting with one of these names a failing component
    # ("database": "unhealthy: connection refused").
    unhealthy_markers: tuple[str, ...] = ("unhealthy", "not ready", "down", "fail", "error")
    version_field: str = "version"  # a dotted path for a nested value: "build.version"


class AuthSettings(_Model):
    """A throwaway user (registered and deleted per run) or an existing account."""

    mode: Literal["throwaway", "account"] = "throwaway"
    email: str | None = None
    password: str | None = None
    # A second account, for "another user cannot read my job" on envs without throwaway users.
    second_email: str | None = None
    second_password: str | None = None
    # An existing account's username, for services that sign in with it ({username} in
    # auth.login_body); a throwaway user's is its generated handle.
    username: str | None = None
    second_username: str | None = None
    email_domain: str = "example.com"
    register_style: Literal["username", "full_name"] = "username"
    # Request bodies as templates: {email}, {password}, {username}, {display_name},
    # {refresh_token} are filled in. None: the Anki Compendium's shapes (register_style).
    login_body: dict[str, str] | None = None
    register_body: dict[str, str] | None = None
    refresh_body: dict[str, str] = Field(
        default_factory=lambda: {"refresh_token": "{refresh_token}"}
    )
    # "refresh_token": refresh_body is posted; "access_token": the access token is sent as
    # the Bearer and nothing else (services that hand out no refresh token).
    refresh_with: Literal["refresh_token", "access_token"] = "refresh_token"
    issues_refresh_token: bool = True  # the login answer must carry refresh_token_field
    access_token_field: str = "access_token"
    refresh_token_field: str = "refresh_token"
    # What a protected endpoint may answer without a token, and to a bad token or password.
    missing_token_statuses: tuple[int, ...] = (401,)
    refused_statuses: tuple[int, ...] = (401, 403)
    # After logout the access token should stop working: "warn" reports it as a
    # recommendation, "require" fails the check, "ignore" skips it.
    logout_revokes_token: Literal["warn", "require", "ignore"] = "warn"
    # The target's limit on register + login + refresh together, per client IP: "5/60s"
    # (the Anki Compendium's), "10/1m", or "off". The run paces its calls to stay within it.
    rate_limit: str = "5/60s"
    # The longest the run waits in all for the auth rate limit (pacing and Retry-After).
    rate_limit_wait_s: float = Field(130.0, ge=0)

    @field_validator("rate_limit")
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)
        return value

    @field_validator("login_body", "register_body")
    @classmethod
    def _check_body(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for template in (value or {}).values():
            check_placeholders(template, {"email", "password", "username", "display_name"})
        return value

    @field_validator("refresh_body")
    @classmethod
    def _check_refresh_body(cls, value: dict[str, str]) -> dict[str, str]:
        for template in value.values():
            check_placeholders(template, {"refresh_token"})
        return value

    @property
    def rate_limit_parsed(self) -> tuple[int, float]:
        """(calls, window in seconds); (0, 0) when there is no limit."""
        return parse_rate_limit(self.rate_limit)


class Paths(_Model):
    """API paths under ``api_prefix``; ``{job_id}`` and ``{deck_id}`` are filled in."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # "register" is a method of every pydantic model's metaclass: the key is an alias.
    register_: str = Field("/auth/register", alias="register")
    login: str = "/auth/login"
    refresh: str = "/auth/refresh"
    logout: str = "/auth/logout"
    me: str = "/auth/me"
    delete_account: str = "/user/account"
    upload: str = "/upload/"
    jobs: str = "/jobs/"
    job: str = "/jobs/{job_id}"
    job_status: str = "/jobs/{job_id}/status"
    decks: str = "/decks/"
    deck: str = "/decks/{deck_id}"
    deck_download: str = "/decks/{deck_id}/download"

    @field_validator("*")
    @classmethod
    def _check_template(cls, value: str, info: Any) -> str:
        # A job's and a deck's paths name it; the others are sent as written.
        ids = {"job_id", "deck_id"}
        named = info.field_name in ("job", "job_status", "deck", "deck_download")
        check_placeholders(value, ids if named else set())
        return value


class JourneySettings(_Model):
    """Upload -> job -> deck: deadlines, thresholds and the payload shapes."""

    job_deadline_s: float = Field(300.0, gt=0)  # the seeds: pipeline completion < 5 minutes
    poll_initial_s: float = Field(0.1, gt=0)
    poll_max_s: float = Field(5.0, gt=0)
    min_notes: int = Field(1, ge=0)
    sample_pdf: str | None = None  # a file to upload instead of the generated one
    upload_field: str = "file"
    upload_form: dict[str, str] = Field(
        default_factory=lambda: {"subject": "pytest-deploycheck", "chapter": "smoke run"}
    )
    job_id_field: str = "id"
    status_field: str = "status"
    deck_id_field: str = "result_deck_id"
    error_field: str = "error_message"
    download_url_field: str = "download_url"
    # Which id goes into paths.deck_download: the deck's (the code) or the job's (the guide).
    download_by: Literal["deck", "job"] = "deck"
    pending_values: tuple[str, ...] = ("pending", "queued")
    processing_values: tuple[str, ...] = ("processing", "running", "in_progress")
    completed_values: tuple[str, ...] = ("completed", "succeeded", "done")
    failed_values: tuple[str, ...] = ("failed", "error", "cancelled")
    check_status_endpoint: bool = True


Level = Literal["required", "recommended", "off"]


class SecuritySettings(_Model):
    """The header policy and the exposure and transport checks (see the docs, "Security")."""

    # Recommended items fail too.
    strict: bool = False
    # item -> level, overriding the defaults (policy.DEFAULT_LEVELS).
    levels: dict[str, Level] = Field(default_factory=dict)
    # item -> why the gap is accepted: reported as "accepted", never fails or warns.
    accepted: dict[str, str] = Field(default_factory=dict)
    hsts_min_age_s: int = Field(15_552_000, ge=0)  # six months
    hsts_include_subdomains: Level = "recommended"
    referrer_policies: tuple[str, ...] = (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    )
    cors_allowed_origins: tuple[str, ...] = ()
    untrusted_origin: str = "https://deploycheck-untrusted.example"
    # Consoles that must not be served on production (paths from the base URL).
    consoles: tuple[str, ...] = (
        "/docs",
        "/redoc",
        "/swagger",
        "/swagger-ui.html",
        "/graphiql",
        "/api-docs",
    )
    debug_paths: tuple[str, ...] = ("/debug", "/__debug__/", "/console", "/_profiler")
    cert_min_days: int = Field(14, ge=0)
    # Where plain http listens, to check it redirects (default: http:// on the same host).
    http_url: str | None = None
    # A path (under the API prefix) that answers 5xx without a token, safely, to check
    # that error answers carry the headers too.
    probe_5xx_path: str | None = None
    # Send the run's smoke user's token with it: the 5xx a real service gives may be behind
    # sign-in (the real service's GET /jobs/{id}/status).
    probe_5xx_signed_in: bool = False
    # A signed-in GET that must answer 4xx for invalid input (the 422 header probe).
    invalid_input_path: str = "/jobs/"
    invalid_input_params: dict[str, str] = Field(default_factory=lambda: {"page": "0"})
    # More signed-in GETs (under the API prefix) whose cookies are checked, e.g. where the
    # service sets its session cookie.
    cookie_paths: tuple[str, ...] = ()


Gap = Literal["off", "recommend", "require"]


class ContractSettings(_Model):
    """The API's own OpenAPI document, held to every answer the run receives."""

    # Where the target serves it, from the base URL ("" when it serves none in this env).
    openapi_path: str = "/openapi.json"
    # A local copy (JSON, or YAML with PyYAML installed) for targets that do not serve it;
    # it wins over openapi_path. Relative to the working directory.
    openapi_file: str | None = None
    # An error status the document does not declare (FastAPI declares only 2xx and 422, so
    # 401/403/404/429 are undeclared): a recommendation, a failure, or nothing.
    undeclared_errors: Gap = "recommend"


class PassiveSettings(_Model):
    """Analysers that examine every answer of the run (the docs, "Every answer is checked")."""

    contract: bool = True
    headers: bool = True
    leaks: bool = True


class OperationFilter(_Model):
    """Operations by path (regular expressions), method, tag or operationId; empty: any."""

    paths: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    operation_ids: tuple[str, ...] = ()


class FuzzSettings(_Model):
    """Schema fuzzing with schemathesis (the docs, "Schema fuzzing")."""

    examples: int = Field(25, ge=1, le=10_000)  # per operation, in a -m fuzz run
    time_budget_s: float = Field(120.0, gt=0)
    smoke_examples: int = Field(2, ge=1, le=1000)  # per operation, in the smoke subset
    smoke_time_budget_s: float = Field(10.0, gt=0)
    seed: int | None = None  # None: a new seed each run, printed so it can be replayed
    # Invalid data too (wrong types, out-of-range values), which must be refused with a 4xx.
    # Upstream's negative_data_rejection check has known false positives: switch it off here.
    negative: bool = True
    negative_data_rejection: bool = True
    rate_limit: str = "50/1s"  # fuzz requests, paced; "off" for none
    # Requests in flight at once (schemathesis' --workers): the next example is drawn while
    # the target answers; every answer is judged in the order drawn. 1: one at a time.
    workers: int = Field(4, ge=1, le=32)
    # The smoke subset in a process of its own, started with the run (Linux, no other
    # threads): generating examples then takes the machine's other core, not the checks'.
    ahead: bool = True
    # schemathesis' own filters (its --include-path, --exclude-tag …).
    include: OperationFilter = Field(default_factory=lambda: OperationFilter())
    exclude: OperationFilter = Field(default_factory=lambda: OperationFilter())
    # Never fuzzed unless included by name: the env's register, login, refresh (they spend
    # the auth rate limit), logout (ends the run's session) and account deletion.
    skip_auth_operations: bool = True
    # The deeper stateful run over the document's OpenAPI links (-m fuzz only).
    stateful: bool = False
    stateful_steps: int = Field(20, ge=1, le=1000)
    # Fewer operations fuzzed than this fails the check (0: a run that fuzzed none is a skip
    # that says why, never a pass).
    min_operations: int = Field(0, ge=0)

    @field_validator("rate_limit")
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)
        return value


class LoadStage(_Model):
    """Hold ``users`` (reached at ``spawn_rate`` per second) for ``duration_s``."""

    duration_s: float = Field(gt=0)
    users: int = Field(ge=0)
    spawn_rate: float = Field(10.0, gt=0)


class LoadProfileOverride(_Model):
    """Replace a profile's stages, or scale its users and stretch its duration."""

    stages: list[LoadStage] | None = None
    users: int | None = Field(None, ge=0)
    spawn_rate: float | None = Field(None, gt=0)
    duration_s: float | None = Field(None, gt=0)


class LoadSettings(_Model):
    """Load runs: success criteria and profile overrides (see the docs, "Load tests")."""

    # scope ("all", "GET /jobs/[id]", "time_to_deck") -> criterion or criteria.
    criteria: dict[str, str | list[str]] = Field(default_factory=dict)
    profiles: dict[str, LoadProfileOverride] = Field(default_factory=dict)
    # Stop the run when a criterion is already hopelessly breached (k6's abortOnFail).
    abort_on_breach: bool = False
    creator_weight: int = Field(1, ge=0)
    browser_weight: int = Field(10, ge=0)


class EmbeddedSettings(_Model):
    """Only for ``base_url = "embedded"``: how the plugin starts the reference deployment."""

    faults: tuple[str, ...] = ()
    settings: dict[str, str | int | float | bool | list[str]] = Field(default_factory=dict)
    startup_timeout: float = Field(30.0, gt=0)


# Connection schemes of testinfra's backends (testinfra.backend.BACKENDS), so a typo is a
# config error even where pytest-testinfra is not installed.
TESTINFRA_SCHEMES = frozenset(
    {
        "local", "ssh", "safe-ssh", "paramiko", "docker", "podman", "kubectl", "openshift",
        "ansible", "salt", "winrm", "lxc", "chroot",
    }
)  # fmt: skip


class InfraHost(_Model):
    """A host behind the deployment, in testinfra's own connection string, with its roles."""

    url: str  # "local://", "ssh://deploy@api-1:22", "docker://anki-worker", "kubectl://pod?namespace=x"
    roles: tuple[str, ...] = ()  # which role checks apply: infra.roles.<role>
    name: str | None = None  # the test id (default: the url without its query)
    # Where the run reaches the host from outside, for infra.not_exposed (default: the
    # url's host name for ssh/paramiko/safe-ssh; none for local, docker, kubectl …).
    address: str | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in TESTINFRA_SCHEMES:
            raise ValueError(
                f"must be a testinfra connection string like 'ssh://user@host', 'local://', "
                f"'docker://container' (schemes: {', '.join(sorted(TESTINFRA_SCHEMES))}), "
                f"got {value!r}"
            )
        return value

    @property
    def label(self) -> str:
        """How tests and messages name it: ``name``, else the url without its query and
        without a password (``ssh://deploy:${PW}@host`` shows as ``ssh://deploy@host``)."""
        if self.name:
            return self.name
        shown = self.url.split("?", 1)[0]
        scheme, _, rest = shown.partition("://")
        userinfo, at, hostpart = rest.rpartition("@")
        if at and ":" in userinfo:
            shown = f"{scheme}://{userinfo.split(':', 1)[0]}@{hostpart}"
        return shown

    @property
    def outside_address(self) -> str | None:
        if self.address is not None:
            return self.address or None
        parts = urlsplit(self.url)
        if parts.scheme in ("ssh", "safe-ssh", "paramiko"):
            return parts.hostname
        return None


class SecretFile(_Model):
    """A file that holds secrets: its owner, and the most its mode may allow ("600")."""

    path: str
    owner: str | None = None
    group: str | None = None
    mode: str = "600"

    @field_validator("mode")
    @classmethod
    def _check_mode(cls, value: str) -> str:
        if not re.fullmatch(r"0?[0-7]{3}", value):
            raise ValueError(f"must be an octal mode like '600' or '640', got {value!r}")
        return value.lstrip("0").rjust(3, "0")


class EnvFile(_Model):
    """A deployed env file (KEY=value lines) and settings it must have. Values are never shown
    unless they are the expected ones' plain opposites (DEBUG=true)."""

    path: str
    expect: dict[str, str] = Field(default_factory=lambda: {"DEBUG": "false"})


class InfraChecks(_Model):
    """What must hold on a host; under infra.checks (every host) or infra.roles.<role>."""

    services: tuple[str, ...] = ()  # running and enabled (systemd, SysV, OpenRC …)
    processes: tuple[str, ...] = ()  # running, by command name or a word of the command line
    # Listed processes that may run as root (everything else listed must not).
    root_allowed: tuple[str, ...] = ()
    listening: tuple[str, ...] = ()  # testinfra socket specs: "tcp://0.0.0.0:8000", "tcp://443"
    secret_files: tuple[SecretFile, ...] = ()
    env_files: tuple[EnvFile, ...] = ()
    cert_files: tuple[str, ...] = ()  # PEM certificates that must not expire within cert_min_days
    sshd_config: str | None = None  # e.g. "/etc/ssh/sshd_config": root login must be off
    # Replaces infra.not_exposed for these hosts (a db host serves 5432 to the API: [3000]).
    not_exposed: tuple[int, ...] | None = None


class InfraSettings(_Model):
    """Checks on the hosts behind the deployment (the docs, "Infrastructure checks")."""

    hosts: tuple[InfraHost, ...] = ()
    # Add the infra suite to a `-m smoke` run (otherwise only `-m infra` runs it).
    smoke: bool = False
    checks: InfraChecks = Field(default_factory=lambda: InfraChecks())
    roles: dict[str, InfraChecks] = Field(default_factory=dict)
    # Ports that must not be reachable from outside (the seeds: Grafana 3000, Prometheus
    # 9090; database and broker ports): on the host, nothing may listen on them on every
    # address or a public one (loopback and private networks are fine); from the run, a TCP
    # connect to the host's outside address must fail. A role's own not_exposed replaces it.
    not_exposed: tuple[int, ...] = (3000, 9090, 5432, 6379, 5672, 15672)
    disk_paths: tuple[str, ...] = ("/",)
    max_disk_used_percent: float = Field(90.0, gt=0, le=100)  # the seeds: < 10 % free alerts
    max_memory_used_percent: float = Field(90.0, gt=0, le=100)  # the seeds: > 90 % alerts
    cert_min_days: int = Field(14, ge=0)
    command_timeout_s: float = Field(30.0, gt=0)  # each command run on a host

    def checks_for(self, host: InfraHost) -> InfraChecks:
        """The checks that apply to ``host``: infra.checks and those of each of its roles."""
        merged: dict[str, Any] = self.checks.model_dump()
        for role in host.roles:
            extra = self.roles.get(role)
            if extra is None:
                continue
            for key, value in extra.model_dump().items():
                if value is None:
                    continue
                if isinstance(value, (list, tuple)) and merged[key] is not None:
                    merged[key] = (*merged[key], *value)  # lists add up across roles
                else:
                    merged[key] = value
        return InfraChecks.model_validate(merged)


class PostgresDependency(_Model):
    """The database: reachable, answering, and migrated to the code's head."""

    dsn: str  # "postgresql://anki:${DB_PASSWORD}@db:5432/anki"
    connect_timeout_s: float = Field(10.0, gt=0)
    version_table: str = "alembic_version"  # "" checks no migrations
    expected_head: str | None = None  # the revision the deployed code expects
    # Or read it on a host of this role from the deployed code (alembic's own "heads").
    heads_command: str | None = None  # e.g. "cd /srv/anki && alembic heads"
    heads_role: str = "api"
    # The schema against the deployed code's models, on the same host: migrations at head can
    # still build another schema than the models expect (the real Anki case). Exit 0: same.
    schema_check_command: str | None = None  # e.g. "cd /srv/anki && alembic check"


class RedisDependency(_Model):
    url: str  # "redis://:${REDIS_PASSWORD}@cache:6379/0"
    timeout_s: float = Field(10.0, gt=0)
    require_password: bool = True  # the seeds: REDIS_PASSWORD set; a PING without it is refused
    require_maxmemory: bool = True  # the seeds: Redis memory limit set
    max_memory_used_percent: float = Field(90.0, gt=0, le=100)


class RabbitMQDependency(_Model):
    """The broker, through its management API (the seeds' "queue depth")."""

    management_url: str  # "http://rabbitmq:15672"
    username: str = "guest"
    password: str = "guest"
    vhost: str = "/"
    queues: tuple[str, ...] = ()  # empty: every queue of the vhost
    max_messages: int = Field(100, ge=0)  # the seeds: > 100 pending alerts
    min_consumers: int = Field(1, ge=0)


class S3Dependency(_Model):
    """Object storage (S3, MinIO): the bucket exists and does not serve objects anonymously."""

    bucket: str
    endpoint_url: str | None = None  # MinIO: "http://minio:9000"; None: AWS
    region: str = "us-east-1"
    access_key: str | None = None
    secret_key: str | None = None
    # Write, read back and delete a small object (destructive: never on production unless
    # allowed).
    write_probe: bool = True
    probe_prefix: str = "deploycheck-probe/"
    timeout_s: float = Field(10.0, gt=0)


class MetricsDependency(_Model):
    """A Prometheus /metrics endpoint exposing the metric names dashboards rely on."""

    url: str | None = None  # default: the env's base URL + "/metrics"
    expected: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = None


class HttpDependency(_Model):
    """Any service with a health URL: Keycloak, MinIO, Grafana, Prometheus …"""

    name: str
    url: str  # "http://keycloak:8080/health/ready", "http://minio:9000/minio/health/live"
    statuses: tuple[int, ...] = (200,)
    contains: str | None = None  # text the body must hold ('"status": "UP"')


class DepsSettings(_Model):
    """The services behind the API (the docs, "Dependency checks")."""

    smoke: bool = False  # add the deps suite to a `-m smoke` run
    http: tuple[HttpDependency, ...] = ()
    postgres: PostgresDependency | None = None
    redis: RedisDependency | None = None
    rabbitmq: RabbitMQDependency | None = None
    s3: S3Dependency | None = None
    metrics: MetricsDependency | None = None


_CONDITION = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$")


def parse_condition(text: str) -> tuple[str, float]:
    """``"< 0.01"`` -> ``("<", 0.01)``: what every value of a query must meet."""
    found = _CONDITION.match(text)
    if not found:
        raise ValueError(
            f"must be a comparison with a number, like '< 0.01' or '>= 1', got {text!r}"
        )
    return found.group(1), float(found.group(2))


class PrometheusQuery(_Model):
    """A PromQL query that is a check of the watch window (as Argo Rollouts' Prometheus
    provider): it must return data, and every value must meet ``condition``."""

    name: str = Field(min_length=1)
    query: str = Field(min_length=1)
    condition: str | None = None  # "< 0.01"; none: the series must exist
    # The newest sample no older than this (seconds): a series that stopped being written
    # (a scrape that fails, a pushgateway no longer pushed to) is not fresh data.
    fresh_within_s: float | None = Field(None, gt=0)

    @field_validator("condition")
    @classmethod
    def _check_condition(cls, value: str | None) -> str | None:
        if value is not None:
            parse_condition(value)
        return value


class PrometheusServer(_Model):
    """A Prometheus server whose data about the target the watch checks every round."""

    url: str
    queries: tuple[PrometheusQuery, ...] = ()
    headers: dict[str, str] = Field(default_factory=dict)  # e.g. Authorization for a gateway


class WatchSettings(_Model):
    """The watch window after the smoke run (``--watch``; the docs, "Watching the first hours").

    The policy follows Argo Rollouts' AnalysisRun: a round fails when any of its checks
    fails; the watch is red once more than ``failure_limit`` rounds failed, or more than
    ``consecutive_failure_limit`` in a row; inconclusive when the target was unreachable for
    more than ``unreachable_limit`` rounds in a row, or fewer than ``min_rounds`` rounds ran.
    """

    every_s: float = Field(30.0, gt=0)  # --watch-every
    # --watch-journey-every: the journey again this often (destructive allowed); off unless
    # set, as every journey's deck counts against the account's quota.
    journey_every_s: float | None = Field(None, gt=0)
    failure_limit: int = Field(4, ge=0)
    consecutive_failure_limit: int = Field(2, ge=0)
    unreachable_limit: int = Field(4, ge=0)
    min_rounds: int = Field(3, ge=1)
    # The target's own metrics (deps.metrics' endpoint), read every round when set.
    memory_growth_limit_mb_per_hour: float = Field(50.0, gt=0)
    memory_judged_after_s: float = Field(600.0, gt=0)  # growth is judged over at least this
    error_ratio_limit: float = Field(0.01, ge=0, le=1)  # 5xx answers / all, per round
    requests_counter: str = "http_requests_total"
    status_label: str = "status"
    prometheus: PrometheusServer | None = None


class BaselineSettings(_Model):
    """Release over release (the docs, "Release over release"): every run is recorded in
    ``store``; a run is judged against the last green record of another version."""

    store: str | None = None  # a directory, or s3://bucket/prefix; --baseline overrides
    samples: int = Field(20, ge=2, le=1000)  # per read-only endpoint, taken after the checks
    min_samples: int = Field(10, ge=2)  # fewer on either side: inconclusive, said
    pace_per_s: float = Field(50.0, gt=0)  # the samples' pace
    confidence: float = Field(0.98, gt=0.5, lt=1)  # Kayenta's default
    allowed_increase_pct: float = Field(10.0, ge=0)  # effect floor, relative to the baseline
    allowed_increase_ms: float = Field(25.0, ge=0)  # effect floor, absolute
    allowed_error_increase_pct: float = Field(0.5, ge=0)  # 5xx share, percentage points
    endpoints: tuple[str, ...] = ()  # GET paths to sample; default: the document's, no ids


# RFC 9110's token: what a header name may be.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_placeholders(template: str, allowed: set[str]) -> None:
    """``{job_id}``-style placeholders in ``template`` are among ``allowed`` (a config error at
    start, not a KeyError in the middle of the run)."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:  # an unmatched "{" or "}"
        raise ValueError(
            f"{template!r} is not a valid template ({exc}); write {{{{ for a brace"
        ) from None
    unknown = sorted(names - allowed)
    if unknown:
        known = ", ".join(f"{{{a}}}" for a in sorted(allowed)) or "none"
        raise ValueError(
            f"{template!r} has the placeholder {{{unknown[0]}}}, which is never filled in "
            f"(known here: {known})"
        )


def without_password(url: str) -> str:
    """``https://smoke:s3cret@host`` -> ``https://smoke:[redacted]@host``."""
    if "@" not in url:
        return url
    parts = urlsplit(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    return parts._replace(netloc=f"{user}{colon}{'[redacted]' if colon else ''}@{host}").geturl()


class TargetEnv(_Model):
    """One named target environment, validated and with ``${VAR}`` expanded."""

    name: str
    base_url: str
    api_prefix: str = "/api/v1"
    production: bool = False
    allow_destructive: bool = False
    verify_tls: bool = True
    ca_bundle: str | None = None
    expected_version: str | None = None
    retries: int = Field(2, ge=0, le=5)
    headers: dict[str, str] = Field(default_factory=dict)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    limits: Limits = Field(default_factory=Limits)
    latency_ms: LatencyBudgets = Field(default_factory=LatencyBudgets)
    health: HealthSettings = Field(default_factory=HealthSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    paths: Paths = Field(default_factory=Paths)
    journey: JourneySettings = Field(default_factory=JourneySettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    load: LoadSettings = Field(default_factory=LoadSettings)
    contract: ContractSettings = Field(default_factory=ContractSettings)
    passive: PassiveSettings = Field(default_factory=PassiveSettings)
    fuzz: FuzzSettings = Field(default_factory=FuzzSettings)
    infra: InfraSettings = Field(default_factory=InfraSettings)
    deps: DepsSettings = Field(default_factory=DepsSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    baseline: BaselineSettings = Field(default_factory=BaselineSettings)
    embedded: EmbeddedSettings = Field(default_factory=EmbeddedSettings)
    # Switch shipped suites off for this env by their marker: { journey = false }.
    suites: dict[
        Literal["health", "auth", "journey", "security", "load", "fuzz", "infra", "deps"], bool
    ] = Field(default_factory=dict)

    # HTTP_PROXY, HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE and SSL_CERT_DIR are honoured as httpx
    # and curl do (a CI runner behind an egress proxy); false: ignored.
    trust_env: bool = True

    _secrets: frozenset[str] = PrivateAttr(default=frozenset())

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.strip()
        if value == EMBEDDED or "${" in value:
            # An unexpanded ${VAR}: checked once the env is selected and the variable set.
            return value
        parts = urlsplit(value)
        shown = without_password(value)  # a message never shows a password in the URL
        if parts.scheme not in ("http", "https") or not parts.netloc:
            hint = f"; did you mean 'https://{shown}'?" if "://" not in value else ""
            raise ValueError(
                f"must be 'embedded' or an absolute http:// or https:// URL, got {shown!r}{hint}"
            )
        try:
            parts.port  # noqa: B018  (parsing it is the check)
        except ValueError:
            raise ValueError(f"has a port out of range (1-65535), got {shown!r}") from None
        if not parts.hostname:
            raise ValueError(f"has no host name, got {shown!r}")
        return value.rstrip("/")

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a header name: letters, digits and !#$%&'*+-.^_`|~ only "
                    "(no spaces or colons)"
                )
            if not text.isascii() or not text.isprintable():
                raise ValueError(
                    f"header {name!r} must be printable ASCII (HTTP sends no other); "
                    "check for accents, smart quotes or a line break"
                )
        return value

    @field_validator("api_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            raise ValueError(f"must start with '/', got {value!r}")
        return value

    @property
    def is_embedded(self) -> bool:
        return self.base_url == EMBEDDED

    @property
    def secrets(self) -> frozenset[str]:
        """Values that came from ``${VAR}`` (outside :data:`PUBLIC_KEYS`), the passwords, and
        a password in the base URL's userinfo."""
        extra = {p for p in (self.auth.password, self.auth.second_password) if p}
        in_url = urlsplit(self.base_url).password if "@" in self.base_url else None
        return self._secrets | extra | ({in_url} if in_url else set())

    @property
    def shown_base_url(self) -> str:
        """The base URL as every output shows it: a password in it masked."""
        return without_password(self.base_url)

    @property
    def api_url(self) -> str:
        return self.base_url + self.api_prefix

    def health_url(self, path: str) -> str:
        """A health path as the ``http`` client takes it (absolute when ``health.from_root``)."""
        return self.base_url + path if self.health.from_root else path

    def with_overrides(self, **updates: Any) -> TargetEnv:
        """A validated copy with some keys replaced (e.g. from the command line)."""
        data = self.model_dump(by_alias=True, exclude_unset=True)  # keep what was set, as set
        data.update({k: v for k, v in updates.items() if v is not None})
        env = TargetEnv.model_validate(data)
        env._secrets = self._secrets
        return env
