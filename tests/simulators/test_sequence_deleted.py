"""Sequence simulator: the `?deleted` views and their 404/405 rules (seed 000, "Deleted jobs")."""

from __future__ import annotations

from http import HTTPStatus

import httpx
import pytest

from tests.conftest import RunningSimulators
from tests.simulators import xml

WA = "/api/work_areas/10"


@pytest.fixture
def deleted_job(sequence_json: httpx.Client) -> dict:
    body = {"name": "To Delete", "begins_at": "2027-01-15", "licensor_name": "Miramax", "template": "Basic"}
    job = sequence_json.post(WA + "/jobs", json=body).json()
    sequence_json.post(job["notes_link"], json={"body": "kept after deletion"}).raise_for_status()
    assert sequence_json.delete(job["self_link"]).status_code == HTTPStatus.NO_CONTENT
    return job


def test_deleted_job_read_without_the_flag_answers_404(sequence_json: httpx.Client, deleted_job: dict) -> None:
    assert sequence_json.get(deleted_job["self_link"]).status_code == HTTPStatus.NOT_FOUND


def test_deleted_job_is_read_with_the_flag_and_its_links_carry_it(
    running: RunningSimulators, sequence_json: httpx.Client, deleted_job: dict
) -> None:
    response = sequence_json.get(deleted_job["self_link"] + "?deleted")
    assert response.status_code == HTTPStatus.OK
    job = response.json()
    base = f"{running.sequence_url}{WA}/jobs/{deleted_job['id']}"
    assert job["self_link"] == base + "?deleted"
    for kind in ("assets", "tasks", "notes", "problems", "hooks"):
        assert job[f"{kind}_link"] == f"{base}/{kind}?deleted"
    assert job["work_area_link"] == running.sequence_url + WA
    # The seed's quirk: in JSON the web link ends in ?deleted=true.
    assert job["web_link"].endswith("/workflow?deleted=true")


def test_deleted_job_in_xml_has_datetime_dates_and_a_flagged_web_link(
    sequence: httpx.Client, deleted_job: dict
) -> None:
    job = xml.parse(sequence.get(deleted_job["self_link"] + "?deleted").content)
    assert job.findtext("begins-at") == "2027-01-15T00:00:00+00:00"
    links = xml.links(job)
    assert links["self"].endswith("?deleted")
    assert links["web"].endswith("/workflow?deleted")


def test_deleted_flag_does_not_reach_jobs_that_are_not_deleted(sequence_json: httpx.Client) -> None:
    live = sequence_json.get(WA + "/jobs?pagination=true&per_page=1").json()["entries"][0]
    assert sequence_json.get(live["self_link"] + "?deleted").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_writing_a_deleted_job_with_the_flag_answers_405(
    sequence_json: httpx.Client, deleted_job: dict, method: str
) -> None:
    response = sequence_json.request(method, deleted_job["self_link"] + "?deleted", json={"name": "X"})
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_writing_a_deleted_job_without_the_flag_answers_404(
    sequence_json: httpx.Client, deleted_job: dict, method: str
) -> None:
    response = sequence_json.request(method, deleted_job["self_link"], json={"name": "X"})
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_posting_a_job_with_the_deleted_flag_answers_405(sequence_json: httpx.Client) -> None:
    body = {"name": "X", "begins_at": "2027-01-15", "licensor_name": "A24", "template": "Basic"}
    assert sequence_json.post(WA + "/jobs?deleted", json=body).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_deleted_job_children_are_read_through_the_flagged_links(
    sequence_json: httpx.Client, deleted_job: dict
) -> None:
    job = sequence_json.get(deleted_job["self_link"] + "?deleted").json()
    notes = sequence_json.get(job["notes_link"]).json()["entries"]
    assert [note["body"] for note in notes] == ["kept after deletion"]
    assert notes[0]["self_link"].endswith("?deleted")
    assert notes[0]["job_link"] == job["self_link"]
    assert sequence_json.get(notes[0]["self_link"]).json() == notes[0]
    assert sequence_json.get(deleted_job["notes_link"]).status_code == HTTPStatus.NOT_FOUND


def test_deleted_job_children_cannot_be_written(sequence_json: httpx.Client, deleted_job: dict) -> None:
    job = sequence_json.get(deleted_job["self_link"] + "?deleted").json()
    assert sequence_json.post(job["notes_link"], json={"body": "x"}).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert sequence_json.post(deleted_job["notes_link"], json={"body": "x"}).status_code == HTTPStatus.NOT_FOUND


def test_deleted_list_holds_only_deleted_jobs(
    running: RunningSimulators, sequence_json: httpx.Client, deleted_job: dict
) -> None:
    entries = sequence_json.get(WA + "/jobs?deleted").json()["entries"]
    ids = [job["id"] for job in entries]
    store = running.simulators.sequence_store
    assert ids == sorted(job.id for job in store.work_areas[10].jobs.values() if job.deleted)
    assert deleted_job["id"] in ids
    assert all(job["self_link"].endswith("?deleted") for job in entries)
    live = {job["id"] for job in sequence_json.get(WA + "/jobs").json()["entries"]}
    assert live.isdisjoint(ids)


def test_deleted_list_supports_pagination_and_filters(running: RunningSimulators, sequence_json: httpx.Client) -> None:
    every = sequence_json.get(WA + "/jobs?deleted").json()["entries"]
    pending = [job["id"] for job in every if job["tasks_status"] != "completed" or job["assets_status"] != "received"]
    body = sequence_json.get(WA + "/jobs?deleted&pagination=true&per_page=2&filter=pending").json()
    assert body["total_entries"] == len(pending)
    assert [job["id"] for job in body["entries"]] == pending[:2]
    if len(pending) > 2:
        assert body["next_link"] == (
            running.sequence_url + WA + "/jobs?page=2&pagination=true&per_page=2&filter=pending&deleted"
        )
