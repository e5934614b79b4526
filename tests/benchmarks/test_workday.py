"""The workday scenario: the readers' seeded choices and page addressing, then
a tiny plan end to end on real processes on 127.0.0.1 (benchmarks.staleness
has tests of its own)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import workday
from benchmarks.targets import WORKDAY_TARGETS
from gateway.schema.ids import parse_cursor

ROOT = Path(__file__).resolve().parents[2]


def test_readers_with_the_same_seed_make_the_same_choices() -> None:
    def choices(seed: int, index: int) -> list[workday.Action]:
        reader = workday.Reader(seed, index)
        actions = []
        for step in range(40):
            action = reader.next()
            actions.append(action)
            if step == 3:
                reader.saw(["101", "102", "103"])
        return actions

    assert choices(42, 0) == choices(42, 0)
    assert choices(42, 0) != choices(42, 1) != choices(43, 1)
    kinds = Counter(action.kind for action in choices(42, 0)[4:])
    assert kinds["page"] > kinds["detail"] > 0
    assert all(action.job in ("101", "102", "103") for action in choices(42, 0) if action.kind == "detail")
    assert all(3 <= action.think <= 8 for action in choices(42, 0))


def test_pages_and_filters_follow_zipf() -> None:
    cumulative = workday.zipf_cumulative(10)
    assert workday.zipf_rank(cumulative, 0.0) == 1
    assert workday.zipf_rank(cumulative, 0.9999) == 10
    # Rank 1 weighs 1 / H(10) = 34 %, rank 10 a tenth of it.
    assert cumulative[0] == pytest.approx(0.3414, abs=1e-4)
    reader = workday.Reader(7, 0)
    pages = Counter(reader.next().page for _ in range(4000))
    assert pages[1] > pages[2] > pages[5] > pages[10] > 0


def test_page_k_starts_after_the_last_job_of_page_k_minus_1() -> None:
    assert workday.page_variables(None, 1) == {"wa": "10", "after": None, "filter": None}
    third = workday.page_variables("RECEIVED", 3)
    assert parse_cursor(third["after"]) == 99 and third["filter"] == "RECEIVED"


def _simulator_has_activity() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "simulate", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    return "--activity" in done.stdout


def test_a_tiny_workday_end_to_end(tmp_path: Path) -> None:
    """12 s of 4 readers on fresh processes: every figure and target is there (none is asserted on)."""
    if not _simulator_has_activity():
        pytest.skip("`gateway simulate` has no --activity yet (issue 10, part 6)")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "workday",
            "--minutes",
            "0.2",
            "--warm-up",
            "0.05",
            "--users",
            "4",
            "--jobs",
            "200",
            "--activity",
            "300",
            "--modes",
            "default",
            # Cold pages wait for budget up to the deadline: a short one keeps the test short.
            "--gateway-env",
            "GATEWAY_REQUEST_TIMEOUT=2",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "workday.json").read_text())
    run = results["modes"]["default"]
    assert run["answers"]["all"] > 0 and run["upstream"]["requests_all"] > 0
    assert run["activity"], "GET /_sim/activity answered nothing"
    assert run["upstream"]["changes"] > 0, "the simulator logged no change after warm-up"
    assert results["cold_cost"]["distinct_jobs"] > 0
    verdicts = {target["name"]: target["verdict"] for target in results["targets"]}
    for name, _ in WORKDAY_TARGETS[:-1]:
        assert verdicts[name] in ("PASS", "FAIL"), name
    assert verdicts[WORKDAY_TARGETS[-1][0]] == "FAIL"  # no baseline run: not measured
    for heading in ("Workday:", "Targets", "cold cost"):
        assert heading in done.stdout
        assert heading in (tmp_path / "workday.md").read_text()
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "workday.png").read_bytes().startswith(b"\x89PNG")
    assert not list(tmp_path.glob("*.tmp"))
