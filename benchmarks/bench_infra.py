"""Issue 9's figures: what the infra and deps suites cost per run.

    python benchmarks/bench_infra.py [--runs 5]

One temporary deployment on this machine (a .env, an sshd_config), an sshd on
127.0.0.1 and a PostgreSQL and Redis from Debian's packages, all started here.
Paired and alternating, wall time of a whole pytest run (start-up included):

- ``-m infra`` on ``local://`` (the baseline), over ``ssh://`` with one connection
  per command (``controlpersist=0``: testinfra's own behaviour, as it sets no
  ControlPath), and over ``ssh://`` with the one shared connection the plugin sets
  up (ControlPath, ended with the run); ratios against the baseline;
- ``-m deps`` with PostgreSQL (answers, migrated) and Redis configured.
"""

from __future__ import annotations

import argparse
import getpass
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import pytest_command, report, time_command  # noqa: E402
from tests.infra_servers import postgres_server, redis_server, sshd_server  # noqa: E402

QUIET = ["-q", "-p", "no:cacheprovider", "--passive-checks=off"]


def infra_config(root: Path, url: str) -> str:
    return f"""
[envs.box]
base_url = "http://127.0.0.1:9"
[envs.box.infra]
hosts = [{{ url = "{url}", roles = ["api"], name = "box" }}]
disk_paths = ["{root}"]
max_disk_used_percent = 100
max_memory_used_percent = 100
[envs.box.infra.roles.api]
processes = ["sshd"]            # the one this benchmark starts
root_allowed = ["sshd"]
secret_files = [{{ path = "{root}/.env", mode = "600" }}]
env_files = [{{ path = "{root}/.env", expect = {{ DEBUG = "false" }} }}]
sshd_config = "{root}/sshd_config"
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    root = Path(tempfile.mkdtemp(prefix="deploycheck-bench-infra-"))
    (root / ".env").write_text("DEBUG=false\nSECRET_KEY=abcdefgh\n")
    (root / ".env").chmod(0o600)
    (root / "sshd_config").write_text("PermitRootLogin no\n")
    try:
        with sshd_server() as sshd, postgres_server() as pg, redis_server() as redis_port:
            shared = sshd.url(getpass.getuser())
            per_command = shared + "&controlpersist=0"
            variants = {
                "-m infra, local://": infra_config(root, "local://"),
                "-m infra, ssh:// (a connection per command)": infra_config(root, per_command),
                "-m infra, ssh:// (one shared connection, the default)": infra_config(root, shared),
            }
            paths = {}
            for index, text in enumerate(variants.values()):
                paths[index] = root / f"infra{index}.toml"
                paths[index].write_text(text)
            deps = root / "deps.toml"
            deps.write_text(
                '[envs.box]\nbase_url = "http://127.0.0.1:9"\n'
                f'deps.postgres = {{ dsn = "{pg.dsn()}" , version_table = "" }}\n'
                f'deps.redis = {{ url = "redis://127.0.0.1:{redis_port}/0", require_password = false, require_maxmemory = false }}\n'
            )
            times: dict[str, list[float]] = {
                label: [] for label in [*variants, "-m deps (PostgreSQL, Redis)"]
            }
            for _ in range(runs):  # alternating, so the machine's noise falls on every variant
                for index, label in enumerate(variants):
                    times[label] += time_command(
                        pytest_command("--env", "box", f"--deploycheck-config={paths[index]}",
                                       "-m", "infra", "suites/test_infra.py", *QUIET),
                        runs=1,
                    )  # fmt: skip
                times["-m deps (PostgreSQL, Redis)"] += time_command(
                    pytest_command("--env", "box", f"--deploycheck-config={deps}", "-m", "deps",
                                   "suites/test_dependencies.py", *QUIET),
                    runs=1,
                )  # fmt: skip
            medians = {label: report(label, values) for label, values in times.items()}
            baseline = statistics.median(times["-m infra, local://"])
            for label in list(variants)[1:]:
                print(f"{label:<58} {medians[label] / baseline:.2f}x the local:// run")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
