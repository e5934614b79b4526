"""Sequence simulator: creating, updating and deleting jobs and their children,
and the statuses derived from them."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from tests.conftest import FIXTURES, RunningSimulators
from tests.simulators import xml

WA = "/api/work_areas/10"


def create(client: httpx.Client, **fields: Any) -> dict:
    body = {"name": "Test Title", "begins_at": "2027-01-15", "licensor_name": "Miramax", "template": "Basic"}
    response = client.post(WA + "/jobs", json=body | fields)
    assert response.status_code == HTTPStatus.OK, response.text
    return response.json()


def set_clock(running: RunningSimulators, moment: str | None) -> None:
    with running.control(running.sequence_url) as control:
        control.put("/_sim/clock", json={"now": moment}).raise_for_status()


@pytest.fixture
def pinned_clock(running: RunningSimulators):
    yield
    set_clock(running, running.settings.now)


def test_create_job_from_the_seeds_xml_body_answers_200_with_the_job(sequence: httpx.Client) -> None:
    body = (FIXTURES / "sequence_create_body.xml").read_bytes()
    response = sequence.post(WA + "/jobs", content=body, headers={"Content-Type": "application/xml"})
    assert response.status_code == HTTPStatus.OK
    job = xml.parse(response.content)
    assert job.findtext("name") == "Mulholland Drive"
    # The seed's create response carries dates as datetimes, ends-at in the work area's offset.
    assert job.findtext("begins-at") == "2010-12-31T00:00:00+00:00"
    assert job.findtext("due-date") == "2010-12-31T00:00:00+00:00"
    assert job.findtext("ends-at") == "2011-01-31T00:00:00+02:00"
    assert job.findtext("tag-list") == "Drama,Surreal"
    assert job.findtext("title-external-id") == "EXT-ID-1234"
    # A new job has no Movida links yet.
    assert {"scheduling", "metadata", "title"}.isdisjoint(xml.links(job))


def test_create_job_from_the_seeds_json_body(sequence_json: httpx.Client) -> None:
    response = sequence_json.post(
        WA + "/jobs",
        content=(FIXTURES / "sequence_create_body.json").read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == HTTPStatus.OK
    job = response.json()
    assert (job["begins_at"], job["due_date"], job["ends_at"]) == ("2010-12-31", "2010-12-31", "2011-01-31")


def test_create_job_accepts_a_wrapped_json_body(sequence_json: httpx.Client) -> None:
    body = {"job": {"name": "Wrapped", "begins_at": "2027-02-01", "licensor_name": "A24", "template": "Trailer"}}
    response = sequence_json.post(WA + "/jobs", json=body)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["name"] == "Wrapped"


def test_created_job_gets_its_templates_tasks_and_assets(sequence_json: httpx.Client) -> None:
    job = create(sequence_json, template="Feature Film")
    tasks = sequence_json.get(job["tasks_link"]).json()["entries"]
    assets = sequence_json.get(job["assets_link"]).json()["entries"]
    assert [task["name"] for task in tasks] == [
        "Ingest", "Transcode", "Quality control", "Subtitling", "Artwork approval", "Publish",
    ]  # fmt: skip
    assert [task["position"] for task in tasks] == [1, 2, 3, 4, 5, 6]
    assert {task["status"] for task in tasks} == {"pending"}
    assert [asset["type_name"] for asset in assets] == ["feature_film", "trailer", "box_art", "subtitles", "metadata"]
    assert (job["status"], job["tasks_status"], job["assets_status"]) == ("pending", "pending", "not_received")


def test_due_date_applies_the_template_offset_and_ends_at_defaults_to_two_months_after(
    sequence_json: httpx.Client,
) -> None:
    job = create(sequence_json, template="Feature Film", begins_at="2027-01-15")
    assert job["due_date"] == "2027-01-01"  # 14 days before
    assert job["ends_at"] == "2027-03-01"


def test_given_ends_at_is_kept(sequence_json: httpx.Client) -> None:
    assert create(sequence_json, ends_at="2027-12-31")["ends_at"] == "2027-12-31"


def test_create_job_without_required_fields_names_every_missing_one(sequence: httpx.Client) -> None:
    response = sequence.post(WA + "/jobs", json={"tag_list": "Drama"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    errors = xml.parse(response.content)
    assert errors.tag == "errors"
    assert [error.text for error in errors] == [
        "Name can't be blank",
        "Begins at can't be blank",
        "Licensor name can't be blank",
        "Template can't be blank",
    ]


def test_create_job_with_unknown_template_or_bad_dates_answers_422(sequence: httpx.Client) -> None:
    body = {"name": "X", "begins_at": "31/12/2010", "ends_at": "soon", "licensor_name": "A24", "template": "Nope"}
    response = sequence.post(WA + "/jobs", json=body)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [error.text for error in xml.parse(response.content)] == [
        "Begins at is not a valid date",
        "Ends at is not a valid date",
        "Template 'Nope' does not exist",
    ]


def test_body_without_a_supported_content_type_answers_415(sequence: httpx.Client) -> None:
    response = sequence.post(
        WA + "/jobs", content=b"name=X", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b"<job><name>", "application/xml"), (b"[1, 2]", "application/json")],
)
def test_malformed_body_answers_400(sequence: httpx.Client, content: bytes, content_type: str) -> None:
    response = sequence.post(WA + "/jobs", content=content, headers={"Content-Type": content_type})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert xml.parse(response.content).tag == "error"


def test_xml_entity_expansion_is_refused(sequence: httpx.Client) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE job [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<job><name>&b;</name></job>"
    )
    response = sequence.post(WA + "/jobs", content=bomb, headers={"Content-Type": "application/xml"})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_update_changes_only_the_given_attributes(sequence_json: httpx.Client) -> None:
    job = create(sequence_json, tag_list="Drama,Surreal", title_external_id="EXT-1")
    response = sequence_json.put(job["self_link"], json={"name": "Renamed"})
    assert response.status_code == HTTPStatus.OK
    updated = response.json()
    assert updated["name"] == "Renamed"
    assert {key: value for key, value in updated.items() if key != "name"} == {
        key: value for key, value in job.items() if key != "name"
    }


def test_update_of_begins_at_recomputes_the_due_date(sequence_json: httpx.Client) -> None:
    job = create(sequence_json, template="Episode", begins_at="2027-01-15")
    updated = sequence_json.put(job["self_link"], json={"begins_at": "2027-02-15"}).json()
    assert (updated["begins_at"], updated["due_date"]) == ("2027-02-15", "2027-02-08")


def test_xml_update_answers_datetimes_and_a_spaced_tag_list(
    sequence: httpx.Client, sequence_json: httpx.Client
) -> None:
    job = create(sequence_json, tag_list="Drama,Surreal")
    body = b"<job><name>Mulholland Dr.</name><begins-at type='date'>2011-01-01</begins-at></job>"
    response = sequence.put(job["self_link"], content=body, headers={"Content-Type": "application/xml"})
    updated = xml.parse(response.content)
    assert updated.findtext("begins-at") == "2011-01-01T00:00:00+00:00"
    assert updated.findtext("tag-list") == "Drama, Surreal"


def test_update_with_a_blank_name_answers_422(sequence_json: httpx.Client) -> None:
    job = create(sequence_json)
    response = sequence_json.put(job["self_link"], json={"name": "  "})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [error.text for error in xml.parse(response.content)] == ["Name can't be blank"]


def test_read_only_attributes_in_an_update_are_ignored(sequence_json: httpx.Client) -> None:
    job = create(sequence_json)
    updated = sequence_json.put(job["self_link"], json={"id": 1, "status": "done", "due_date": "2000-01-01"}).json()
    assert (updated["id"], updated["status"], updated["due_date"]) == (job["id"], job["status"], job["due_date"])


def test_delete_answers_204_without_a_body(sequence_json: httpx.Client) -> None:
    job = create(sequence_json)
    response = sequence_json.delete(job["self_link"])
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""


def test_note_is_created_with_200_and_the_api_user_as_creator(
    running: RunningSimulators, sequence_json: httpx.Client
) -> None:
    job = create(sequence_json)
    response = sequence_json.post(job["notes_link"], json={"body": "Chasing the lab."})
    assert response.status_code == HTTPStatus.OK
    note = response.json()
    assert (note["body"], note["creator"]) == ("Chasing the lab.", running.settings.sequence_username)
    assert dt.datetime.fromisoformat(note["created_at"]) == dt.datetime.fromisoformat(str(running.settings.now))
    assert sequence_json.get(job["notes_link"]).json()["entries"] == [note]


def test_note_accepts_an_xml_body(sequence: httpx.Client, sequence_json: httpx.Client) -> None:
    job = create(sequence_json)
    response = sequence.post(
        job["notes_link"], content=b"<note><body>From XML</body></note>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == HTTPStatus.OK
    assert xml.parse(response.content).findtext("body") == "From XML"


def test_note_without_body_answers_422(sequence_json: httpx.Client) -> None:
    job = create(sequence_json)
    response = sequence_json.post(job["notes_link"], json={})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [error.text for error in xml.parse(response.content)] == ["Body can't be blank"]


def test_problem_without_description_answers_422(sequence_json: httpx.Client) -> None:
    job = create(sequence_json)
    response = sequence_json.post(job["problems_link"], json={"dismissed": False})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [error.text for error in xml.parse(response.content)] == ["Description can't be blank"]


def test_problem_makes_the_job_problematic_until_dismissed(sequence_json: httpx.Client) -> None:
    job = create(sequence_json)

    def problematic() -> bool:
        ids = {entry["id"] for entry in sequence_json.get(WA + "/jobs?filter=problematic").json()["entries"]}
        return job["id"] in ids

    assert not problematic()
    response = sequence_json.post(job["problems_link"], json={"description": "Audio drift"})
    assert response.status_code == HTTPStatus.CREATED
    problem = response.json()
    assert (problem["dismissed"], problem["reporter"]) == (False, "robot_user")
    assert problematic()
    updated = sequence_json.put(problem["self_link"], json={"dismissed": True}).json()
    assert updated["dismissed"] is True
    assert not problematic()


def test_tasks_and_assets_cannot_be_created_here(sequence_json: httpx.Client) -> None:
    job = create(sequence_json)
    assert sequence_json.post(job["tasks_link"], json={"name": "X"}).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def first(client: httpx.Client, link: str, **match: Any) -> dict:
    return next(entry for entry in client.get(link).json()["entries"] if all(entry[k] == v for k, v in match.items()))


def test_task_that_requires_a_duration_cannot_be_completed_without_one(sequence_json: httpx.Client) -> None:
    job = create(sequence_json, template="Feature Film")
    task = first(sequence_json, job["tasks_link"], requires_duration=True)
    response = sequence_json.put(task["self_link"], json={"status": "completed"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [error.text for error in xml.parse(response.content)] == [
        "Duration can't be blank when completing a task that requires a duration"
    ]
    done = sequence_json.put(task["self_link"], json={"status": "completed", "duration": "01:42:10"})
    assert done.status_code == HTTPStatus.OK
    assert (done.json()["status"], done.json()["duration"]) == ("completed", "01:42:10")


@pytest.mark.parametrize("duration", ["1:42:10", "01:42", "01:60:00", "one hour"])
def test_task_duration_must_be_hh_mm_ss(sequence_json: httpx.Client, duration: str) -> None:
    job = create(sequence_json, template="Feature Film")
    task = first(sequence_json, job["tasks_link"], requires_duration=True)
    response = sequence_json.put(task["self_link"], json={"duration": duration})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [error.text for error in xml.parse(response.content)] == ["Duration must be in hh:mm:ss format"]


def test_task_status_must_be_pending_or_completed(sequence_json: httpx.Client) -> None:
    job = create(sequence_json)
    task = first(sequence_json, job["tasks_link"])
    assert sequence_json.put(task["self_link"], json={"status": "started"}).status_code == 422


def test_asset_status_updates_drive_the_jobs_assets_status(sequence_json: httpx.Client) -> None:
    job = create(sequence_json)  # Basic: two assets
    assets = sequence_json.get(job["assets_link"]).json()["entries"]
    sequence_json.put(assets[0]["self_link"], json={"status": "received"}).raise_for_status()
    assert sequence_json.get(job["self_link"]).json()["assets_status"] == "partly_received"
    sequence_json.put(assets[1]["self_link"], json={"status": "received", "progress": 100}).raise_for_status()
    assert sequence_json.get(job["self_link"]).json()["assets_status"] == "received"
    assert sequence_json.put(assets[1]["self_link"], json={"status": "lost"}).status_code == 422
    assert sequence_json.put(assets[1]["self_link"], json={"progress": 101}).status_code == 422


def complete_everything(client: httpx.Client, job: dict) -> None:
    for task in client.get(job["tasks_link"]).json()["entries"]:
        fields = {"status": "completed"} | ({"duration": "00:30:00"} if task["requires_duration"] else {})
        client.put(task["self_link"], json=fields).raise_for_status()
    for asset in client.get(job["assets_link"]).json()["entries"]:
        client.put(asset["self_link"], json={"status": "received"}).raise_for_status()


def test_job_status_follows_the_documented_rules_against_the_clock(
    running: RunningSimulators, sequence_json: httpx.Client, pinned_clock: None
) -> None:
    job = create(sequence_json, template="Feature Film", begins_at="2027-03-15", ends_at="2027-06-30")
    status = lambda: sequence_json.get(job["self_link"]).json()["status"]  # noqa: E731
    assert status() == "pending"  # work left, due date (2027-03-01) ahead
    set_clock(running, "2027-03-05T09:00:00+00:00")
    assert status() == "late"  # work left, due date passed
    tasks = sequence_json.get(job["tasks_link"]).json()["entries"]
    sequence_json.put(tasks[0]["self_link"], json={"status": "completed"}).raise_for_status()
    assert sequence_json.get(job["self_link"]).json()["tasks_status"] == "in_progress"
    complete_everything(sequence_json, job)
    assert sequence_json.get(job["self_link"]).json()["tasks_status"] == "completed"
    assert status() == "done"  # complete, before the window
    set_clock(running, "2027-04-01T09:00:00+00:00")
    assert status() == "live"  # complete, inside the window
    set_clock(running, "2027-07-01T09:00:00+00:00")
    assert status() == "passed"  # complete, after the window
