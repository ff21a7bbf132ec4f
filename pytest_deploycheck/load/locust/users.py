"""Locust users bound to the env, and the process's sign-in they share.

Sign-in, refresh and cleanup are the accounts code the pytest side uses
(:mod:`pytest_deploycheck.target.accounts`), not written again here.
"""

from __future__ import annotations

import functools
import os
import re
import ssl
import time
from typing import Any, ClassVar

import gevent
from gevent.lock import Semaphore
from locust import FastHttpUser

from pytest_deploycheck.config import TargetEnv
from pytest_deploycheck.errors import DeployCheckError
from pytest_deploycheck.load.locust.state import LoadState
from pytest_deploycheck.run.client import DeployClient
from pytest_deploycheck.run.pacing import AuthBudget
from pytest_deploycheck.run.store import RunUser
from pytest_deploycheck.target.accounts import AuthApi, cleanup, provision

TOKEN_ENV = "DEPLOYCHECK_LOAD_ACCESS_TOKEN"
REFRESH_ENV = "DEPLOYCHECK_LOAD_REFRESH_TOKEN"


@functools.lru_cache(maxsize=256)
def route_name(method: str, path_template: str) -> str:
    """``GET /jobs/{job_id}`` -> ``GET /jobs/[id]``: one statistics row per route, not per id."""
    return f"{method} {_route(path_template)}"


@functools.lru_cache(maxsize=256)
def _route(path_template: str) -> str:
    return re.sub(r"{[^}]+}", "[id]", path_template)


class LoadSession:
    """This process's signed-in user: the runner's (environment variables) or one made here once."""

    def __init__(self, env: TargetEnv, user: RunUser) -> None:
        self.env = env
        self.user = user
        self._lock = Semaphore()
        self._refreshed_at = 0.0
        # What this process's users created and have not deleted yet (a failed journey's job
        # and deck): deleted, and verified gone, when the test stops.
        self.created: list[dict[str, str]] = []

    def record(self, kind: str, resource_id: object) -> None:
        """A ``job`` or ``deck`` a user created, for the cleanup."""
        item = {"owner": "load", "kind": kind, "id": str(resource_id)}
        if item not in self.created:
            self.created.append(item)

    def forget(self, kind: str, resource_id: object) -> None:
        """A user deleted it itself."""
        item = {"owner": "load", "kind": kind, "id": str(resource_id)}
        if item in self.created:
            self.created.remove(item)

    @classmethod
    def for_process(cls, env: TargetEnv) -> LoadSession:
        if os.environ.get(TOKEN_ENV):
            user = RunUser(
                label="load",
                email="(the runner's smoke user)",
                user_id=None,
                access_token=os.environ[TOKEN_ENV],
                refresh_token=os.environ.get(REFRESH_ENV),
            )
            return cls(env, user)
        with DeployClient(env) as client:
            try:
                user = provision(
                    AuthApi(client, env, AuthBudget(env)),
                    "smoke",
                    f"load{os.getpid()}",
                    client.redactor,
                )
            except DeployCheckError as exc:
                # An answer's excerpt may echo what was sent (the generated password).
                raise DeployCheckError(client.redactor.text(str(exc))) from None
        return cls(env, user)

    @property
    def access(self) -> str:
        return self.user.access_token

    def refresh(self, rejected: str) -> None:
        """After a 401: one refresh per expiry, whichever user notices first."""
        with self._lock:
            if (
                self.user.access_token != rejected
                or not self.user.refresh_token
                or time.monotonic() - self._refreshed_at < 5
            ):
                return
            with DeployClient(self.env) as client:
                api = AuthApi(client, self.env, AuthBudget(self.env))
                try:
                    response = api.refresh(self.user.refresh_token)
                    if response.status_code == 200:
                        token = response.json().get(self.env.auth.access_token_field)
                        if isinstance(token, str):
                            self.user.access_token = token
                except (DeployCheckError, ValueError):
                    pass  # the next request's 401 counts as the failure it is
            self._refreshed_at = time.monotonic()

    def cleanup(self) -> list[str]:
        """Delete what this process's users left, then the throwaway user it registered (the
        runner's own user is the runner's to delete); one line per outcome, verified."""
        if not self.user.throwaway and not self.created:
            return []
        with DeployClient(self.env) as client:
            contents = {"users": {"load": vars(self.user)}, "created": list(self.created)}
            lines = cleanup(client, self.env, contents)
        self.user.throwaway = False
        self.created.clear()
        return lines


class DeployCheckUser(FastHttpUser):
    """A FastHttpUser bound to the env: API prefix, bearer token, route-template names, TLS verified.

    ``weight_key`` names the env's ``load.<key>_weight`` that sets this class's weight.
    """

    abstract = True
    env: ClassVar[TargetEnv | None] = None
    state: ClassVar[LoadState | None] = None  # set by install()
    weight_key: ClassVar[str | None] = None
    # Creates, changes or deletes data: left out on an env marked production unless destructive
    # checks are allowed (--allow-destructive), as pytest's destructive checks are.
    destructive: ClassVar[bool] = False

    @classmethod
    def configure(cls, env: TargetEnv, peak_users: int, total_weight: int) -> None:
        cls.env = env
        # FastHttpUser does not verify certificates unless told to.
        cls.insecure = not env.verify_tls
        if env.verify_tls and env.ca_bundle:
            bundle = env.ca_bundle
            cls.ssl_context_factory = staticmethod(
                lambda: ssl.create_default_context(cafile=bundle)
            )
        if cls.weight_key is not None:
            cls.weight = int(getattr(env.load, f"{cls.weight_key}_weight"))
            # A weight too small to win one of few users still gets one: a smoke profile
            # of 3 users must still upload something.
            if cls.weight and total_weight and peak_users * cls.weight < total_weight:
                cls.fixed_count = 1

    @property
    def session(self) -> LoadSession:
        state = self.state
        assert state is not None, "install() was not called"
        while state.session is None:  # test_start signs in before users start; wait if not yet
            if state.sign_in_error:
                raise gevent.GreenletExit(state.sign_in_error)
            gevent.sleep(0.05)
        return state.session

    def api(
        self,
        method: str,
        path_template: str,
        *,
        expect: tuple[int, ...] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``path_template`` (from env.paths) named by its route.

        Without ``expect``, Locust's own rule applies (an error status is a
        failure) on the fast path; with it, only those codes are successes.
        """
        assert self.env is not None
        params = kwargs.pop("params_path", None)
        url = self.env.api_prefix + (path_template.format(**params) if params else path_template)
        session = self.session
        token = session.access
        headers = kwargs.pop("headers", None)
        headers = (
            {**headers, "Authorization": f"Bearer {token}"}
            if headers
            else {"Authorization": f"Bearer {token}"}
        )
        if expect is None:
            response = self.client.request(
                method, url, name=_route(path_template), headers=headers, **kwargs
            )
            if response.status_code == 401:
                session.refresh(token)
            return response
        with self.client.request(
            method, url, name=_route(path_template), headers=headers, catch_response=True, **kwargs
        ) as response:
            if response.status_code == 401:
                session.refresh(token)
            if response.status_code in expect:
                response.success()
            else:
                response.failure(
                    f"{response.status_code}: expected {' or '.join(map(str, expect))}"
                )
            return response
