"""Redis: answers PING, refuses clients without the password, and has a memory limit."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from pytest_deploycheck.config.schema import RedisDependency
from pytest_deploycheck.deps.clients import first_line
from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.optional import need
from pytest_deploycheck.run.redaction import Redactor


def check_redis(dep: RedisDependency, redactor: Redactor) -> list[str]:
    redis = need("redis", "Redis", "redis", "deps")
    shown = redactor.url(dep.url)
    options = {"socket_timeout": dep.timeout_s, "socket_connect_timeout": dep.timeout_s}
    client = redis.Redis.from_url(dep.url, **options)
    try:
        client.ping()
        memory = client.info("memory")
    except redis.AuthenticationError as exc:
        raise CheckFailed(
            f"Redis at {shown}: the configured credentials are refused: {first_line(exc)}"
        ) from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise CheckFailed(
            f"Redis at {shown}: cannot connect: {redactor.text(first_line(exc))}"
        ) from None
    except redis.RedisError as exc:
        raise CheckFailed(f"Redis at {shown}: {redactor.text(first_line(exc))}") from None
    finally:
        client.close()
    problems = []
    if dep.require_password and _answers_without_password(redis, dep, options):
        problems.append(
            f"Redis at {shown} answers PING without a password: set requirepass "
            "(the seeds: REDIS_PASSWORD set with a strong password)"
        )
    limit, used = int(memory.get("maxmemory", 0)), int(memory.get("used_memory", 0))
    if not limit:
        if dep.require_maxmemory:
            problems.append(
                f"Redis at {shown} has no memory limit (maxmemory 0; it uses {used / 2**20:.1f} MiB): "
                "set maxmemory and a maxmemory-policy"
            )
    elif 100 * used / limit > dep.max_memory_used_percent:
        problems.append(
            f"Redis at {shown} uses {100 * used / limit:.1f}% of its memory limit "
            f"({used / 2**20:.1f} of {limit / 2**20:.1f} MiB), above {dep.max_memory_used_percent:g}% "
            "(deps.redis.max_memory_used_percent)"
        )
    return problems


def _answers_without_password(
    redis: object, dep: RedisDependency, options: dict[str, float]
) -> bool:
    parts = urlsplit(dep.url)
    netloc = parts.hostname or "localhost"
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    anonymous = redis.Redis.from_url(urlunsplit(parts._replace(netloc=netloc)), **options)  # type: ignore[attr-defined]
    try:
        return bool(anonymous.ping())
    except redis.RedisError:  # type: ignore[attr-defined]  # NOAUTH, WRONGPASS: refused
        return False
    finally:
        anonymous.close()
