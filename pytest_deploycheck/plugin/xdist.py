"""pytest-xdist: the controller hands its run (state directory, run id, ledger, a failure
already known) to each worker; registered only when xdist is installed (as pytest-randomly's
XdistHooks)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pytest_deploycheck.errors import CheckFailed
from pytest_deploycheck.plugin.context import DeployContext

_STATE_DIR = "deploycheck_state_dir"
_OWNER_PID = "deploycheck_owner_pid"
_RUN_ID = "deploycheck_run_id"
_LEDGER = "deploycheck_ledger"
_FAILURE = "deploycheck_failure"


class XdistHooks:
    """The controller's side of the hand-off."""

    NAME = "deploycheck-xdist"

    def __init__(self, context: DeployContext) -> None:
        self.context = context

    def pytest_configure_node(self, node: Any) -> None:
        """Workers share the controller's run: its embedded deployment, store and ledger."""
        context = self.context
        if context.state_dir is None:
            return
        node.workerinput[_STATE_DIR] = str(context.state_dir)
        node.workerinput[_OWNER_PID] = context.owner_pid
        node.workerinput[_RUN_ID] = context.run_id
        node.workerinput[_LEDGER] = str(context.ledger) if context.ledger else None
        if context.failure is not None:
            node.workerinput[_FAILURE] = str(context.failure)


def worker_run(workerinput: dict[str, Any]) -> dict[str, Any]:
    """A worker's side of the hand-off: the DeployContext fields the controller gave it."""
    state_dir = workerinput.get(_STATE_DIR)
    ledger = workerinput.get(_LEDGER)
    failure = workerinput.get(_FAILURE)
    return {
        "failure": CheckFailed(failure) if failure else None,
        "state_dir": Path(state_dir) if state_dir else None,
        "owner_pid": int(workerinput.get(_OWNER_PID, os.getpid())),
        "is_worker": True,
        "run_id": str(workerinput.get(_RUN_ID, "local")),
        "ledger": Path(ledger) if ledger else None,
    }
