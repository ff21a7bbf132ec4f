"""The recorded client: timeouts, retries only where safe, User-Agent, redacted records."""

from __future__ import annotations

import pytest

from pytest_deploycheck import DeployClient, TargetUnreachable
from pytest_deploycheck._version import __version__
from pytest_deploycheck.config import TargetEnv
from tests.conftest import Reference, SuiteProject
from tests.servers import tcp_server


def env_for(url: str, **kwargs: object) -> TargetEnv:
    return TargetEnv.model_validate({"name": "t", "base_url": url, "api_prefix": "", **kwargs})


def test_idempotent_request_is_retried_after_a_dropped_connection() -> None:
    with tcp_server("drop-first") as url, DeployClient(env_for(url)) as client:
        response = client.get("/health")
    assert response.status_code == 200


def test_post_is_not_retried_after_a_dropped_connection() -> None:
    with (
        tcp_server("drop-first") as url,
        DeployClient(env_for(url)) as client,
        pytest.raises(
            TargetUnreachable, match="the connection was dropped before a complete answer"
        ),
    ):
        client.post("/upload", content=b"x")


def test_no_retries_when_configured_off() -> None:
    with (
        tcp_server("drop-first") as url,
        DeployClient(env_for(url, retries=0)) as client,
        pytest.raises(TargetUnreachable),
    ):
        client.get("/health")


def test_every_request_has_timeouts_and_user_agent() -> None:
    with (
        tcp_server("ok") as url,
        DeployClient(env_for(url, timeouts={"connect": 2, "read": 3})) as client,
    ):
        assert client.timeout.connect == 2 and client.timeout.read == 3
        client.get("/health")
    exchange = client.exchanges[-1]
    assert exchange.request_headers["user-agent"] == f"pytest-deploycheck/{__version__}"
    assert exchange.status == 200 and exchange.elapsed_ms > 0


def test_tls_verification_is_on_by_default() -> None:
    client = DeployClient(env_for("https://example.com"))
    transport = client._transport.inner  # type: ignore[attr-defined]
    assert transport._pool._ssl_context.verify_mode.name == "CERT_REQUIRED"
    client.close()


def test_behind_an_egress_proxy_every_request_goes_through_it(
    suite_project: SuiteProject, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI runner where only the proxy can resolve the target's name: HTTP_PROXY is honoured
    as httpx and curl honour it; NO_PROXY and trust_env = false go direct (and fail to
    resolve, which proves they did)."""
    from tests.forward_proxy import forward_proxy

    port = reference.url.rsplit(":", 1)[1]
    name = "deploycheck-target.invalid"
    config = f'[envs.ci]\nbase_url = "http://{name}:{port}"\n'
    with forward_proxy({name: "127.0.0.1"}) as (proxy, asked):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        suite_project.config(config)
        through = suite_project.run("--env", "ci", "test_health.py")
        monkeypatch.setenv("NO_PROXY", name)
        bypassed = suite_project.run("--env", "ci", "test_health.py")
        monkeypatch.delenv("NO_PROXY")
        suite_project.config(config + "trust_env = false\n")
        ignored = suite_project.run("--env", "ci", "test_health.py")
    through.assert_outcomes(passed=2, skipped=1)  # (no expected version to check)
    assert asked and set(asked) == {name}, asked
    for direct in (bypassed, ignored):
        assert direct.ret == 6, direct.stdout.str()[-1500:]  # unreachable: nothing resolves it
        direct.stdout.fnmatch_lines(["*could not reach GET http://deploycheck-target.invalid*"])


def test_each_answer_carries_its_own_record_when_requests_overlap() -> None:
    """Requests in flight at once (the fuzzer's workers): each response names its own
    exchange, whatever the client recorded last."""
    import asyncio
    import threading

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from pytest_deploycheck.run.client import EXCHANGE
    from tests.servers import serving

    async def slow(request: object) -> PlainTextResponse:
        await asyncio.sleep(0.4)
        return PlainTextResponse("slow", status_code=500)

    async def fast(request: object) -> PlainTextResponse:
        return PlainTextResponse("fast")

    app = Starlette(routes=[Route("/slow", slow), Route("/fast", fast)])
    with serving(app) as url, DeployClient(env_for(url)) as client:
        answers: dict[str, object] = {}
        slow_one = threading.Thread(target=lambda: answers.update(slow=client.get("/slow")))
        slow_one.start()
        answers["fast"] = client.get("/fast")
        slow_one.join(10)
    for path, status in (("slow", 500), ("fast", 200)):
        response = answers[path]
        exchange = response.extensions[EXCHANGE]  # type: ignore[attr-defined]
        assert exchange.url == f"{url}/{path}" and exchange.status == status
    assert client.exchanges[-1].url == f"{url}/slow"  # the last recorded: not the fast one's
