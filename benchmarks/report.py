"""The results of one run: tables on stdout, then JSON, Markdown and a PNG plot.

The default scenario writes results.{json,md,png}; the workday scenario
(benchmarks.workday) writes workday.{json,md,png} with the same table layout.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.targets import QUERIES, Target
from gateway.config import SEQUENCE_BUDGET

Table = tuple[str, list[str], list[list[str]]]


def _ms(value: Any, digits: int = 1) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def _ratio(numerator: Any, denominator: Any) -> str:
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (numerator, denominator)):
        return "-"
    if denominator == 0:
        return "inf" if numerator else "-"
    return f"{numerator / denominator:.1f}x"


def _calls(samples: dict[str, Any]) -> str:
    calls = samples["calls"]
    if samples["phase"] == "warm":
        shown = f"{calls[0]:g}" if calls else "-"
        return f"{shown} (0)"
    shown = str(calls[0]) if len(set(calls)) == 1 else f"{min(calls)}-{max(calls)}"
    return f"{shown} ({samples['min_calls']})"


def latency_table(results: dict[str, Any]) -> Table:
    headers = [
        "query",
        "phase",
        "n",
        "calls (min)",
        "p50 ms",
        "p95 ms",
        "path ms",
        "added ms",
        "CPU ms/req",
        "peak RSS MB",
        "naive p50 ms",
        "naive calls",
        "naive/ours p50",
        "naive/ours calls",
    ]
    rows = []
    for name in QUERIES:
        if name == "Q5":
            continue
        query = results["queries"].get(name, {})
        for phase in ("cold", "warm"):
            ours = query.get("ours", {}).get(phase)
            naive = query.get("naive", {}).get(phase)
            if not ours:
                continue
            flag = " !" if ours["errors"] else ""
            rows.append(
                [
                    name + flag,
                    phase,
                    str(len(ours["latencies_ms"])),
                    _calls(ours),
                    _ms(ours["p50_ms"]),
                    _ms(ours["p95_ms"]),
                    _ms(ours["critical_path_ms"], 0),
                    _ms(ours["added_ms"]),
                    _ms(ours["cpu_ms_per_request"], 2),
                    _ms(ours["peak_rss_mb"], 0),
                    _ms(naive["p50_ms"]) if naive else "-",
                    f"{naive['calls_per_request']:g}" if naive else "-",
                    _ratio(naive["p50_ms"], ours["p50_ms"]) if naive else "-",
                    _ratio(naive["calls_per_request"], ours["calls_per_request"]) if naive else "-",
                ]
            )
    return (
        "Latency per query (calls: per request, the minimum in brackets; path: upstream critical path)",
        headers,
        rows,
    )


def throughput_table(results: dict[str, Any]) -> Table:
    throughput = results.get("throughput", {})
    concurrencies = results["meta"]["concurrencies"]
    hello = {point["concurrency"]: point["rps"] for point in throughput.get("hello", {}).get("hello", [])}
    headers = ["server", "query"]
    for concurrency in concurrencies:
        headers += [f"c={concurrency} req/s", f"c={concurrency} / hello"]
    rows = []
    for server in ("ours", "naive", "hello"):
        for query, series in throughput.get(server, {}).items():
            by_concurrency = {point["concurrency"]: point for point in series}
            row = [server, query]
            for concurrency in concurrencies:
                point = by_concurrency.get(concurrency)
                rps = point["rps"] if point else math.nan
                failed = f" ({point['failed']} failed)" if point and point["failed"] else ""
                row += [_ms(rps, 0) + failed, _ratio(rps, hello.get(concurrency, math.nan))]
            rows.append(row)
    return "Throughput (warm; server on one core, load on the other)", headers, rows


def q5_table(results: dict[str, Any]) -> Table:
    q5 = results.get("q5", {})
    headers = [
        "server",
        "phase",
        "pages",
        "jobs",
        "total s",
        "path s",
        "total / path",
        "calls (min)",
        "p50 page ms",
        "RSS before MB",
        "peak RSS MB",
        "RSS growth MB",
    ]
    rows = []
    for server in ("ours", "naive"):
        for phase, paging in q5.get(server, {}).items():
            label = server
            if paging.get("extrapolated_from"):
                label += f" (extrapolated from {paging['extrapolated_from']} pages)"
            rows.append(
                [
                    label,
                    phase,
                    str(paging["pages"]),
                    str(paging["jobs"]),
                    _ms(paging["seconds"], 2),
                    _ms(q5.get("critical_path_s"), 2),
                    _ratio(paging["seconds"], q5.get("critical_path_s")).replace("x", ""),
                    f"{paging['calls']} ({q5.get('min_calls', '-') if phase == 'cold' else 0})",
                    _ms(paging["p50_page_ms"]),
                    _ms(paging["rss_before_mb"], 0),
                    _ms(paging["peak_rss_mb"], 0),
                    _ms(paging["rss_growth_mb"], 1),
                ]
            )
    direct = q5.get("upstream_direct")
    if direct:
        seconds = direct["seconds_extrapolated"]
        path = q5.get("critical_path_s")
        rows.append(
            [
                f"Sequence direct ({direct['pages']} pages, p50 x pages)",
                "-",
                str(q5.get("pages", "-")),
                "-",
                _ms(seconds, 2),
                _ms(path, 2),
                _ratio(seconds, path).replace("x", ""),
                "-",
                _ms(direct["p50_page_ms"]),
                "-",
                "-",
                "-",
            ]
        )
    title = f"Q5: work area {q5.get('work_area', '?')}, {q5.get('total_jobs', '?')} jobs, 200 per page"
    return title, headers, rows


def large_table(results: dict[str, Any]) -> Table:
    large = results.get("large_result") or {}
    headers = ["jobs", "fields", "default s", "gateway s", "speedup", "default peak MB", "gateway peak MB"]
    if "speedup" not in large:
        return "Large result from memory", ["error"], [[str(large.get("error", "not run"))]]
    row = [
        f"{large['jobs']:,}",
        str(large["fields"]),
        _ms(large["default_seconds"], 3),
        _ms(large["gateway_seconds"], 3),
        f"{large['speedup']:.2f}x",
        _ms(large.get("default_peak_mb"), 1),
        _ms(large.get("gateway_peak_mb"), 1),
    ]
    return "Large result from memory (benchmarks/large_result.py)", headers, [row]


def target_table(targets: list[Target]) -> Table:
    rows = [[target.verdict, target.name, target.measured, target.goal] for target in targets]
    return "Targets", ["result", "target", "measured", "goal"], rows


def notes_lines(results: dict[str, Any]) -> list[str]:
    meta = results["meta"]
    lines = [
        f"upstream latency {meta['latency_ms']:g} ms +- {meta['jitter_ms']:g} ms jitter; "
        f"critical path = round trips x {meta['latency_ms']:g} ms",
    ]
    lines += [f"{name}: {results['queries'][name]['formula']}" for name in results["queries"]]
    lines.append(f"Q5: {results.get('q5', {}).get('formula', '')}")
    q5 = results.get("q5", {})
    if q5.get("upstream_direct") and q5.get("critical_path_s"):
        direct = q5["upstream_direct"]
        lines.append(
            f"Q5 upstream: Sequence answers a 200-job page in {direct['p50_page_ms']:.0f} ms p50 when asked directly"
            f" (injected latency plus the simulator's own work): {direct['seconds_extrapolated']:.1f} s ="
            f" {direct['seconds_extrapolated'] / q5['critical_path_s']:.2f} x the formula's path for a client reading"
            " the pages one after the other; the gateway reads ahead (GATEWAY_READ_AHEAD_PAGES), so its pages overlap"
        )
    challenges = results.get("digest_challenges", {})
    for server, counts in challenges.items():
        lines.append(f"digest challenges (401) per process start, {server}: {counts}")
    lines += results.get("notes", [])
    return lines


def tables(results: dict[str, Any], targets: list[Target]) -> list[Table]:
    return [
        latency_table(results),
        throughput_table(results),
        q5_table(results),
        large_table(results),
        target_table(targets),
    ]


def _text(tables: list[Table], notes: list[str], targets: list[Target], wall_seconds: float) -> str:
    out = []
    for title, headers, rows in tables:
        widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
        out.append(title)
        out.append("  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)))
        out.append("  ".join("-" * width for width in widths))
        out += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
        out.append("")
    out += notes
    passed = sum(1 for target in targets if target.passed)
    failed = sum(1 for target in targets if target.passed is False)
    out.append(f"targets: {passed} passed, {failed} failed; wall time {wall_seconds:.0f} s")
    return "\n".join(out)


def _markdown(heading: str, command: str, meta: dict[str, Any], tables: list[Table], notes: list[str]) -> str:
    out = [
        f"# {heading}",
        "",
        f"`{command}` on {meta['started']} "
        f"({meta['cpus']} cores, Python {meta['python']}), wall time {meta['wall_seconds']:.0f} s.",
        "",
    ]
    for title, headers, rows in tables:
        out += [f"## {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        out.append("")
    out += ["## Notes", ""] + [f"- {line}" for line in notes] + [""]
    return "\n".join(out)


def render_text(results: dict[str, Any], targets: list[Target]) -> str:
    return _text(tables(results, targets), notes_lines(results), targets, results["meta"]["wall_seconds"])


def render_markdown(results: dict[str, Any], targets: list[Target]) -> str:
    meta = results["meta"]
    command = f"python -m benchmarks{' --quick' if meta['quick'] else ''}"
    return _markdown("Benchmark results", command, meta, tables(results, targets), notes_lines(results))


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend; None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


NO_MATPLOTLIB = "matplotlib is not installed (pip install -e '.[bench]')"


def _save(figure: Any, plt: Any, path: Path) -> None:
    figure.tight_layout()
    temporary = path.with_suffix(".png.tmp")
    figure.savefig(temporary, format="png", dpi=100)
    plt.close(figure)
    os.replace(temporary, path)


def plot(results: dict[str, Any], path: Path) -> str | None:
    """p50 latency per query, ours vs naive, cold and warm, log scale; the reason when not drawn."""
    plt = _pyplot()
    if plt is None:
        return NO_MATPLOTLIB
    names = [name for name in QUERIES if name == "Q5" or name in results["queries"]]
    series = [("ours", "cold"), ("naive", "cold"), ("ours", "warm"), ("naive", "warm")]
    colours = {"ours cold": "#1f77b4", "naive cold": "#ff7f0e", "ours warm": "#aec7e8", "naive warm": "#ffbb78"}
    figure, axes = plt.subplots(figsize=(10, 5))
    width = 0.2
    for index, (server, phase) in enumerate(series):
        values = []
        for name in names:
            if name == "Q5":
                samples = results.get("q5", {}).get(server, {}).get(phase)
                value = samples["p50_page_ms"] if samples else math.nan
            else:
                samples = results["queries"][name].get(server, {}).get(phase)
                value = samples["p50_ms"] if samples else math.nan
            values.append(value if isinstance(value, int | float) and value > 0 else math.nan)
        positions = [i + (index - 1.5) * width for i in range(len(names))]
        axes.bar(positions, values, width, label=f"{server} {phase}", color=colours[f"{server} {phase}"])
    axes.set_yscale("log")
    axes.set_xticks(range(len(names)), [f"{name} (per page)" if name == "Q5" else name for name in names])
    axes.set_ylabel("p50 latency (ms, log scale)")
    meta = results["meta"]
    axes.set_title(f"p50 latency per query, gateway vs naive (upstream latency {meta['latency_ms']:g} ms)")
    axes.grid(axis="y", which="both", alpha=0.3)
    axes.legend()
    _save(figure, plt, path)
    return None


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def _write_files(
    results: dict[str, Any],
    targets: list[Target],
    out: Path,
    stem: str,
    draw: Callable[[dict[str, Any], Path], str | None],
    markdown: Callable[[dict[str, Any], list[Target]], str],
) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / f"{stem}.json", "markdown": out / f"{stem}.md", "png": out / f"{stem}.png"}
    data = dict(results) | {"targets": [target.as_dict() for target in targets]}
    if problem := draw(results, paths["png"]):
        data.setdefault("notes", []).append(f"no plot: {problem}")
        del paths["png"]
    _write(paths["json"], json.dumps(_json_safe(data), indent=2, sort_keys=False) + "\n")
    _write(paths["markdown"], markdown(results, targets))
    return paths


def write(results: dict[str, Any], targets: list[Target], out: Path) -> dict[str, Path]:
    return _write_files(results, targets, out, "results", plot, render_markdown)


# The workday scenario (benchmarks.workday) ---------------------------------------------


def _seconds(value: Any) -> str:
    return _ms(value, 1)


def _share(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) and math.isfinite(value) else "-"


def _counts(counts: Any, limit: int = 4) -> str:
    if not isinstance(counts, dict):
        return "n/a"
    shown = [f"{name} {count}" for name, count in list(counts.items())[:limit]]
    more = len(counts) - limit
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "") if shown else "none"


def _lifetimes(run: dict[str, Any]) -> str:
    seen = [value for value in run["cache_lifetimes"].values() if value is not None]
    if not seen:
        return "n/a"
    return " -> ".join(dict.fromkeys(str(value) for value in seen))


def _warm_point(run: dict[str, Any]) -> str:
    warm = run["warm"]
    if warm["every_page_complete_s"] is not None:
        return f"{warm['every_page_complete_s'] / 60:.1f} min"
    return f"not in the run ({warm['complete_once']} of {warm['pages']} pages)"


def workday_table(results: dict[str, Any]) -> Table:
    runs = list(results["modes"].values())
    headers = ["after warm-up", *(run["label"] for run in runs)]
    rows_of: list[tuple[str, Any]] = [
        ("cache lifetimes (/readyz)", _lifetimes),
        (
            "answers (pages + details)",
            lambda run: f"{run['answers']['after_warm_up']} ({run['answers']['pages']} + {run['answers']['details']})",
        ),
        ("p50 / p95 ms", lambda run: f"{_ms(run['latency']['p50_ms'], 0)} / {_ms(run['latency']['p95_ms'], 0)}"),
        (
            "p95 ms pages / details",
            lambda run: f"{_ms(run['latency']['page_p95_ms'], 0)} / {_ms(run['latency']['detail_p95_ms'], 0)}",
        ),
        ("complete answers (no errors)", lambda run: _share(run["complete_share"])),
        ("errors by code", lambda run: _counts(run["errors_by_code"], 3)),
        ("stale answers", lambda run: f"{run['stale']['answers']} ({_share(run['stale']['share'])})"),
        (
            "stale age p50 / p95 / max s",
            lambda run: " / ".join(_seconds(run["stale"][key]) for key in ("age_p50_s", "age_p95_s", "age_max_s")),
        ),
        (
            "changes (timed + jobs created/deleted)",
            lambda run: f"{run['upstream']['changes']} ({run['staleness']['changes']} + {run['staleness']['untimed']})",
        ),
        (
            "observed / never observed / never shown",
            lambda run: (
                f"{run['staleness']['observed']} / {run['staleness']['never_observed']}"
                f" / {run['staleness']['never_shown']}"
            ),
        ),
        (
            "staleness p50 / p95 s: last reader given the old value",
            lambda run: f"{_seconds(run['staleness']['missed_p50_s'])} / {_seconds(run['staleness']['missed_p95_s'])}",
        ),
        (
            "staleness p50 / p95 s: first answer showing it",
            lambda run: (
                f"{_seconds(run['staleness']['visible_p50_s'])} / {_seconds(run['staleness']['visible_p95_s'])}"
            ),
        ),
        ("events poll interval s (/readyz)", lambda run: _ms(run["interval_seconds"], 2)),
        (
            "Sequence requests (reads + polls + 401s)",
            lambda run: (
                f"{run['upstream']['sequence_requests']} ({run['upstream']['reads']} + "
                f"{run['upstream']['events_polls']} + {run['upstream']['challenges']})"
            ),
        ),
        (
            "Sequence requests per change (without polls)",
            lambda run: (
                f"{_ms(run['upstream']['reads_per_change'], 2)}"
                f" ({_ms(run['upstream']['reads_per_change_without_polls'], 2)})"
            ),
        ),
        (
            "429s: whole run / after warm-up",
            lambda run: f"{run['upstream']['limited_all']} / {run['upstream']['limited_after_warm_up']}",
        ),
        ("budget spent by class (whole run)", lambda run: _counts(run["budget_spent_by_class"]["end"])),
        ("budget spent by class (after warm-up)", lambda run: _counts(run["budget_spent_by_class"]["after_warm_up"])),
        ("every page answered complete once by", _warm_point),
    ]
    rows = [[name, *(show(run) for run in runs)] for name, show in rows_of]
    meta = results["meta"]
    title = (
        f"Workday: {meta['users']} readers, {meta['minutes']:g} min a run, figures after the first "
        f"{meta['warm_up_minutes']:g} min"
    )
    return title, headers, rows


def workday_notes(results: dict[str, Any]) -> list[str]:
    meta = results["meta"]
    lines = [
        f"simulators: Sequence's limit on (150 per 30 s), {meta['latency_ms']:g} +- {meta['jitter_ms']:g} ms a request,"
        f" {meta['activity_per_minute']:g} changes a minute; seed {meta['seed']}, clock {meta['now']}",
        f"readers: every {meta['think_seconds'][0]:g}-{meta['think_seconds'][1]:g} s a page of 50 jobs with tasks,"
        f" assets, notes and problems ({meta['page_share']:.0%}: pages 1-{meta['pages']} and filters"
        f" {', '.join(meta['filters'])}, Zipf s = {meta['zipf_exponent']:g}) or one job seen on a page",
    ]
    if meta.get("gateway_env"):
        settings = ", ".join(f"{key}={value}" for key, value in meta["gateway_env"].items())
        lines.append(f"gateway settings on top of its defaults, in every run: {settings}")
    cold = results.get("cold_cost")
    if cold:
        lines.append(
            f"cold cost: the plan's {cold['pages']} pages hold {cold['distinct_jobs']} distinct jobs, {cold['reads']}"
            f" Sequence requests to read once = {cold['minutes_at_budget']:.1f} min of the budget"
            f" ({cold['budget']}); the first page alone needs {cold['first_page_reads']}"
        )
    lines += [
        "staleness, last reader given the old value: from a change at the simulator to the start of the last"
        " request whose answer still did not show it (0 when none), over changes that some answer requested"
        " after them held; the target is held to it",
        "staleness, first answer showing it: from the change to the end of the first answer that did; it includes"
        " the wait for any reader to open that job",
        "Sequence requests: every request the Sequence simulator counted after warm-up (/_sim/stats), the events"
        " poller's and digest challenges included; per change: that over the changes logged after warm-up",
        "budget spent by class: /readyz protection.sequence.budget.spentByClass (n/a: the gateway has none)",
    ]
    return lines + results.get("notes", [])


def workday_tables(results: dict[str, Any], targets: list[Target]) -> list[Table]:
    return [workday_table(results), target_table(targets)]


def render_workday_text(results: dict[str, Any], targets: list[Target]) -> str:
    return _text(workday_tables(results, targets), workday_notes(results), targets, results["meta"]["wall_seconds"])


def render_workday_markdown(results: dict[str, Any], targets: list[Target]) -> str:
    meta = results["meta"]
    command = f"python -m benchmarks workday{' --quick' if meta['quick'] else ''}"
    return _markdown("Workday benchmark", command, meta, workday_tables(results, targets), workday_notes(results))


def _rates(samples: list[list[float]], span: float) -> list[tuple[float, float]]:
    """(minute, requests a minute over the `span` seconds before it) from cumulative (seconds, count) samples.

    Over one budget window, since the budget lets a window's requests go in a burst.
    """
    rates = []
    for t, count, *_ in samples:
        earlier = [(t0, n0) for t0, n0, *_ in samples if t0 <= t - span]
        if earlier:
            t0, n0 = earlier[-1]
            rates.append((t / 60, (count - n0) / (t - t0) * 60))
    return rates


def plot_workday(results: dict[str, Any], path: Path) -> str | None:
    """Latency over time, Sequence requests a minute and the staleness CDF, per run; the reason when not drawn."""
    plt = _pyplot()
    if plt is None:
        return NO_MATPLOTLIB
    runs = list(results["modes"].values())
    if not runs:
        return "no run"
    warm_up = results["meta"]["warm_up_minutes"]
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c"]
    figure, (latency, upstream, staleness) = plt.subplots(1, 3, figsize=(16, 5))
    for colour, run in zip(colours, runs, strict=False):
        timeline = run["timeline"]
        minutes = [t / 60 for t in timeline["t"]]
        ok = [
            (m, ms) for m, ms, complete in zip(minutes, timeline["ms"], timeline["complete"], strict=True) if complete
        ]
        failed = [
            (m, ms)
            for m, ms, complete in zip(minutes, timeline["ms"], timeline["complete"], strict=True)
            if not complete
        ]
        if ok:
            latency.scatter(*zip(*ok, strict=True), s=4, color=colour, alpha=0.5, label=f"{run['label']}")
        if failed:
            latency.scatter(*zip(*failed, strict=True), s=10, color=colour, marker="x", label=f"{run['label']}: errors")
        rates = _rates(run["upstream_samples"], SEQUENCE_BUDGET.window)
        if rates:
            upstream.plot(*zip(*rates, strict=True), color=colour, label=run["label"])
        for key, style in (("missed_s", "-"), ("visible_s", ":")):
            values = run["staleness"][key]
            if values:
                shares = [(index + 1) / len(values) for index in range(len(values))]
                what = "last old answer" if key == "missed_s" else "first showing answer"
                staleness.step(values, shares, style, where="post", color=colour, label=f"{run['label']}: {what}")
    for axes in (latency, upstream):
        axes.axvline(warm_up, color="grey", linestyle="--", linewidth=1)
        axes.set_xlabel("minutes into the run (dashed: end of warm-up)")
    latency.set_yscale("log")
    latency.set_ylabel("latency (ms, log scale)")
    latency.set_title("Answers over time (x: with errors)")
    upstream.set_ylabel("Sequence requests a minute")
    upstream.set_ylim(bottom=0)
    upstream.axhline(
        SEQUENCE_BUDGET.effective_limit / SEQUENCE_BUDGET.span * 60,
        color="red",
        linestyle=":",
        linewidth=1,
        label=f"the gateway's budget ({SEQUENCE_BUDGET.effective_limit} per {SEQUENCE_BUDGET.span:g} s)",
    )
    upstream.set_title(f"Sequence requests a minute, over the last {SEQUENCE_BUDGET.window:g} s")
    staleness.set_xlabel("seconds after the change")
    staleness.set_ylabel("share of observed changes")
    staleness.set_title("Staleness after warm-up (CDF)")
    for axes in (latency, upstream, staleness):
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=7)
    _save(figure, plt, path)
    return None


def write_workday(results: dict[str, Any], targets: list[Target], out: Path) -> dict[str, Path]:
    return _write_files(results, targets, out, "workday", plot_workday, render_workday_markdown)
