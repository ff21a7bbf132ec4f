"""Free disk and memory (the seeds: alert under 10 % free disk, over 90 % memory).

testinfra has no module for either, so ``df -P`` and ``/proc/meminfo`` are read here.
"""

from __future__ import annotations

from pytest_deploycheck.infra.hosts import DeployHost


def check_disk(host: DeployHost, paths: tuple[str, ...], max_used_percent: float) -> list[str]:
    problems = []
    for path in paths:
        result = host.run("df -P -k %s", path)
        fields = (result.stdout.strip().splitlines() or [""])[-1].split()
        try:  # POSIX df -P: filesystem, blocks, used, available, capacity, mounted on
            used_kb, available_kb = int(fields[2]), int(fields[3])
        except (IndexError, ValueError):
            reason = result.stderr.strip() or f"df -P printed {result.stdout.strip()[:200]!r}"
            problems.append(f"{path}: cannot read its disk usage ({reason})")
            continue
        used = 100.0 * used_kb / max(1, used_kb + available_kb)
        if used > max_used_percent:
            problems.append(
                f"{path}: disk {used:.1f}% used ({_size(available_kb * 1024)} free), above "
                f"{max_used_percent:g}% (infra.max_disk_used_percent)"
            )
    return problems


def check_memory(host: DeployHost, max_used_percent: float) -> list[str]:
    result = host.run("cat /proc/meminfo")
    values = {}
    for line in result.stdout.splitlines():
        key, _, rest = line.partition(":")
        amount = rest.split()[:1]
        if amount and amount[0].isdigit():
            values[key] = int(amount[0]) * 1024  # kB
    total, available = values.get("MemTotal"), values.get("MemAvailable")
    if result.rc != 0 or not total or available is None:
        return [
            f"cannot read memory use (/proc/meminfo): {result.stderr.strip() or 'no MemAvailable'}"
        ]
    used = 100.0 * (1 - available / total)
    if used > max_used_percent:
        return [
            f"memory {used:.1f}% used ({_size(available)} of {_size(total)} available), above "
            f"{max_used_percent:g}% (infra.max_memory_used_percent)"
        ]
    return []


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.1f} {unit}" if unit != "B" else f"{count:.0f} B"
        count /= 1024
    return f"{count:.1f} TiB"
