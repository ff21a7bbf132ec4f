"""The deps suite against real servers the tests start on 127.0.0.1: PostgreSQL, Redis and
RabbitMQ from Debian's packages, moto's S3 server, and the reference deployment's /metrics.
Each check passes when the dependency is right and fails naming the cause when it is not."""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Reference, SuiteProject, assert_no_plugin_traceback
from tests.infra_servers import Postgres, RabbitMQ, postgres_server, rabbitmq_server, redis_server
from tests.servers import free_port

HEAD, OLD = "b2c3d4e5f6a7", "a1b2c3d4e5f6"


def env(body: str, base_url: str = "http://127.0.0.1:9") -> str:
    return f'[envs.deps]\nbase_url = "{base_url}"\n' + body


def run_deps(
    project: SuiteProject,
    body: str,
    *args: str,
    base_url: str = "http://127.0.0.1:9",
    **secrets: str,
) -> pytest.RunResult:
    project.config(env(body, base_url))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in secrets.items():
            patch.setenv(name, value)
        return project.run("--env", "deps", "test_dependencies.py", "-rs", *args)


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg() -> Iterator[Postgres]:
    pytest.importorskip("psycopg", reason="needs psycopg (the deps extra)")
    with postgres_server() as server:
        import psycopg

        with psycopg.connect(server.dsn(), autocommit=True) as connection:
            for name, revision in (("at_head", HEAD), ("behind", OLD)):
                connection.execute(f"CREATE DATABASE {name}")
                with psycopg.connect(server.dsn(database=name), autocommit=True) as db:
                    db.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
                    db.execute("INSERT INTO alembic_version VALUES (%s)", (revision,))
            connection.execute("CREATE DATABASE never_migrated")
        yield server


def pg_dsn(pg: Postgres, database: str) -> str:
    return f"postgresql://postgres:${{PG_PASSWORD}}@127.0.0.1:{pg.port}/{database}"


def test_postgres_at_the_expected_head_passes(suite_project: SuiteProject, pg: Postgres) -> None:
    body = f'deps.postgres = {{ dsn = "{pg_dsn(pg, "at_head")}", expected_head = "{HEAD}" }}\n'
    result = run_deps(suite_project, body, "-k", "postgres", PG_PASSWORD=pg.password)
    result.assert_outcomes(passed=2, skipped=1)  # no schema_check_command


def test_postgres_behind_the_code_fails_naming_both_heads(
    suite_project: SuiteProject, pg: Postgres
) -> None:
    body = f'deps.postgres = {{ dsn = "{pg_dsn(pg, "behind")}", expected_head = "{HEAD}" }}\n'
    result = run_deps(suite_project, body, "-k", "postgres", PG_PASSWORD=pg.password)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            f"*the database is at alembic revision '{OLD}', but the deployed code's head is '{HEAD}'*(alembic upgrade head)*"
        ]
    )
    assert pg.password not in result.stdout.str()


def test_postgres_never_migrated_fails(suite_project: SuiteProject, pg: Postgres) -> None:
    body = f'deps.postgres = {{ dsn = "{pg_dsn(pg, "never_migrated")}" }}\n'
    result = run_deps(suite_project, body, "-k", "migrated", PG_PASSWORD=pg.password)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*there is no alembic_version table: the migrations never ran*"])


MODELS = """
from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()
decks = Table("decks", metadata, Column("id", Integer, primary_key=True), Column("title", String(200)))
"""


@pytest.fixture(scope="module")
def deployed_code(pg: Postgres) -> Iterator[Path]:
    """The deployed code, as alembic sees it: a project with two revisions (head: HEAD) and
    models with a ``decks`` table; databases where that table matches and where it drifted."""
    pytest.importorskip("alembic", reason="needs alembic")
    pytest.importorskip("testinfra", reason="needs pytest-testinfra")
    import psycopg

    code = Path(tempfile.mkdtemp(prefix="deploycheck-code-"))
    alembic = [sys.executable, "-m", "alembic"]
    subprocess.run([*alembic, "init", "migrations"], cwd=code, check=True, capture_output=True)
    env_py = code / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text()
        .replace("target_metadata = None", "from models import metadata as target_metadata")
        .replace("config = context.config", "config = context.config\nimport os\nconfig.set_main_option('sqlalchemy.url', os.environ.get('DATABASE_URL', ''))")
    )  # fmt: skip
    (code / "models.py").write_text(MODELS)
    for revision, down in ((OLD, None), (HEAD, OLD)):
        subprocess.run(
            [*alembic, "revision", "-m", f"r{revision}", "--rev-id", revision, *(["--head", down] if down else [])],
            cwd=code, check=True, capture_output=True,
        )  # fmt: skip
    with psycopg.connect(pg.dsn(), autocommit=True) as connection:
        for name, columns in (
            ("schema_ok", "id integer PRIMARY KEY, title varchar(200)"),
            ("schema_drift", "id integer PRIMARY KEY"),
        ):
            connection.execute(f"CREATE DATABASE {name}")
            with psycopg.connect(pg.dsn(database=name), autocommit=True) as db:
                db.execute(f"CREATE TABLE decks ({columns})")
                db.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
                db.execute("INSERT INTO alembic_version VALUES (%s)", (HEAD,))
    yield code
    shutil.rmtree(code, ignore_errors=True)


def test_postgres_head_read_from_the_deployed_code_on_a_host(
    suite_project: SuiteProject, pg: Postgres, deployed_code: Path
) -> None:
    """``alembic heads`` (alembic itself) run on the api host, over testinfra, in the code."""
    command = f"cd {deployed_code} && {sys.executable} -m alembic heads"
    for database, passes in (("at_head", True), ("behind", False)):
        body = (
            f'infra.hosts = [{{ url = "local://", roles = ["api"], name = "api-1" }}]\n'
            f'deps.postgres = {{ dsn = "{pg_dsn(pg, database)}", heads_command = "{command}" }}\n'
        )
        result = run_deps(suite_project, body, "-k", "migrated", PG_PASSWORD=pg.password)
        if passes:
            result.assert_outcomes(passed=1)
        else:
            result.assert_outcomes(failed=1)
            result.stdout.fnmatch_lines(
                [
                    f"*is at alembic revision '{OLD}', but the deployed code's head is '{HEAD}' (from `cd *alembic heads` on host 'api-1')*"
                ]
            )


def test_postgres_schema_drift_from_the_models_fails_at_head(
    suite_project: SuiteProject, pg: Postgres, deployed_code: Path
) -> None:
    """The real Anki case: migrated to head, and still not the schema the models expect."""
    for database, passes in (("schema_ok", True), ("schema_drift", False)):
        url = f"postgresql+psycopg://postgres:${{PG_PASSWORD}}@127.0.0.1:{pg.port}/{database}"
        command = f"cd {deployed_code} && DATABASE_URL={url} {sys.executable} -m alembic check"
        body = (
            f'infra.hosts = [{{ url = "local://", roles = ["api"], name = "api-1" }}]\n'
            f'deps.postgres = {{ dsn = "{pg_dsn(pg, database)}", expected_head = "{HEAD}", schema_check_command = "{command}" }}\n'
        )
        result = run_deps(suite_project, body, "-k", "postgres", PG_PASSWORD=pg.password)
        if passes:
            result.assert_outcomes(passed=3)
        else:
            result.assert_outcomes(passed=2, failed=1)  # at head: only the schema check fails
            result.stdout.fnmatch_lines([
                "*the database schema does not match the deployed code's models (`cd * alembic check` on host 'api-1' exited *): *New upgrade operations detected*add_column*decks*title*",
            ])  # fmt: skip
        assert pg.password not in result.stdout.str()


def test_postgres_unreachable_or_refusing_is_one_message(
    suite_project: SuiteProject, pg: Postgres
) -> None:
    closed = free_port()
    body = f'deps.postgres = {{ dsn = "postgresql://postgres:${{PG_PASSWORD}}@127.0.0.1:{closed}/x", connect_timeout_s = 3 }}\n'
    result = run_deps(suite_project, body, "-k", "answers", PG_PASSWORD="wrong-password-1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*PostgreSQL at postgresql://postgres:[[]redacted[]]@127.0.0.1:{closed}/x: cannot connect:*"
        ]
    )
    body = f'deps.postgres = {{ dsn = "{pg_dsn(pg, "at_head")}" }}\n'
    result = run_deps(suite_project, body, "-k", "answers", PG_PASSWORD="wrong-password-1")
    result.stdout.fnmatch_lines(["*cannot connect:*password authentication failed*"])
    assert "wrong-password-1" not in result.stdout.str()
    assert_no_plugin_traceback(result)


# --- Redis ---------------------------------------------------------------------------------


def test_redis_without_password_or_memory_limit_fails(suite_project: SuiteProject) -> None:
    pytest.importorskip("redis", reason="needs redis (the deps extra)")
    with redis_server() as port:
        result = run_deps(
            suite_project, f'deps.redis = {{ url = "redis://127.0.0.1:{port}/0" }}\n', "-k", "redis"
        )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        f"*Redis at redis://127.0.0.1:{port}/0 answers PING without a password: set requirepass*",
        "*has no memory limit (maxmemory 0;*",
    ])  # fmt: skip


def test_redis_guarded_and_limited_passes_and_a_full_one_fails(suite_project: SuiteProject) -> None:
    pytest.importorskip("redis", reason="needs redis (the deps extra)")
    password = "redis-secret-" + getpass.getuser()
    with redis_server("--requirepass", password, "--maxmemory", "64mb") as port:
        url = f"redis://:${{REDIS_PASSWORD}}@127.0.0.1:{port}/0"
        good = run_deps(
            suite_project,
            f'deps.redis = {{ url = "{url}" }}\n',
            "-k",
            "redis",
            REDIS_PASSWORD=password,
        )
        good.assert_outcomes(passed=1)
        full = run_deps(
            suite_project, f'deps.redis = {{ url = "{url}", max_memory_used_percent = 0.01 }}\n', "-k", "redis",
            REDIS_PASSWORD=password,
        )  # fmt: skip
        full.assert_outcomes(failed=1)
        full.stdout.fnmatch_lines(
            ["*of its memory limit*above 0.01% (deps.redis.max_memory_used_percent)*"]
        )
        wrong = run_deps(
            suite_project,
            f'deps.redis = {{ url = "{url}" }}\n',
            "-k",
            "redis",
            REDIS_PASSWORD="not-the-password",
        )
        wrong.assert_outcomes(failed=1)
        wrong.stdout.fnmatch_lines(["*the configured credentials are refused*"])
        for result in (good, full, wrong):
            assert (
                password not in result.stdout.str()
                and "not-the-password" not in result.stdout.str()
            )


# --- RabbitMQ ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rabbit() -> Iterator[RabbitMQ]:
    with rabbitmq_server() as server:
        yield server


def queue_stats(rabbit: RabbitMQ, name: str, consumers: int) -> None:
    """Wait until the management API's statistics show the queue as the test set it up."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        queue = httpx.get(
            f"{rabbit.management_url}/api/queues/%2f/{name}", auth=("guest", "guest")
        ).json()
        if queue.get("messages") is not None and queue.get("consumers") == consumers:
            return
        time.sleep(0.2)
    raise AssertionError(f"queue {name} statistics did not arrive: {queue}")


def test_rabbitmq_backlog_and_no_consumers_fail_and_a_served_queue_passes(
    suite_project: SuiteProject, rabbit: RabbitMQ
) -> None:
    pika = pytest.importorskip("pika", reason="needs pika (a test dependency)")
    api, auth = rabbit.management_url, ("guest", "guest")
    for name in ("celery", "served"):
        httpx.put(
            f"{api}/api/queues/%2f/{name}", auth=auth, json={"durable": False}
        ).raise_for_status()
    for _ in range(5):
        httpx.post(
            f"{api}/api/exchanges/%2f/amq.default/publish", auth=auth,
            json={"properties": {}, "routing_key": "celery", "payload": "job", "payload_encoding": "string"},
        ).raise_for_status()  # fmt: skip
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", rabbit.amqp_port))
    try:
        connection.channel().basic_consume("served", lambda *args: None)
        queue_stats(rabbit, "celery", 0)
        queue_stats(rabbit, "served", 1)
        body = f'deps.rabbitmq = {{ management_url = "{api}", password = "${{RABBIT_PASSWORD}}", queues = ["celery", "jobs"], max_messages = 3 }}\n'
        broken = run_deps(suite_project, body, "-k", "rabbitmq", RABBIT_PASSWORD="guest")
        served = run_deps(
            suite_project, body.replace('["celery", "jobs"]', '["served"]'), "-k", "rabbitmq", RABBIT_PASSWORD="guest"
        )  # fmt: skip
        refused = run_deps(suite_project, body, "-k", "rabbitmq", RABBIT_PASSWORD="wrong-guest")
    finally:
        connection.close()
    broken.assert_outcomes(failed=1)
    broken.stdout.fnmatch_lines([
        "*queue 'celery' has 5 messages waiting, more than 3 (deps.rabbitmq.max_messages)*",
        "*queue 'celery' has 0 consumers, fewer than 1 (deps.rabbitmq.min_consumers): no worker is listening*",
        "*queue 'jobs' does not exist in vhost '/'*",
    ])  # fmt: skip
    served.assert_outcomes(passed=1)
    refused.assert_outcomes(failed=1)
    refused.stdout.fnmatch_lines(
        ["*RabbitMQ management API at http://127.0.0.1:*: refused the configured user (401)*"]
    )


def test_rabbitmq_with_no_queue_to_check_does_not_pass(
    suite_project: SuiteProject, rabbit: RabbitMQ
) -> None:
    """A vhost where no worker ever declared its queue: nothing examined, never a pass."""
    api, auth = rabbit.management_url, ("guest", "guest")
    httpx.put(f"{api}/api/vhosts/empty", auth=auth).raise_for_status()
    httpx.put(
        f"{api}/api/permissions/empty/guest",
        auth=auth,
        json={"configure": ".*", "write": ".*", "read": ".*"},
    ).raise_for_status()
    body = f'deps.rabbitmq = {{ management_url = "{api}", vhost = "empty", password = "guest" }}\n'
    result = run_deps(suite_project, body, "-k", "rabbitmq")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*vhost 'empty' has no queues, so there was nothing to check*"])


def test_rabbitmq_unreachable_fails_its_check_only(suite_project: SuiteProject) -> None:
    body = f'deps.rabbitmq = {{ management_url = "http://127.0.0.1:{free_port()}" }}\n'
    result = run_deps(suite_project, body, "-k", "rabbitmq")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*RabbitMQ management API at http://127.0.0.1:*: could not reach*"]
    )
    assert "target unreachable" not in result.stdout.str()


# --- S3 (moto) -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    pytest.importorskip("boto3", reason="needs boto3 (the deps extra)")
    server_module = pytest.importorskip(
        "moto.server", reason="needs moto[server] (a test dependency)"
    )
    port = free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    s3.create_bucket(Bucket="decks-private")
    s3.put_object(Bucket="decks-private", Key="decks/1.apkg", Body=b"deck")
    s3.create_bucket(Bucket="decks-empty")
    s3.create_bucket(Bucket="decks-public", ACL="public-read")
    s3.put_object(Bucket="decks-public", Key="decks/1.apkg", Body=b"deck", ACL="public-read")
    yield url
    server.stop()


def s3_body(url: str, bucket: str) -> str:
    return (
        f'deps.s3 = {{ endpoint_url = "{url}", bucket = "{bucket}", '
        'access_key = "${S3_KEY}", secret_key = "${S3_SECRET}" }\n'
    )


def test_a_private_bucket_passes_with_its_probe_cleaned_up(
    suite_project: SuiteProject, s3_url: str
) -> None:
    import boto3

    for bucket in ("decks-private", "decks-empty"):
        result = run_deps(
            suite_project,
            s3_body(s3_url, bucket),
            "-k",
            "storage",
            S3_KEY="k",
            S3_SECRET="s3-secret-value",
        )
        result.assert_outcomes(passed=3)
        assert "s3-secret-value" not in result.stdout.str()
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    assert s3.list_objects_v2(Bucket="decks-empty").get("KeyCount") == 0  # probes deleted


def test_a_public_bucket_is_a_finding(suite_project: SuiteProject, s3_url: str) -> None:
    result = run_deps(
        suite_project,
        s3_body(s3_url, "decks-public"),
        "-k",
        "not_public",
        S3_KEY="k",
        S3_SECRET="s",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*bucket 'decks-public' at http://127.0.0.1:* grants READ to everyone (AllUsers) in its ACL*",
        f"*serves objects anonymously: GET {s3_url}/decks-public/decks/1.apkg without credentials answered 200*",
    ])  # fmt: skip


@pytest.fixture(scope="module")
def read_only_s3() -> Iterator[tuple[str, str, str]]:
    """moto's S3 server checking credentials (its IAM): the bucket ``decks`` and a key pair
    that may read and list, not write. Its first four requests (the setup) go unchecked."""
    pytest.importorskip("boto3", reason="needs boto3 (the deps extra)")
    pytest.importorskip("moto.server", reason="needs moto[server] (a test dependency)")
    import json
    import socket

    import boto3

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "4"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto's server did not start"
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        setup = {
            "endpoint_url": url,
            "region_name": "us-east-1",
            "aws_access_key_id": "k",
            "aws_secret_access_key": "s",
        }
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="reader")
        iam.put_user_policy(
            UserName="reader", PolicyName="read-only",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "s3:HeadBucket"], "Resource": "*"}
            ]}),
        )  # fmt: skip
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        boto3.client("s3", **setup).create_bucket(Bucket="decks")
        yield url, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        server.kill()
        server.wait()


def test_read_only_credentials_fail_the_write_check_only(
    suite_project: SuiteProject, read_only_s3: tuple[str, str, str]
) -> None:
    url, key, secret = read_only_s3
    result = run_deps(
        suite_project, s3_body(url, "decks"), "-k", "storage", S3_KEY=key, S3_SECRET=secret
    )
    result.assert_outcomes(
        passed=2, failed=1
    )  # exists; not public (the ACL: no probe can be written)
    result.stdout.fnmatch_lines([
        f"*bucket 'decks' at {url}: the configured credentials may not write objects (AccessDenied)*",
    ])  # fmt: skip
    assert secret not in result.stdout.str()


def test_a_missing_bucket_fails(suite_project: SuiteProject, s3_url: str) -> None:
    result = run_deps(
        suite_project, s3_body(s3_url, "no-such-bucket"), "-k", "exists", S3_KEY="k", S3_SECRET="s"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bucket 'no-such-bucket' at http://127.0.0.1:* does not exist*"])


# --- /metrics (the reference deployment's) -------------------------------------------------


def test_metrics_expected_names_pass_and_a_missing_one_fails(
    suite_project: SuiteProject, reference: Reference
) -> None:
    """By default the API's own ``/metrics``; ``url`` names another."""
    body = 'deps.metrics = { expected = ["http_requests_total"] }\n'
    run_deps(suite_project, body, "-k", "metrics", base_url=reference.url).assert_outcomes(passed=1)
    missing = body.replace(
        '["http_requests_total"]', '["http_requests_total", "celery_tasks_total"]'
    )
    result = run_deps(suite_project, missing, "-k", "metrics", base_url=reference.url)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*/metrics does not expose celery_tasks_total (deps.metrics.expected)*"]
    )
    not_there = f'deps.metrics = {{ url = "{reference.url}/no-metrics-here" }}\n'
    run_deps(
        suite_project, not_there, "-k", "metrics", base_url=reference.url
    ).stdout.fnmatch_lines(
        ["*GET http://127.0.0.1:*/no-metrics-here answered 404, expected 200 with metrics*"]
    )
    closed = (
        free_port()
    )  # an exporter on another host that is down: its check fails, the run goes on
    gone = f'deps.metrics = {{ url = "http://127.0.0.1:{closed}/metrics" }}\n'
    result = run_deps(suite_project, gone, "-k", "metrics", base_url=reference.url)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*http://127.0.0.1:{closed}/metrics: could not reach*"])
    assert "target unreachable" not in result.stdout.str()


def test_deps_join_smoke_only_where_the_env_says_so(suite_project: SuiteProject) -> None:
    suite_project.config(env('deps.redis = { url = "redis://127.0.0.1:9" }\n'))
    plain = suite_project.run(
        "--env", "deps", "-m", "smoke", "test_dependencies.py", "--collect-only", "-q"
    )
    plain.stdout.fnmatch_lines(["*10 deselected*"])
    suite_project.config(env('deps = { smoke = true, redis = { url = "redis://127.0.0.1:9" } }\n'))
    joined = suite_project.run(
        "--env", "deps", "-m", "smoke", "test_dependencies.py", "--collect-only", "-q"
    )
    joined.stdout.fnmatch_lines(["*10 tests collected*"])


def test_nothing_configured_skips_each_check_naming_its_key(suite_project: SuiteProject) -> None:
    result = run_deps(suite_project, "")
    result.assert_outcomes(skipped=10)
    result.stdout.fnmatch_lines(
        ["*env 'deps' configures no deps.postgres*", "*configures no deps.s3*"]
    )


def test_a_missing_client_library_is_one_message_naming_the_extra(
    suite_project: SuiteProject,
) -> None:
    # The inner run cannot import psycopg: as on a machine without the deps extra.
    (suite_project.pytester.path / "conftest.py").write_text(
        'import sys\nsys.modules["psycopg"] = None\n'
    )
    body = 'deps.postgres = { dsn = "postgresql://anki:${PG_PASSWORD}@127.0.0.1:1/anki" }\n'
    result = run_deps(suite_project, body, "-k", "answers", PG_PASSWORD="pg-secret-1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*checking PostgreSQL needs the psycopg package: pip install 'pytest-deploycheck[[]deps]'*"
        ]
    )
    assert_no_plugin_traceback(result)


def test_services_by_health_url_pass_and_fail_naming_the_service(
    suite_project: SuiteProject, reference: Reference
) -> None:
    """Keycloak, MinIO, Grafana … by their health URL: here the reference deployment's."""
    good = f'deps.http = [{{ name = "keycloak", url = "{reference.api_url}/health", contains = "healthy" }}]\n'
    run_deps(suite_project, good, "-k", "health_urls").assert_outcomes(passed=1)
    closed = free_port()
    bad = (
        "deps.http = [\n"
        f'  {{ name = "keycloak", url = "{reference.api_url}/health/ready" }},\n'
        f'  {{ name = "minio", url = "{reference.api_url}/health", contains = "UP" }},\n'
        f'  {{ name = "grafana", url = "http://127.0.0.1:{closed}/api/health" }},\n'
        "]\n"
    )
    result = run_deps(suite_project, bad, "-k", "health_urls")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        f"*keycloak ({reference.api_url}/health/ready) answered 404, expected 200*",
        f"*minio ({reference.api_url}/health) answered without 'UP' in its body*",
        f"*grafana (http://127.0.0.1:{closed}/api/health): could not reach*",
    ])  # fmt: skip
    assert "target unreachable" not in result.stdout.str()


def test_object_storage_on_production_writes_nothing(
    suite_project: SuiteProject, s3_url: str
) -> None:
    import boto3

    body = "production = true\n" + s3_body(s3_url, "decks-empty")
    result = run_deps(suite_project, body, "-k", "storage", S3_KEY="k", S3_SECRET="s")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*destructive: *production*"])
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    assert s3.list_objects_v2(Bucket="decks-empty").get("KeyCount") == 0
