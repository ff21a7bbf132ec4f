"""RabbitMQ, through its management API: each queue drains (depth under a threshold) and has
consumers (a worker listens). The seeds: "Queue Backlog: >100 messages pending"."""

from __future__ import annotations

from urllib.parse import quote

from pytest_deploycheck.config.schema import RabbitMQDependency, TargetEnv
from pytest_deploycheck.deps.clients import dependency_reached, service_client
from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.run.redaction import Redactor


def queues(env: TargetEnv, dep: RabbitMQDependency, redactor: Redactor) -> list[dict]:
    path = f"/api/queues/{quote(dep.vhost, safe='')}"
    where = f"RabbitMQ management API at {redactor.url(dep.management_url)}"
    auth = (dep.username, dep.password)
    with (
        dependency_reached(where),
        service_client(env, redactor, dep.management_url, auth) as client,
    ):
        response = client.get(path)
    if response.status_code in (401, 403):
        raise CheckFailed(f"{where}: refused the configured user ({response.status_code})")
    if response.status_code == 404:
        raise CheckFailed(f"{where}: vhost {dep.vhost!r} does not exist (GET {path} answered 404)")
    if response.status_code != 200:
        raise CheckFailed(f"{where}: GET {path} answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed(
            f"{where}: GET {path} did not answer JSON: is this the management API?"
        ) from None
    if not isinstance(body, list):
        raise CheckFailed(
            f"{where}: GET {path} answered a {type(body).__name__}, not a list of queues"
        )
    return [queue for queue in body if isinstance(queue, dict)]


def check_rabbitmq_queues(env: TargetEnv, dep: RabbitMQDependency, redactor: Redactor) -> list[str]:
    found = {str(queue.get("name")): queue for queue in queues(env, dep, redactor)}
    names = list(dep.queues) or sorted(found)
    if not names:
        # A worker declares its queue when it connects: none at all is nothing to pass on.
        return [
            f"vhost {dep.vhost!r} has no queues, so there was nothing to check: no worker has "
            "connected, or the workers use another vhost (name the queues the workers consume "
            "in deps.rabbitmq.queues)"
        ]
    problems = []
    for name in names:
        queue = found.get(name)
        if queue is None:
            problems.append(f"queue {name!r} does not exist in vhost {dep.vhost!r}")
            continue
        messages = int(queue.get("messages") or 0)
        consumers = int(queue.get("consumers") or 0)
        if messages > dep.max_messages:
            problems.append(
                f"queue {name!r} has {messages} messages waiting, more than {dep.max_messages} "
                "(deps.rabbitmq.max_messages): the workers do not keep up"
            )
        if consumers < dep.min_consumers:
            problems.append(
                f"queue {name!r} has {consumers} consumers, fewer than {dep.min_consumers} "
                "(deps.rabbitmq.min_consumers): no worker is listening"
            )
    return problems
