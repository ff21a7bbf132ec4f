"""The ``deploycheck`` command: ``serve`` the reference deployment, list its ``faults``,
``cleanup`` what an interrupted or killed run left on a target."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="deploycheck",
        description="pytest-deploycheck tools. Checks themselves run under pytest: "
        "pytest --env local -m smoke",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser(
        "serve", help="run the reference deployment of the Anki Compendium API"
    )
    try:
        from pytest_deploycheck.reference import server
    except ImportError as exc:
        server = None  # type: ignore[assignment]
        missing = exc.name
    else:
        server.add_arguments(serve_parser)
    commands.add_parser("faults", help="list the faults the reference deployment can inject")
    cleanup_parser = commands.add_parser(
        "cleanup",
        help="delete what interrupted or killed runs left behind (recorded in .deploycheck/runs/)",
    )
    cleanup_parser.add_argument("--env", help="only runs against this env (default: all)")
    cleanup_parser.add_argument(
        "--deploycheck-config", dest="config", help="config file (default: as pytest finds it)"
    )
    init_parser = commands.add_parser("init", help="write a commented starter deploycheck.toml")
    init_parser.add_argument(
        "base_url", metavar="BASE_URL", help="e.g. https://staging.example.com"
    )
    init_parser.add_argument("--env", default="staging", help="the env's name (default: staging)")
    init_parser.add_argument("--production", action="store_true", help="mark the env production")
    init_parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    init_parser.add_argument("--path", default="deploycheck.toml", help="where to write it")
    schema_parser = commands.add_parser(
        "schema",
        help="print the JSON Schema of deploycheck.toml (for editors: #:schema in the file)",
    )
    schema_parser.add_argument("--output", "-o", help="write it to this file instead")
    commands.add_parser(
        "locustfile",
        help='print the shipped locustfile\'s path: locust -f "$(deploycheck locustfile)"',
    )
    args = parser.parse_args(argv)

    if args.command == "cleanup":
        return _cleanup(args.env, args.config)
    if args.command == "init":
        return _init(args)
    if args.command == "schema":
        from pathlib import Path

        from pytest_deploycheck.config.json_schema import schema_text

        if args.output:
            Path(args.output).write_text(schema_text())
            print(f"wrote {args.output}")
        else:
            sys.stdout.write(schema_text())
        return 0
    if args.command == "locustfile":
        from pytest_deploycheck.shipped import locustfile

        print(locustfile())
        return 0
    if args.command == "faults":
        from pytest_deploycheck.reference.faults import FAULTS, PRESETS

        width = max(len(name) for name in FAULTS)
        for fault in FAULTS.values():
            value = f" (VALUE, default {fault.default:g})" if fault.default is not None else ""
            print(f"{fault.name:<{width}}  [{fault.area}] {fault.description}{value}")
        for name, members in PRESETS.items():
            print(f"\npreset {name}: {', '.join(members)}")
        return 0
    if server is None:
        print(
            f"deploycheck serve needs the reference deployment's dependencies ({missing} is "
            "missing): pip install 'pytest-deploycheck[reference]'",
            file=sys.stderr,
        )
        return 2
    return server.serve(args)


def _init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pytest_deploycheck.starter import starter_config

    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"deploycheck init: {path} exists; --force overwrites it", file=sys.stderr)
        return 2
    try:
        text = starter_config(args.base_url, args.env, args.production)
    except ValueError as exc:
        print(f"deploycheck init: {exc}", file=sys.stderr)
        return 2
    from pytest_deploycheck.config.json_schema import SCHEMA_FILENAME, schema_text

    path.write_text(text)
    schema = path.with_name(SCHEMA_FILENAME)
    schema.write_text(schema_text())
    print(
        f"wrote {path} and {schema.name} (editors validate and complete the config with it); "
        f"next: set paths and journey for your API, then pytest --env {args.env} -m smoke"
    )
    return 0


def _cleanup(env_name: str | None, config_path: str | None) -> int:
    from pathlib import Path

    from pytest_deploycheck.config import Requested, resolve
    from pytest_deploycheck.errors import DeployCheckError
    from pytest_deploycheck.plugin import leftovers
    from pytest_deploycheck.run.redaction import Redactor

    rootdir = Path.cwd()
    found = leftovers.find(rootdir, env_name)
    if not found:
        print(
            "deploycheck cleanup: no run left anything behind"
            + (f" on env {env_name!r}" if env_name else "")
        )
        return 0
    failed = False
    for record in found:
        try:
            env = resolve(Requested(env=record.env, config_path=config_path), rootdir=rootdir).env
            assert env is not None
            redactor = Redactor(env.secrets)
            lines = leftovers.remove(record, env)
        except DeployCheckError as exc:
            print(f"{record.path.name}: {exc}", file=sys.stderr)
            failed = True
            continue
        for line in lines:
            print(redactor.text(line))
        failed = failed or any("left behind" in line for line in lines)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
