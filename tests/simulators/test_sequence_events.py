"""Sequence simulator: the events feed records every write (upstreams/sequence.md §3.8)."""

from __future__ import annotations

from http import HTTPStatus

import httpx

from tests.conftest import RunningSimulators
from tests.simulators import xml

WA = "/api/work_areas/10"


def newest_id(client: httpx.Client) -> int:
    entries = client.get("/api/events").json()["entries"]
    return entries[-1]["id"] if entries else 0


def events_since(client: httpx.Client, event_id: int) -> list[dict]:
    return client.get(f"/api/events?newer_than={event_id}").json()["entries"]


def test_job_create_update_and_delete_are_recorded_in_order(sequence_json: httpx.Client) -> None:
    start = newest_id(sequence_json)
    body = {"name": "Evented", "begins_at": "2027-01-15", "licensor_name": "A24", "template": "Trailer"}
    job = sequence_json.post(WA + "/jobs", json=body).json()
    sequence_json.put(job["self_link"], json={"name": "Evented 2", "title_external_id": "T-1"}).raise_for_status()
    sequence_json.delete(job["self_link"]).raise_for_status()
    events = events_since(sequence_json, start)
    kinds = [(event["event_type"], event.get("changes")) for event in events]
    assert kinds == [
        ("job_created", None),
        ("task_created", None),
        ("task_created", None),
        ("task_created", None),
        ("asset_created", None),
        ("asset_created", None),
        ("job_updated", "name,title_external_id"),
        ("job_deleted", None),
    ]
    assert events[0]["subject_link"] == job["self_link"]
    assert [event["id"] for event in events] == sorted(event["id"] for event in events)
    for event in events:
        assert event["resource_type"] == "event"
        assert event["self_link"].endswith(f"/api/events/{event['id']}")
        assert event["timestamp"]


def test_child_writes_are_recorded_with_their_subject_and_changes(sequence_json: httpx.Client) -> None:
    body = {"name": "Children", "begins_at": "2027-01-15", "licensor_name": "A24", "template": "Basic"}
    job = sequence_json.post(WA + "/jobs", json=body).json()
    start = newest_id(sequence_json)
    note = sequence_json.post(job["notes_link"], json={"body": "hello"}).json()
    problem = sequence_json.post(job["problems_link"], json={"description": "broken"}).json()
    sequence_json.put(problem["self_link"], json={"dismissed": True}).raise_for_status()
    events = events_since(sequence_json, start)
    assert [(e["event_type"], e.get("changes"), e["subject_link"]) for e in events] == [
        ("note_created", None, note["self_link"]),
        ("problem_created", None, problem["self_link"]),
        ("problem_updated", "dismissed", problem["self_link"]),
    ]


def test_child_update_that_changes_the_jobs_statuses_records_a_job_update(sequence_json: httpx.Client) -> None:
    body = {"name": "Derived", "begins_at": "2027-01-15", "licensor_name": "A24", "template": "Basic"}
    job = sequence_json.post(WA + "/jobs", json=body).json()
    asset = sequence_json.get(job["assets_link"]).json()["entries"][0]
    start = newest_id(sequence_json)
    sequence_json.put(asset["self_link"], json={"status": "received"}).raise_for_status()
    events = events_since(sequence_json, start)
    assert [(e["event_type"], e.get("changes")) for e in events] == [
        ("asset_updated", "status"),
        ("job_updated", "assets_status"),
    ]
    assert events[1]["subject_link"] == job["self_link"]


def test_newer_than_pages_through_the_feed_with_a_next_link(sequence_json: httpx.Client) -> None:
    start = newest_id(sequence_json)
    body = {"name": "Many", "begins_at": "2027-01-15", "licensor_name": "A24", "template": "Basic"}
    job = sequence_json.post(WA + "/jobs", json=body).json()
    for index in range(60):
        sequence_json.post(job["notes_link"], json={"body": f"note {index}"}).raise_for_status()
    first = sequence_json.get(f"/api/events?newer_than={start}").json()
    assert len(first["entries"]) == 50
    rest = sequence_json.get(first["next_link"]).json()
    assert rest["entries"][0]["id"] == first["entries"][-1]["id"] + 1
    assert len(first["entries"]) + len(rest["entries"]) == 1 + 3 + 2 + 60  # job, tasks, assets, notes
    assert "next_link" not in rest


def test_events_are_served_in_xml_and_by_id(running: RunningSimulators, sequence: httpx.Client) -> None:
    root = xml.parse(sequence.get("/api/events").content)
    assert root.tag == "events"
    event = root.findall("event")[-1]
    assert xml.child(event, "id").get("type") == "integer"
    assert set(xml.links(event)) == {"self", "subject"}
    single = xml.parse(sequence.get(xml.links(event)["self"]).content)
    assert single.findtext("event-type") == event.findtext("event-type")


def test_bad_newer_than_answers_422_and_unknown_event_404(sequence: httpx.Client) -> None:
    assert sequence.get("/api/events?newer_than=abc").status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert sequence.get("/api/events/999999999").status_code == HTTPStatus.NOT_FOUND
