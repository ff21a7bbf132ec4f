"""The watch's own metrics, served while it runs for a team's Prometheus to scrape and alert
on: the same checks, in the blackbox exporter's spirit (a failure is a 0, not an error).

- ``deploycheck_check_success{check}``: 1 when the check passed in the last round, 0 when it
  failed (a skipped check keeps no value: no data is not a success);
- ``deploycheck_check_duration_seconds{check}``: how long it took;
- ``deploycheck_watch_rounds_total`` and ``deploycheck_watch_failed_rounds_total``;
- ``deploycheck_watch_last_round_timestamp_seconds``: when the last round ended (a stalled
  watch is seen as stale).
"""

from __future__ import annotations

import time
from typing import Any

from pytest_deploycheck.optional import need
from pytest_deploycheck.watch.policy import Round


class WatchExporter:
    def __init__(self, address: str, port: int, env: str) -> None:
        client = need("prometheus_client", "the watch's metrics", "prometheus-client", "watch")
        self.registry = client.CollectorRegistry()
        labels = {"env": env}
        self.success = client.Gauge(
            "deploycheck_check_success",
            "1 if the check passed in the last round, 0 if it failed",
            ["env", "check"],
            registry=self.registry,
        )
        self.duration = client.Gauge(
            "deploycheck_check_duration_seconds",
            "How long the check took in the last round",
            ["env", "check"],
            registry=self.registry,
        )
        self.rounds = client.Counter(
            "deploycheck_watch_rounds", "Rounds of the watch", ["env"], registry=self.registry
        )
        self.failed_rounds = client.Counter(
            "deploycheck_watch_failed_rounds",
            "Rounds in which a check failed",
            ["env"],
            registry=self.registry,
        )
        self.last_round = client.Gauge(
            "deploycheck_watch_last_round_timestamp_seconds",
            "When the last round ended",
            ["env"],
            registry=self.registry,
        )
        self._labels = labels
        self.rounds.labels(**labels)
        self.failed_rounds.labels(**labels)
        server: Any
        server, _thread = client.start_http_server(port, addr=address, registry=self.registry)
        self._server = server
        self.address = address
        self.port = int(server.server_address[1])

    def record(self, round_: Round) -> None:
        env = self._labels["env"]
        for run in round_.runs:
            if run.outcome == "skipped":
                continue
            self.success.labels(env, run.check).set(1 if run.outcome == "passed" else 0)
            self.duration.labels(env, run.check).set(run.duration_s)
        self.rounds.labels(env).inc()
        if round_.outcome == "failed":
            self.failed_rounds.labels(env).inc()
        self.last_round.labels(env).set(time.time())

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
