"""The issue's targets, evaluated on one run's results.

Each target is a ratio or a count, never an absolute time, since machines are
noisy: (name, measured, goal, passed). `passed` is None for the rows that only
set the naive gateway's numbers beside ours. The workday scenario's targets
(`evaluate_workday`) are the issue's own, a p95 in milliseconds among them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

QUERIES = ("Q1", "Q2", "Q3", "Q4", "Q5", "Q6")
Q2_PATH_FACTOR = 1.10
Q5_PATH_FACTOR = 1.2
Q5_RSS_GROWTH_MB = 100.0
LARGE_RESULT_SPEEDUP = 3.0


@dataclass
class Target:
    name: str
    measured: str
    goal: str
    passed: bool | None
    value: float | None = None  # the measured number itself, for the JSON

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "info"}[self.passed]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"verdict": self.verdict}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _missing(name: str, goal: str, why: str) -> Target:
    return Target(name, f"not measured ({why})", goal, False)


def evaluate(results: dict[str, Any]) -> list[Target]:
    targets: list[Target] = []
    queries = results.get("queries", {})
    q5 = results.get("q5", {})

    # Upstream calls: cold the minimum, warm none.
    for name in QUERIES:
        if name == "Q5":
            cold, warm = q5.get("ours", {}).get("cold"), q5.get("ours", {}).get("warm")
            minimum = q5.get("min_calls")
            cold_calls = [cold["calls"]] if cold else []
            warm_calls = warm["calls"] if warm else None
        else:
            ours = queries.get(name, {}).get("ours", {})
            cold, warm = ours.get("cold"), ours.get("warm")
            minimum = cold["min_calls"] if cold else None
            cold_calls = cold["calls"] if cold else []
            warm_calls = warm["calls_per_request"] if warm else None
        goal = f"= {minimum}" if minimum is not None else "= the minimum"
        if not cold_calls:
            targets.append(_missing(f"{name} cold upstream calls", goal, "no cold samples"))
        else:
            shown = str(cold_calls[0]) if len(set(cold_calls)) == 1 else f"{min(cold_calls)}-{max(cold_calls)}"
            targets.append(
                Target(
                    f"{name} cold upstream calls",
                    shown,
                    goal,
                    all(calls == minimum for calls in cold_calls),
                    float(max(cold_calls)),
                )
            )
        if warm_calls is None:
            targets.append(_missing(f"{name} warm upstream calls", "= 0", "no warm samples"))
        else:
            targets.append(
                Target(f"{name} warm upstream calls", f"{warm_calls:g}", "= 0", warm_calls == 0, float(warm_calls))
            )

    # Q2 cold latency against the upstream critical path.
    cold = queries.get("Q2", {}).get("ours", {}).get("cold")
    goal = f"<= {Q2_PATH_FACTOR:.2f} x critical path"
    if cold and _finite(cold.get("p50_ms")) and cold.get("critical_path_ms"):
        ratio = cold["p50_ms"] / cold["critical_path_ms"]
        targets.append(
            Target(
                "Q2 cold p50 / upstream critical path",
                f"{ratio:.2f} ({cold['p50_ms']:.0f} / {cold['critical_path_ms']:.0f} ms)",
                goal,
                ratio <= Q2_PATH_FACTOR,
                ratio,
            )
        )
    else:
        targets.append(_missing("Q2 cold p50 / upstream critical path", goal, "no Q2 cold samples"))

    # Warm Q1 throughput against the hello world's, one worker each.
    throughput = results.get("throughput", {})
    ours = _peak(throughput.get("ours", {}).get("Q1"))
    hello = _peak(throughput.get("hello", {}).get("hello"))
    goal = ">= 1.00 (peak req/s over c = 1, 16, 64)"
    if ours and hello:
        ratio = ours / hello
        targets.append(
            Target(
                "warm Q1 throughput / hello world",
                f"{ratio:.2f} ({ours:.0f} / {hello:.0f} req/s)",
                goal,
                ratio >= 1.0,
                ratio,
            )
        )
    else:
        targets.append(_missing("warm Q1 throughput / hello world", goal, "a throughput series is missing"))

    # The large result against default Strawberry on the same data.
    large = results.get("large_result") or {}
    goal = f">= {LARGE_RESULT_SPEEDUP:.0f}x"
    name = f"{large.get('jobs', 10_000):,} jobs x {large.get('fields', 10)} fields vs default Strawberry"
    if _finite(large.get("speedup")):
        targets.append(
            Target(
                name,
                f"{large['speedup']:.2f}x ({large['default_seconds']:.3f} s / {large['gateway_seconds']:.3f} s)",
                goal,
                large["speedup"] >= LARGE_RESULT_SPEEDUP,
                large["speedup"],
            )
        )
    else:
        targets.append(_missing(name, goal, large.get("error", "not run")))

    # Q5: total time and memory.
    cold = q5.get("ours", {}).get("cold")
    goal = f"<= {Q5_PATH_FACTOR:.1f} x (pages x upstream latency)"
    if cold and q5.get("critical_path_s"):
        ratio = cold["seconds"] / q5["critical_path_s"]
        targets.append(
            Target(
                "Q5 total time / (pages x latency)",
                f"{ratio:.2f} ({cold['seconds']:.1f} / {q5['critical_path_s']:.1f} s, {cold['pages']} pages)",
                goal,
                ratio <= Q5_PATH_FACTOR,
                ratio,
            )
        )
        growth = cold["rss_growth_mb"]
        targets.append(
            Target(
                "Q5 RSS growth",
                f"{growth:.1f} MB",
                f"< {Q5_RSS_GROWTH_MB:.0f} MB",
                _finite(growth) and growth < Q5_RSS_GROWTH_MB,
                growth,
            )
        )
    else:
        targets.append(_missing("Q5 total time / (pages x latency)", goal, "Q5 not run"))
        targets.append(_missing("Q5 RSS growth", f"< {Q5_RSS_GROWTH_MB:.0f} MB", "Q5 not run"))

    # The naive gateway beside ours: ratios, not pass/fail.
    for name in QUERIES:
        if name == "Q5":
            naive, ours_q5 = q5.get("naive", {}).get("cold"), q5.get("ours", {}).get("cold")
            if naive and ours_q5 and ours_q5["seconds"] and ours_q5["calls"]:
                targets.append(
                    Target(
                        "Q5 naive / ours (total time, calls)",
                        f"{naive['seconds'] / ours_q5['seconds']:.1f}x, {naive['calls'] / ours_q5['calls']:.1f}x"
                        + (" (naive extrapolated)" if naive.get("extrapolated_from") else ""),
                        "beside ours",
                        None,
                        naive["seconds"] / ours_q5["seconds"],
                    )
                )
            continue
        for phase in ("cold", "warm"):
            ours_phase = queries.get(name, {}).get("ours", {}).get(phase)
            naive_phase = queries.get(name, {}).get("naive", {}).get(phase)
            if not (ours_phase and naive_phase):
                continue
            latency = _ratio(naive_phase["p50_ms"], ours_phase["p50_ms"])
            calls = _ratio(naive_phase["calls_per_request"], ours_phase["calls_per_request"])
            targets.append(
                Target(
                    f"{name} {phase} naive / ours (p50, calls)",
                    f"{_x(latency)}, {_x(calls)}",
                    "beside ours",
                    None,
                    latency,
                )
            )
    return targets


def _peak(series: list[dict[str, Any]] | None) -> float | None:
    if not series:
        return None
    return max(point["rps"] for point in series)


def _ratio(numerator: float, denominator: float) -> float:
    if not (_finite(numerator) and _finite(denominator)):
        return math.nan
    if denominator == 0:
        return math.inf if numerator else math.nan
    return numerator / denominator


def _x(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf (ours 0)"
    return f"{value:.1f}x"


# The workday scenario (benchmarks.workday) -----------------------------------------
WORKDAY_COMPLETE_SHARE = 0.99
WORKDAY_P95_MS = 300.0
WORKDAY_STALENESS_SLACK_S = 2.0
WORKDAY_READS_PER_CHANGE = 2.5
WORKDAY_BASELINE_FACTOR = 5.0
WORKDAY_TARGETS = (
    ("workday upstream 429s (whole run)", "= 0"),
    ("workday complete answers after warm-up", f">= {WORKDAY_COMPLETE_SHARE:.0%}"),
    ("workday p95 latency after warm-up", f"<= {WORKDAY_P95_MS:.0f} ms"),
    ("workday staleness p95 (last reader given the old value)", "<= poll interval + 2 s"),
    ("workday Sequence requests per change after warm-up", f"<= {WORKDAY_READS_PER_CHANGE:g}"),
    ("workday baseline / default Sequence requests after warm-up", f">= {WORKDAY_BASELINE_FACTOR:g}x"),
)


def evaluate_workday(results: dict[str, Any]) -> list[Target]:
    """The issue's workday targets, on the default run after warm-up; the last against the baseline run.

    p95 is the one absolute time here: the issue sets it, at 80 ms a request upstream.
    """
    modes = results.get("modes", {})
    ours = modes.get("default")
    baseline = modes.get("baseline")
    if not ours:
        return [_missing(name, goal, "no default run") for name, goal in WORKDAY_TARGETS]
    upstream = ours["upstream"]
    targets = [
        Target(
            "workday upstream 429s (whole run)",
            str(upstream["limited_all"]),
            "= 0",
            upstream["limited_all"] == 0,
            float(upstream["limited_all"]),
        )
    ]
    share = ours["complete_share"]
    goal = f">= {WORKDAY_COMPLETE_SHARE:.0%}"
    if _finite(share):
        targets.append(
            Target(
                "workday complete answers after warm-up",
                f"{share:.1%} of {ours['answers']['after_warm_up']}",
                goal,
                share >= WORKDAY_COMPLETE_SHARE,
                share,
            )
        )
    else:
        targets.append(_missing("workday complete answers after warm-up", goal, "no answers after warm-up"))
    p95 = ours["latency"]["p95_ms"]
    goal = f"<= {WORKDAY_P95_MS:.0f} ms"
    if _finite(p95):
        targets.append(Target("workday p95 latency after warm-up", f"{p95:.0f} ms", goal, p95 <= WORKDAY_P95_MS, p95))
    else:
        targets.append(_missing("workday p95 latency after warm-up", goal, "no answers after warm-up"))

    staleness = ours["staleness"]
    interval = ours.get("interval_seconds")
    missed = staleness["missed_p95_s"]
    name = "workday staleness p95 (last reader given the old value)"
    if not _finite(interval):
        targets.append(_missing(name, "<= poll interval + 2 s", "no events.intervalSeconds in /readyz"))
    elif not _finite(missed):
        targets.append(_missing(name, f"<= {interval + WORKDAY_STALENESS_SLACK_S:.1f} s", "no change observed"))
    else:
        bound = interval + WORKDAY_STALENESS_SLACK_S
        targets.append(
            Target(
                name,
                f"{missed:.1f} s ({staleness['observed']} of {staleness['changes']} changes observed)",
                f"<= {bound:.1f} s (poll {interval:g} s + {WORKDAY_STALENESS_SLACK_S:g} s)",
                missed <= bound,
                missed,
            )
        )

    per_change = upstream["reads_per_change"]
    goal = f"<= {WORKDAY_READS_PER_CHANGE:g}"
    if _finite(per_change):
        targets.append(
            Target(
                "workday Sequence requests per change after warm-up",
                f"{per_change:.2f} ({upstream['sequence_requests']} / {upstream['changes']})",
                goal,
                per_change <= WORKDAY_READS_PER_CHANGE,
                per_change,
            )
        )
    else:
        targets.append(_missing("workday Sequence requests per change after warm-up", goal, "no change after warm-up"))

    goal = f">= {WORKDAY_BASELINE_FACTOR:g}x"
    name = "workday baseline / default Sequence requests after warm-up"
    if not baseline:
        targets.append(_missing(name, goal, "no baseline run"))
    else:
        theirs = baseline["upstream"]["sequence_requests"]
        mine = upstream["sequence_requests"]
        factor = _ratio(theirs, mine)
        targets.append(
            Target(name, f"{_x(factor)} ({theirs} / {mine})", goal, factor >= WORKDAY_BASELINE_FACTOR, factor)
        )
        base_limited = baseline["upstream"]["limited_all"]
        targets.append(Target("workday baseline upstream 429s (whole run)", str(base_limited), "beside ours", None))
    return targets
