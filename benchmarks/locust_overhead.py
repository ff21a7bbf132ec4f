"""Locust users for the load benchmarks (bench_load.py), not a shipped profile.

    ProfileHealthUser  the shipped profile's machinery (DeployCheckUser.api: token
                       header, route naming, success checks, exact HDR recording)
    BareHealthUser     a bare FastHttpUser
Both hit the health endpoint with no wait. The reference deployment's own
timing of every answer (X-Process-Time) is collected for the p95 comparison.
"""

from __future__ import annotations

import json
import os

from locust import FastHttpUser, constant, events, task

from pytest_deploycheck.locust import DeployCheckUser, ProfileShape, install  # noqa: F401 (bounds the run)

install(endpoints=["GET /health"])
SERVER_TIMES: list[float] = []


class ProfileHealthUser(DeployCheckUser):
    wait_time = constant(0)

    @task
    def health(self) -> None:
        assert self.env is not None
        self.api("GET", self.env.health.liveness_path)


class BareHealthUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get("/api/v1/health")


@events.request.add_listener
def _server_time(response: object = None, **_: object) -> None:
    headers = getattr(response, "headers", None)
    if headers is not None and headers.get("x-process-time"):
        SERVER_TIMES.append(float(headers["x-process-time"]) * 1000)


@events.quitting.add_listener
def _write(environment: object, **_: object) -> None:
    target = os.environ.get("BENCH_SERVER_TIMES")
    if target and SERVER_TIMES:
        with open(target, "a") as out:
            out.write(json.dumps(SERVER_TIMES) + "\n")
