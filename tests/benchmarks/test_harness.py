"""`python -m benchmarks --quick` end to end: real processes on 127.0.0.1, every
query and target in the results. Timings are whatever the machine gives; none
is asserted."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ("Q1", "Q2", "Q3", "Q4", "Q6")
TARGETS = [
    *(f"Q{n} {phase} upstream calls" for n in range(1, 7) for phase in ("cold", "warm")),
    "Q2 cold p50 / upstream critical path",
    "warm Q1 throughput / hello world",
    "Q5 total time / (pages x latency)",
    "Q5 RSS growth",
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
    )
    return done, out


@pytest.fixture(scope="module")
def results(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> dict:
    done, out = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def test_every_query_is_measured_cold_and_warm_beside_the_naive_gateway(results: dict) -> None:
    for name in QUERIES:
        for server in ("ours", "naive"):
            for phase in ("cold", "warm"):
                samples = results["queries"][name][server][phase]
                assert samples["latencies_ms"], (name, server, phase)
                assert samples["errors"] == [], (name, server, phase, samples["errors"][:1])
        cold = results["queries"][name]["ours"]["cold"]
        assert cold["min_calls"] >= 1 and cold["critical_path_ms"] > 0
        assert cold["cpu_ms_per_request"] is not None and cold["peak_rss_mb"] > 0
    q5 = results["q5"]
    assert q5["pages"] == 3 and q5["min_calls"] == 3
    assert q5["ours"]["cold"]["jobs"] == 600 and q5["ours"]["cold"]["errors"] == []
    assert q5["ours"]["warm"]["pages"] == 3
    assert q5["naive"]["cold"]["extrapolated_from"] == 1


def test_throughput_and_references_are_measured(results: dict) -> None:
    concurrencies = results["meta"]["concurrencies"]
    assert concurrencies == [1, 16, 64]
    for server, query in (("ours", "Q1"), ("ours", "Q2"), ("hello", "hello"), ("naive", "Q1")):
        series = results["throughput"][server][query]
        assert [point["concurrency"] for point in series] == concurrencies
        assert all(point["requests"] > 0 and point["failed"] == 0 for point in series), series
    large = results["large_result"]
    assert set(large) >= {"jobs", "fields", "default_seconds", "gateway_seconds", "speedup"}, large
    # One digest challenge per process start, met before any measured request.
    assert all(count >= 1 for count in results["digest_challenges"]["ours"])


def test_every_target_has_a_verdict(results: dict) -> None:
    verdicts = {target["name"]: target for target in results["targets"]}
    for name in TARGETS:
        assert verdicts[name]["verdict"] in ("PASS", "FAIL"), verdicts[name]
        assert not verdicts[name]["measured"].startswith("not measured"), verdicts[name]
    assert any("default Strawberry" in name and target["verdict"] != "info" for name, target in verdicts.items())
    assert any(target["verdict"] == "info" and "naive" in name for name, target in verdicts.items())


def test_tables_and_files(quick_run: tuple[subprocess.CompletedProcess[str], Path], results: dict) -> None:
    done, out = quick_run
    for heading in ("Latency per query", "Throughput", "Q5:", "Targets"):
        assert heading in done.stdout
        assert heading in (out / "results.md").read_text()
    if importlib.util.find_spec("matplotlib") is not None:
        assert (out / "results.png").read_bytes().startswith(b"\x89PNG")
    assert not list(out.glob("*.tmp"))
