"""The verdict as the HTML report opens on it (pytest-html): what a person reads first.

Above everything (pytest-html's own Environment table moves below it): GREEN or RED with
the env; each cause with what to do next and the checks it broke, folded; the journey as
a strip that shows where it broke; a latency chart of the target's own endpoints against
their budgets (matplotlib, as inline SVG: the report stays one file that works offline);
the watch window and the baseline comparison; then the run's details, folded. Text wraps
and the page does not scroll sideways.
"""

from __future__ import annotations

import html
import io
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_deploycheck.plugin.verdict import Cause, Verdict

GREEN, RED, AMBER, GREY = "#116329", "#b3261e", "#7d4e00", "#57606a"

# pytest-html's page, made readable: larger dark text, the verdict first, logs that wrap.
STYLE = """
<style>
body { display: flex; flex-direction: column; font-size: 15px; color: #1f2328;
  max-width: 100%; overflow-x: hidden; line-height: 1.45; }
body > * { max-width: 100%; }
#title { order: -3; } body > p:first-of-type { order: -2; } .summary { order: -1; }
#environment-header, #environment { order: 1; } #results-table { order: 2; }
.summary__data > h2 { display: none; }
.log, pre, td, li { white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word; }
#results-table { table-layout: fixed; width: 100%; }
#deploycheck-verdict { border: 4px solid; border-radius: 8px; padding: 14px 18px;
  margin: 6px 0 14px; background: #fff; }
#deploycheck-verdict h2.dc-headline { font-size: 24px; margin: 0 0 6px; }
#deploycheck-verdict .dc-meta { color: #424a53; margin: 0 0 10px; }
#deploycheck-verdict h3 { font-size: 17px; margin: 14px 0 6px; }
#deploycheck-verdict .dc-next { display: block; color: #424a53; margin: 2px 0 4px; }
#deploycheck-verdict table { border-collapse: collapse; }
#deploycheck-verdict td, #deploycheck-verdict th { padding: 2px 10px 2px 0; text-align: left;
  vertical-align: top; }
.dc-strip { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 4px 0; }
.dc-step { border: 2px solid; border-radius: 14px; padding: 2px 10px; font-weight: 600; }
.dc-chart svg { max-width: 100%; height: auto; }
.dc-fail { color: #b3261e; font-weight: 700; } .dc-pass { color: #116329; font-weight: 700; }
</style>
"""

_STEPS = ("sign-in", "upload", "job", "download", "deck")


def render(verdict: Verdict, budgets: dict[str, float] | None = None) -> str:
    colour = {"green": GREEN, "interrupted": AMBER, "inconclusive": AMBER}.get(verdict.verdict, RED)
    parts = [
        STYLE,
        f'<div id="deploycheck-verdict" style="border-color:{colour}">',
        f'<h2 class="dc-headline" style="color:{colour}">{html.escape(verdict.headline())}</h2>',
        f'<p class="dc-meta">{html.escape(_meta(verdict))}</p>',
    ]
    if verdict.causes:
        parts.append("<h3>Causes, the one that broke most checks first</h3><ol>")
        parts.extend(_cause(cause) for cause in verdict.causes)
        parts.append("</ol>")
    strip = journey_strip(verdict)
    if strip:
        parts.append(f"<h3>Journey</h3>{strip}")
    if verdict.deck:
        parts.append(f"<p>Deck: {html.escape(verdict.deck)}</p>")
    if verdict.latency:
        parts.append(_latency(verdict.latency, budgets or {}))
    parts.append(_watch(verdict))
    parts.append(_baseline(verdict))
    parts.append(_details(verdict))
    parts.append("</div>")
    return "".join(parts)


def _meta(verdict: Verdict) -> str:
    version = verdict.deployed_version or "not read"
    expected = f" (expected {verdict.expected_version})" if verdict.expected_version else ""
    return (
        f"env {verdict.env or '-'} · {verdict.target or '-'} · production: "
        f"{'yes' if verdict.production else 'no'} · deployed version {version}{expected} · "
        f"{verdict.duration_s:.0f} s · pytest-deploycheck {verdict.plugin_version}"
    )


def next_step(cause: Cause) -> str:
    """What to do about a cause, first."""
    summary = cause.summary
    if cause.kind == "unreachable":
        return "Check that the service runs and that its URL, DNS name and certificate are right."
    status = re.search(r"-> (\d{3})\b", summary)
    if status and status.group(1).startswith("5"):
        return (
            "The server failed on this request: find it in the service's log (the time and "
            "path are in the checks' exchanges) and replay it with the curl line in a check's log."
        )
    if "security header policy" in summary:
        return (
            "Set the named headers where every answer passes: the proxy, or the app's middleware."
        )
    if cause.kind == "error":
        return (
            "A step several checks share failed (a sign-in, the upload): fix it first; the "
            "checks that need it could not judge anything."
        )
    if status and status.group(1).startswith("4"):
        return "The target refused the request: compare it with the API's contract, and the env's paths."
    return "Open the first check listed below: its log has the exchanges and a curl replay."


def _cause(cause: Cause) -> str:
    checks = "".join(f"<li>{html.escape(check)}</li>" for check in cause.checks)
    count = len(cause.checks)
    return (
        f"<li><b>{html.escape(cause.summary)}</b>"
        f'<span class="dc-next">Next: {html.escape(next_step(cause))}</span>'
        f"<details><summary>{count} check{'s' if count != 1 else ''} broken</summary>"
        f"<ul>{checks}</ul></details></li>"
    )


def journey_strip(verdict: Verdict) -> str:
    """``sign-in ✓ → upload ✗ 500 → job · → …`` where it broke, or the job's states."""
    broke = verdict.journey_broke
    steps = []
    if broke:
        failed_at = _STEPS.index(broke["step"]) if broke.get("step") in _STEPS else 0
        status = re.search(r"-> (\d{3})\b", str(broke.get("said", "")))
        for index, step in enumerate(_STEPS):
            if index < failed_at:
                steps.append(_step(f"{step} ✓", GREEN))
            elif index == failed_at:
                why = f" {status.group(1)}" if status else ""
                steps.append(_step(f"{step} ✗{why}", RED, title=str(broke.get("said", ""))))
            else:
                steps.append(_step(f"{step} · not reached", GREY))
    elif verdict.timeline:
        steps.append(_step("upload ✓", GREEN))
        for state in verdict.timeline:
            name = str(state.get("status"))
            colour = GREEN if name in ("completed", "succeeded", "done") else GREY
            if name in ("failed", "error", "cancelled"):
                colour = RED
            steps.append(_step(f"{name} {float(state.get('at_s', 0)):.1f} s", colour))
    if not steps:
        return ""
    return '<div class="dc-strip">' + " → ".join(steps) + "</div>"


def _step(text: str, colour: str, title: str = "") -> str:
    hover = f' title="{html.escape(title)}"' if title else ""
    return (
        f'<span class="dc-step" style="border-color:{colour};color:{colour}"{hover}>'
        f"{html.escape(text)}</span>"
    )


def _latency(rows: list[dict[str, Any]], budgets: dict[str, float]) -> str:
    shown = rows[:12]
    chart = latency_chart(shown, budgets)
    table = "".join(
        f"<tr><td>{html.escape(r['endpoint'])}</td><td>{r['count']}</td>"
        f"<td>{r['median_ms']:.0f}</td><td>{r['max_ms']:.0f}</td>"
        f"<td>{budgets.get(r['endpoint'], 0):.0f}</td></tr>"
        for r in rows
    )
    return (
        "<h3>Latency of the target's endpoints (median and slowest, against their budget)</h3>"
        f'<div class="dc-chart">{chart}</div>'
        f"<details><summary>all {len(rows)} endpoints</summary><table><tr><th>endpoint</th>"
        "<th>answers</th><th>median ms</th><th>max ms</th><th>budget ms</th></tr>"
        f"{table}</table></details>"
    )


def latency_chart(rows: list[dict[str, Any]], budgets: dict[str, float]) -> str:
    """Horizontal bars (median; a tick at the slowest; a red mark at the budget), as SVG; a
    chart that cannot be drawn is said in its place (the report is still written)."""
    try:
        return _chart(rows, budgets)
    except Exception as exc:  # noqa: BLE001  (a picture is not worth the report)
        return (
            f"<p>(no chart: {html.escape(type(exc).__name__)}: {html.escape(str(exc)[:200])})</p>"
        )


def _chart(rows: list[dict[str, Any]], budgets: dict[str, float]) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return "<p>(no chart: pip install 'pytest-deploycheck[report]' adds matplotlib)</p>"
    names = [row["endpoint"] for row in rows][::-1]
    medians = [max(row["median_ms"], 0.1) for row in rows][::-1]
    slowest = [max(row["max_ms"], 0.1) for row in rows][::-1]
    limits = [budgets.get(row["endpoint"]) for row in rows][::-1]
    figure, axes = pyplot.subplots(figsize=(9, 0.34 * len(rows) + 0.9), dpi=96)
    try:
        positions = range(len(rows))
        over = [
            limit is not None and worst > limit
            for worst, limit in zip(slowest, limits, strict=True)
        ]
        axes.barh(
            positions,
            medians,
            color=["#b3261e" if bad else "#0969da" for bad in over],
            height=0.6,
            label="median",
        )
        axes.scatter(slowest, positions, marker="|", s=160, color="#1f2328", label="slowest")
        budget_x = [limit for limit in limits if limit]
        budget_y = [p for p, limit in zip(positions, limits, strict=True) if limit]
        if budget_x:
            axes.scatter(budget_x, budget_y, marker="D", s=28, color="#b3261e", label="budget")
        axes.set_yticks(list(positions), names, fontsize=9)
        axes.set_xscale("log")
        axes.set_xlabel("milliseconds (log scale)")
        axes.legend(loc="lower right", fontsize=8)
        axes.grid(axis="x", alpha=0.3)
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(out, format="svg")
    finally:
        pyplot.close(figure)
    svg = out.getvalue()
    return svg[svg.index("<svg") :]


def _watch(verdict: Verdict) -> str:
    watch = verdict.watch
    if not watch or not watch.get("started"):
        return ""
    colours = {"P": GREEN, "F": RED, "S": "#8c959f", "-": "#eaeef2"}
    rows = []
    for check, letters in sorted(watch["timeline"].items()):
        cells = "".join(
            f'<span title="round {n}: {letter}" style="display:inline-block;width:6px;'
            f'height:14px;margin-right:1px;background:{colours.get(letter, "#eaeef2")}"></span>'
            for n, letter in enumerate(letters[-200:], 1)
        )
        rows.append(f"<tr><td>{html.escape(check)}</td><td>{cells}</td></tr>")
    charts = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{sparkline([v for _, v in series])}</td>"
        f"<td>{max(v for _, v in series):.0f} ms</td></tr>"
        for name, series in sorted(watch["latency"].items())
        if series
    )
    failures = "".join(
        f"<li><b>{html.escape(f['check'])}</b>: failed in {f['failed_rounds']} of "
        f"{f['rounds']} rounds from round {f['first_round']} ({html.escape(f['first_failed_at'])})"
        f"<pre>{html.escape(f['message'])}\n{html.escape(f['evidence'])}\n"
        f"{html.escape(f['replay'])}</pre></li>"
        for f in watch["failures"]
    )
    parts = [
        f"<h3>Watch window</h3><p>{watch['rounds']} of {watch['planned_rounds']} rounds "
        f"({html.escape(watch['window'])}): {html.escape(watch['reason'])}</p>",
    ]
    if failures:
        parts.append(f"<ol>{failures}</ol>")
    parts.append(f"<h4>Checks &times; rounds</h4><table>{''.join(rows)}</table>")
    if charts:
        parts.append(
            "<h4>Latency per endpoint over the window (median per round)</h4>"
            f"<table><tr><th>endpoint</th><th>rounds</th><th>max</th></tr>{charts}</table>"
        )
    return "".join(parts)


def sparkline(values: list[float], width: int = 240, height: int = 28) -> str:
    """An inline SVG line of ``values`` (one per round)."""
    if not values:
        return ""
    top = max(values) or 1.0
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="latency per round">'
        f'<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="{points}"/></svg>'
    )


def _baseline(verdict: Verdict) -> str:
    baseline = verdict.baseline
    if not baseline or not baseline.get("endpoints"):
        return ""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    rows = "".join(
        f"<tr><td>{html.escape(r['endpoint'])}</td><td>{ms(r['base_median_ms'])}</td>"
        f"<td>{ms(r['now_median_ms'])}</td><td>{ms(r['shift_ms'])}</td>"
        f"<td>{ms(r['ci_low_ms'])} … {ms(r['ci_high_ms'])}</td>"
        f'<td class="{"dc-fail" if r["outcome"] == "regression" else "dc-pass"}">'
        f"{html.escape(r['outcome'])}</td></tr>"
        for r in baseline["endpoints"]
    )
    return (
        f"<h3>Against the baseline: {html.escape(str(baseline.get('against')))}</h3><table>"
        "<tr><th>endpoint</th><th>baseline median ms</th><th>now median ms</th>"
        f"<th>shift ms</th><th>CI ms</th><th>verdict</th></tr>{rows}</table>"
    )


def _details(verdict: Verdict) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in (
            ("suites' git SHA", verdict.suites_sha or "unknown"),
            ("cleanup", "; ".join(verdict.cleanup) or "nothing to clean"),
        )
    )
    counts = "".join(
        f"<tr><td>{html.escape(suite)}</td>"
        + "".join(f"<td>{counts.get(o, 0)}</td>" for o in ("passed", "failed", "error", "skipped"))
        + "</tr>"
        for suite, counts in sorted(verdict.counts.items())
    )
    recommendations = "".join(f"<li>{html.escape(r)}</li>" for r in verdict.recommendations)
    more = (
        f"<h4>Recommendations (not failures)</h4><ul>{recommendations}</ul>"
        if recommendations
        else ""
    )
    return (
        "<details><summary>The run's details: checks per suite, cleanup, recommendations"
        f"</summary><table>{rows}</table><table><tr><th>suite</th><th>passed</th>"
        f"<th>failed</th><th>errors</th><th>skipped</th></tr>{counts}</table>{more}</details>"
    )
