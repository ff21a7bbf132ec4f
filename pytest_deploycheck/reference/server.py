"""Running the reference deployment: ``deploycheck serve`` and the plugin's embedded start."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from pytest_deploycheck.reference import faults as fault_registry
from pytest_deploycheck.reference.app import API_PREFIX, create_app
from pytest_deploycheck.reference.faults import FaultState
from pytest_deploycheck.reference.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port; 0 picks a free one (default: 8000)"
    )
    parser.add_argument(
        "--data-dir", help="where the database and files live (default: a new temporary dir)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="inject a fault (repeatable; also DEPLOYCHECK_FAULTS=a,b); `deploycheck faults` lists them",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting, e.g. --set environment=production --set auth_rate_limit=100",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--ready-file", help=argparse.SUPPRESS)
    parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)


def serve(args: argparse.Namespace) -> int:
    try:
        settings = Settings.model_validate(dict(_parse_setting(item) for item in args.set))
        active = fault_registry.parse([os.environ.get("DEPLOYCHECK_FAULTS", ""), *args.fault])
    except (ValidationError, ValueError) as exc:
        print(f"deploycheck serve: {exc}")
        return 2
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="deploycheck-reference-"))
    app, _ = create_app(settings, FaultState(active), data_dir)

    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on such sockets, and without
    # it every keep-alive answer waits ~40 ms for the client's delayed ACK.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        print(f"deploycheck serve: cannot listen on {args.host}:{args.port}: {exc.strerror}")
        return 2
    host, port = sock.getsockname()[:2]
    url = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"

    config = uvicorn.Config(
        app,
        log_level="info",
        access_log=args.access_log,
        server_header=False,  # a well-run service does not advertise its server software
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    if args.parent_pid:
        _watch_parent(args.parent_pid, server)
    if args.ready_file:
        _announce_when_started(server, Path(args.ready_file), url)
    logging.getLogger("uvicorn.error").info(
        "reference deployment at %s%s (data in %s, faults: %s)",
        url,
        API_PREFIX,
        data_dir,
        ", ".join(active) or "none",
    )
    server.run(sockets=[sock])
    return 0


def _parse_setting(item: str) -> tuple[str, object]:
    key, sep, raw = item.partition("=")
    if not sep:
        raise ValueError(f"--set needs KEY=VALUE, got {item!r}")
    try:
        return key.strip(), json.loads(raw)
    except ValueError:
        return key.strip(), raw


def _announce_when_started(server: uvicorn.Server, ready_file: Path, url: str) -> None:
    def wait() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.02)
        if server.started:
            tmp = ready_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}))
            tmp.replace(ready_file)

    threading.Thread(target=wait, daemon=True).start()


def _watch_parent(pid: int, server: uvicorn.Server) -> None:
    """Exit when the process that started us is gone (pytest killed hard)."""

    def watch() -> None:
        while not server.should_exit:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                server.should_exit = True
                return
            except PermissionError:
                pass
            time.sleep(1)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_deploycheck.reference")
    add_arguments(parser)
    return serve(parser.parse_args(argv))
