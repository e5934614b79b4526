"""The simulators' control API (/_sim) and the middlewares as assembled in the
running simulators: the rate limit and faults reach the real resources."""

from __future__ import annotations

import time
from http import HTTPStatus

import httpx
import pytest

from tests.conftest import RunningSimulators


@pytest.fixture
def control(running: RunningSimulators):
    with running.control(running.sequence_url) as client:
        yield client
        client.put("/_sim/faults", json={"error_rate": 0, "latency_ms": 0})
        client.put("/_sim/rate-limit", json={"enabled": False, "limit": 150})
        client.delete("/_sim/rate-limit")
        client.put("/_sim/activity", json={"perMinute": 0})


def test_sequence_rate_limit_answers_429_with_ratelimit_reset_and_bans_the_user(
    running: RunningSimulators, control: httpx.Client
) -> None:
    control.put("/_sim/rate-limit", json={"enabled": True, "limit": 5, "window": 30, "ban": 300}).raise_for_status()
    with running.sequence(json=True) as client:
        statuses = [client.get("/api/work_areas").status_code for _ in range(5)]
        assert statuses == [HTTPStatus.OK] * 5
        limited = client.get("/api/work_areas")
        assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert 299 <= int(limited.headers["ratelimit-reset"]) <= 300
        # Banned: even the events feed answers 429 now.
        assert client.get("/api/events").status_code == HTTPStatus.TOO_MANY_REQUESTS
    control.delete("/_sim/rate-limit").raise_for_status()
    with running.sequence(json=True) as client:
        assert client.get("/api/work_areas").status_code == HTTPStatus.OK


def test_rate_limit_is_on_by_default_with_the_documented_numbers() -> None:
    from gateway.simulators.settings import SimulatorSettings

    limit = SimulatorSettings().rate_limit
    assert (limit.enabled, limit.limit, limit.window, limit.ban) == (True, 150, 30.0, 300.0)


def test_scripted_faults_reach_the_sequence_resources(running: RunningSimulators, control: httpx.Client) -> None:
    with running.sequence(json=True) as client:
        # Faults sit outside authentication, as on the wire: take the digest
        # challenge first so the scripted faults meet authenticated requests.
        client.get("/api").raise_for_status()
        control.put("/_sim/faults", json={"script": ["503", "malformed"]}).raise_for_status()
        assert client.get("/api/work_areas").status_code == HTTPStatus.SERVICE_UNAVAILABLE
        malformed = client.get("/api/work_areas")
        with pytest.raises(ValueError):
            malformed.json()
        assert client.get("/api/work_areas").status_code == HTTPStatus.OK


def test_fault_settings_are_changed_and_validated_at_run_time(control: httpx.Client) -> None:
    assert control.put("/_sim/faults", json={"error_rate": 0.25, "latency_ms": 5}).json()["error_rate"] == 0.25
    assert control.get("/_sim/faults").json()["latency_ms"] == 5
    assert control.put("/_sim/faults", json={"error_rate": 2}).status_code == HTTPStatus.BAD_REQUEST
    assert control.put("/_sim/faults", json={"bogus": 1}).status_code == HTTPStatus.BAD_REQUEST
    assert control.put("/_sim/faults", content=b"[").status_code == HTTPStatus.BAD_REQUEST


def test_control_api_needs_no_credentials_and_is_not_counted(running: RunningSimulators, control: httpx.Client) -> None:
    control.delete("/_sim/stats").raise_for_status()
    for _ in range(3):
        control.get("/_sim/clock").raise_for_status()
    assert control.get("/_sim/stats").json()["total"] == 0


def test_clock_is_pinned_and_released(running: RunningSimulators, control: httpx.Client) -> None:
    assert control.put("/_sim/clock", json={"now": "2030-01-01T00:00:00+00:00"}).json() == {
        "now": "2030-01-01T00:00:00+00:00"
    }
    assert control.put("/_sim/clock", json={"now": "tomorrow"}).status_code == HTTPStatus.BAD_REQUEST
    control.put("/_sim/clock", json={"now": running.settings.now}).raise_for_status()


def test_gofilex_simulator_has_its_own_stats_and_no_rate_limit(running: RunningSimulators) -> None:
    with running.control(running.gofilex_url) as control:
        control.delete("/_sim/stats").raise_for_status()
        httpx.post(running.gofilex_url + "/emea/api/publication/v1/orders/status", json={"orderIds": []})
        assert control.get("/_sim/stats").json()["by_status"] == {"401": 1}
        assert control.get("/_sim/rate-limit").status_code == HTTPStatus.NOT_FOUND


CHANGE_KEYS = {"seq", "at", "eventId", "kind", "workAreaId", "jobId", "childKind", "childId", "field", "value"}


def test_activity_rate_is_read_and_changed_at_run_time(running: RunningSimulators, control: httpx.Client) -> None:
    made = running.simulators.sequence_activity.activity.made
    assert control.get("/_sim/activity").json() == {"perMinute": 0.0, "changes": made}
    # Fast enough that the served loop makes a change within milliseconds.
    assert control.put("/_sim/activity", json={"perMinute": 60_000}).json()["perMinute"] == 60_000
    deadline = time.monotonic() + 10
    while control.get("/_sim/activity").json()["changes"] == made and time.monotonic() < deadline:
        time.sleep(0.005)
    assert control.put("/_sim/activity", json={"perMinute": 0}).json()["changes"] > made


@pytest.mark.parametrize(
    "body",
    [
        {"perMinute": -1},  # a negative rate
        {"perMinute": "fast"},  # not a number
        {"perMinute": True},  # a boolean is not a rate
        {"rate": 3},  # the wrong name
        {"perMinute": 3, "seed": 1},  # an unknown setting besides
        [20],  # not an object
    ],
)
def test_bad_activity_rates_answer_400(control: httpx.Client, body: object) -> None:
    assert control.put("/_sim/activity", json=body).status_code == HTTPStatus.BAD_REQUEST
    assert control.get("/_sim/activity").json()["perMinute"] == 0


def test_changes_lists_the_activitys_changes_after_a_seq_with_their_events(
    running: RunningSimulators, control: httpx.Client, sequence_json: httpx.Client
) -> None:
    activity = running.simulators.sequence_activity.activity
    start = activity.made
    before = time.time()
    made = [activity.step() for _ in range(3)]
    changes = control.get(f"/_sim/changes?after={start}").json()["changes"]
    assert [change["seq"] for change in changes] == [start + 1, start + 2, start + 3]
    assert all(set(change) == CHANGE_KEYS for change in changes)
    assert changes == [change.as_json() for change in made]
    assert before <= changes[0]["at"] <= time.time()
    event = sequence_json.get(f"/api/events/{changes[0]['eventId']}").json()
    assert f"/work_areas/{changes[0]['workAreaId']}/jobs/{changes[0]['jobId']}" in event["subject_link"]
    assert control.get(f"/_sim/changes?after={start + 3}").json() == {"changes": []}
    assert control.get("/_sim/changes?after=soon").status_code == HTTPStatus.BAD_REQUEST


def test_changes_answers_at_most_1000_oldest_first(running: RunningSimulators, control: httpx.Client) -> None:
    activity = running.simulators.sequence_activity.activity
    start = activity.made
    for _ in range(1005):
        activity.step()
    first = control.get(f"/_sim/changes?after={start}").json()["changes"]
    assert len(first) == 1000 and first[0]["seq"] == start + 1
    rest = control.get(f"/_sim/changes?after={first[-1]['seq']}").json()["changes"]
    assert [change["seq"] for change in rest] == list(range(start + 1001, start + 1006))


def test_gofilex_simulator_has_no_activity(running: RunningSimulators) -> None:
    with running.control(running.gofilex_url) as control:
        assert control.get("/_sim/activity").status_code == HTTPStatus.NOT_FOUND
        assert control.get("/_sim/changes").status_code == HTTPStatus.NOT_FOUND
