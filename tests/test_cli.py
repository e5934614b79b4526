"""`gateway simulate` and `gateway demo` as a user runs them: a real process on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from gateway.cli import build_parser, main, simulator_settings
from gateway.simulators.settings import DEMO_ACTIVITY

KEYS = [
    "SEQUENCE_URL",
    "SEQUENCE_USERNAME",
    "SEQUENCE_PASSWORD",
    "GOFILEX_EMEA_URL",
    "GOFILEX_APAC_URL",
    "GOFILEX_MPS_URL",
    "GOFILEX_NORAM_URL",
    "GOFILEX_TOKEN",
]


def launch(command: str, *args: str) -> subprocess.Popen[str]:
    """`gateway COMMAND` on free ports with a small work area."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            command,
            "--sequence-port",
            "0",
            "--gofilex-port",
            "0",
            "--jobs",
            "50",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )


def start(command: str, *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = launch(command, *args)
    assert process.stdout is not None
    settings = {}
    for _ in KEYS:
        key, _, value = process.stdout.readline().strip().partition("=")
        settings[key] = value
    return process, settings


@pytest.fixture
def simulated() -> Iterator[dict[str, str]]:
    process, settings = start("simulate")
    try:
        yield settings
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_simulate_prints_the_contracts_settings_in_order(simulated: dict[str, str]) -> None:
    assert list(simulated) == KEYS
    assert simulated["SEQUENCE_URL"].endswith("/api")
    assert simulated["GOFILEX_NORAM_URL"].endswith("/noram")


def test_printed_settings_reach_both_simulators(simulated: dict[str, str]) -> None:
    auth = httpx.DigestAuth(simulated["SEQUENCE_USERNAME"], simulated["SEQUENCE_PASSWORD"])
    response = httpx.get(simulated["SEQUENCE_URL"] + "/work_areas", auth=auth, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert [area["id"] for area in response.json()["entries"]] == [10, 11]
    for portal in ("EMEA", "APAC", "MPS", "NORAM"):
        response = httpx.post(
            simulated[f"GOFILEX_{portal}_URL"] + "/api/publication/v1/orders/status",
            json={"orderIds": []},
            headers={"Authorization": f"Bearer {simulated['GOFILEX_TOKEN']}"},
        )
        assert response.status_code == 200, portal
        assert response.json() == []


def test_demo_serves_the_graph_over_both_simulators_and_prints_the_explorer_url() -> None:
    # A Sequence that keeps still, so the count below is exact.
    process = launch("demo", "--port", "0", "--activity", "0")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("GraphQL explorer (GraphiQL): http://127.0.0.1:")
        url = line.split(": ", 1)[1].strip()
        page = httpx.get(url, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        body = httpx.post(url, json={"query": '{ workArea(workAreaId: "10") { jobs(first: 2) { totalCount } } }'})
        assert body.json() == {"data": {"workArea": {"jobs": {"totalCount": 50}}}}
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_simulate_makes_no_changes_of_its_own_unless_asked(simulated: dict[str, str]) -> None:
    control = simulated["SEQUENCE_URL"].removesuffix("/api") + "/_sim/activity"
    assert httpx.get(control).json() == {"perMinute": 0.0, "changes": 0}


def test_demo_lives_by_default_and_says_so() -> None:
    process = launch("demo", "--port", "0")
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[2].startswith(f"Sequence changes by itself, {DEMO_ACTIVITY:g} times a minute")
        sequence_url = lines[1].split()[2]
        activity = httpx.get(sequence_url.removesuffix("/api") + "/_sim/activity").json()
        assert activity["perMinute"] == DEMO_ACTIVITY
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.mark.parametrize(
    ("argv", "environ", "default", "expected"),
    [
        (["simulate"], {}, 0.0, 0.0),  # simulate keeps still
        (["demo"], {}, DEMO_ACTIVITY, DEMO_ACTIVITY),  # demo lives unless told otherwise
        (["demo"], {"SIM_ACTIVITY": "0"}, DEMO_ACTIVITY, 0.0),  # the variable turns it off
        (["demo", "--activity", "0"], {}, DEMO_ACTIVITY, 0.0),  # and so does the option
        (["simulate"], {"SIM_ACTIVITY": "20"}, 0.0, 20.0),  # the variable alone
        (["simulate", "--activity", "3.5"], {"SIM_ACTIVITY": "20"}, 0.0, 3.5),  # the option wins
    ],
)
def test_activity_comes_from_the_option_then_sim_activity_then_the_commands_default(
    argv: list[str], environ: dict[str, str], default: float, expected: float
) -> None:
    assert simulator_settings(build_parser().parse_args(argv), environ, activity=default).activity == expected


def test_a_negative_activity_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate", "--activity", "-1"])
    assert exit_info.value.code == 2
    assert "activity" in capsys.readouterr().err


def test_serve_fails_fast_naming_the_missing_variable() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SEQUENCE_", "GOFILEX_"))}
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 2
    assert "SEQUENCE_URL is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_option_values_exit_2_naming_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate", "--error-rate", "3"])
    assert exit_info.value.code == 2
    assert "error_rate" in capsys.readouterr().err


def test_bad_environment_values_exit_2_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIM_LATENCY_MS", "fast")
    with pytest.raises(SystemExit) as exit_info:
        main(["simulate"])
    assert exit_info.value.code == 2
    assert "SIM_LATENCY_MS" in capsys.readouterr().err
