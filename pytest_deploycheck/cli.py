"""The ``deploycheck`` command: ``serve`` the reference deployment, list its ``faults``."""

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
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    raise SystemExit(main())
