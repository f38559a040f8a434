"""``report.html``: the history drawn, one self-contained file (inline SVG and CSS, no script,
nothing fetched; its Content-Security-Policy forbids fetching, so a browser would say so).

Three charts: the outcome of each scenario (test file) in each of the last runs, the duration
trend of the slowest scenarios, and the last run's phases per test as a timeline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from ._history import TREND_RUNS, RunHistory, slowest_scenarios

COLORS = {"passed": "#2e9d4f", "flaky": "#e89b12", "failed": "#d9363e", "error": "#8f1d24",
          "xpassed": "#d9363e", "skipped": "#b4b4b4", "xfailed": "#9fb3c8"}
_WORST_FIRST = ("error", "failed", "xpassed", "flaky", "passed", "xfailed", "skipped")
_LINES = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_LABEL_W = 330


def _worst(outcomes: Counter[str]) -> str:
    return next((o for o in _WORST_FIRST if outcomes[o]), "skipped")


def _short(name: str, n: int = 48) -> str:
    return name if len(name) <= n else "…" + name[-(n - 1):]


def outcome_timeline(runs: Sequence[RunHistory]) -> str:
    """One row per scenario, one cell per run, coloured by the scenario's worst outcome."""
    scenarios = sorted({r.scenario for run in runs for r in run.records})
    cell, row_h = 22, 20
    w, h = _LABEL_W + cell * len(runs) + 10, 30 + row_h * len(scenarios)
    per_run = []  # scenario -> outcomes, once per run (not once per cell)
    for run in runs:
        by_scenario: dict[str, Counter[str]] = {}
        for r in run.records:
            by_scenario.setdefault(r.scenario, Counter())[r.outcome] += 1
        per_run.append(by_scenario)
    out = [f'<svg class="chart" id="outcome-timeline" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" role="img">',
           '<text x="0" y="14" class="axis">scenario \\ run (oldest to newest)</text>']
    for i, scenario in enumerate(scenarios):
        y = 24 + i * row_h
        out.append(f'<text x="0" y="{y + 14}">{escape(_short(scenario))}</text>')
        for j, run in enumerate(runs):
            got = per_run[j].get(scenario, Counter())
            x = _LABEL_W + j * cell
            if not got:
                out.append(f'<rect x="{x}" y="{y}" width="{cell - 3}" height="{row_h - 4}" '
                           f'fill="#f1f1f1"><title>{escape(run.run_id)}: not run</title></rect>')
                continue
            worst = _worst(got)
            tip = ", ".join(f"{n} {o}" for o, n in sorted(got.items()))
            out.append(f'<rect class="cell {worst}" x="{x}" y="{y}" width="{cell - 3}" '
                       f'height="{row_h - 4}" fill="{COLORS.get(worst, "#888")}"><title>'
                       f'{escape(scenario)} in {escape(run.run_id)}: {escape(tip)}</title></rect>')
    out.append("</svg>")
    return "\n".join(out)


def duration_trend(runs: Sequence[RunHistory], n: int = 5) -> str:
    """Seconds per run of the ``n`` slowest scenarios of the newest run, one line each."""
    slow = slowest_scenarios(runs, n)
    w, h, left, top, bottom = 760, 280, 60, 20, 40
    series = {s: [run.scenario_seconds().get(s) for run in runs] for s in slow}
    top_s = max([v for vs in series.values() for v in vs if v is not None] or [1.0]) * 1.1
    plot_w, plot_h = w - left - 20, h - top - bottom
    step = plot_w / max(1, len(runs) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (1 - v / top_s)

    out = [f'<svg class="chart" id="duration-trend" width="{w}" height="{h + 18 * len(slow)}" '
           f'viewBox="0 0 {w} {h + 18 * len(slow)}" xmlns="http://www.w3.org/2000/svg" '
           f'role="img">',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
           f'stroke="#444"/><line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" '
           f'stroke="#444"/>']
    for k in range(5):  # y grid: 0 .. top_s seconds
        v = top_s * k / 4
        _, y = xy(0, v)
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
                   f'{v:.0f}s</text>')
    out.append(f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h + 28}" '
               f'text-anchor="middle" class="axis">run (oldest to newest, {len(runs)})</text>')
    for color, (scenario, values) in zip(_LINES, series.items(), strict=False):
        pts = [xy(i, v) for i, v in enumerate(values) if v is not None]
        out.append(f'<polyline class="trend" fill="none" stroke="{color}" stroke-width="2" '
                   f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}"/>')
        for (x, y), v, run in zip(pts, [v for v in values if v is not None],
                                  [r for r, v in zip(runs, values, strict=True)
                                   if v is not None], strict=True):
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>'
                       f'{escape(scenario)} in {escape(run.run_id)}: {v:.1f}s</title></circle>')
    for i, (color, scenario) in enumerate(zip(_LINES, series, strict=False)):
        y = h + 18 * i
        out.append(f'<rect x="{left}" y="{y - 10}" width="14" height="4" fill="{color}"/>'
                   f'<text x="{left + 20}" y="{y - 4}">{escape(scenario)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def phase_timeline(run: RunHistory) -> str:
    """The newest run's tests that tell phases: each phase a bar, laid end to end."""
    phased = [r for r in run.records if r.phases]
    if not phased:
        return '<p class="empty">No test of the newest run told its phases.</p>'
    longest = max(sum(float(p["duration_s"]) for p in r.phases) for r in phased) or 1.0
    plot_w, row_h = 560, 22
    w, h = _LABEL_W + plot_w + 60, 10 + row_h * len(phased)
    out = [f'<svg class="chart" id="phase-timeline" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" role="img">']
    for i, r in enumerate(sorted(phased, key=lambda r: r.nodeid)):
        y = 4 + i * row_h
        name = r.nodeid.split("::", 1)[-1]
        out.append(f'<text x="0" y="{y + 14}">{escape(_short(name))}</text>')
        x = float(_LABEL_W)
        for p in r.phases:
            pw = max(1.0, float(p["duration_s"]) / longest * plot_w)
            outcome = str(p["outcome"])
            fill = COLORS.get(outcome, "#d9363e")
            out.append(f'<rect class="phase {escape(outcome)}" x="{x:.1f}" y="{y}" '
                       f'width="{pw:.1f}" height="{row_h - 6}" fill="{fill}" stroke="#fff">'
                       f'<title>{escape(name)}: PHASE {p["number"]} {escape(str(p["title"]))}: '
                       f'{escape(outcome)} {float(p["duration_s"]):.1f}s</title></rect>')
            if pw > 16:
                out.append(f'<text x="{x + pw / 2:.1f}" y="{y + 12}" text-anchor="middle" '
                           f'class="in">{p["number"]}</text>')
            x += pw
        total = sum(float(p["duration_s"]) for p in r.phases)
        out.append(f'<text x="{x + 6:.1f}" y="{y + 13}" class="axis">{total:.1f}s</text>')
    out.append("</svg>")
    return "\n".join(out)


def render_report_html(runs: Sequence[RunHistory], *, last: int = TREND_RUNS) -> str:
    window = list(runs)[-last:]
    newest = window[-1] if window else None
    title = f"E2E history: {newest.run_id}" if newest else "E2E history: no runs yet"
    legend = " ".join(f'<span class="key" style="background:{c}"></span>{o}'
                      for o, c in COLORS.items())
    body = ["<p>No run has written history yet.</p>"] if newest is None else [
        f"<p>The last {len(window)} run(s), newest <code>{escape(newest.run_id)}</code> "
        f"(written {escape(newest.at)}). Hover a mark for its figures.</p>",
        f'<p class="legend">{legend}</p>',
        "<h2>Outcome of each scenario, run by run</h2>", outcome_timeline(window),
        "<h2>Duration of the slowest scenarios</h2>", duration_trend(window),
        "<h2>Phases of the newest run, per test</h2>", phase_timeline(newest)]
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        f"<title>{escape(title)}</title>",
        "<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}"
        "svg text{font:12px system-ui,sans-serif;fill:#222} svg text.axis{fill:#555}"
        "svg text.in{fill:#fff;font-size:10px} .key{display:inline-block;width:12px;"
        "height:12px;margin:0 4px 0 12px;vertical-align:middle} h2{margin-top:28px}</style>",
        "</head><body>", f"<h1>{escape(title)}</h1>", *body,
        f'<p class="foot">Generated {datetime.now(UTC).isoformat(timespec="seconds")} by '
        "harness.reporting.</p>", "</body></html>", ""])


def write_report_html(path: Path, runs: Sequence[RunHistory]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report_html(runs), encoding="utf-8")
    return path
