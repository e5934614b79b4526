"""Sequence simulator: formats, authentication, work areas, job lists and children."""

from __future__ import annotations

from http import HTTPStatus

import httpx
import pytest

from gateway.simulators.gofilex.data import Portal
from tests.conftest import RunningSimulators
from tests.simulators import xml

WA = "/api/work_areas/10"


def visible_jobs(running: RunningSimulators, work_area: int = 10, *, deleted: bool = False) -> list[int]:
    jobs = running.simulators.sequence_store.work_areas[work_area].jobs.values()
    return sorted(job.id for job in jobs if job.deleted == deleted)


def test_request_without_credentials_is_challenged_with_digest(running: RunningSimulators) -> None:
    response = httpx.get(running.sequence_url + "/api")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Digest ")
    assert 'qop="auth"' in challenge
    assert "nonce=" in challenge


def test_digest_credentials_are_accepted(sequence: httpx.Client) -> None:
    assert sequence.get("/api").status_code == HTTPStatus.OK


def test_wrong_password_is_refused(running: RunningSimulators) -> None:
    auth = httpx.DigestAuth(running.settings.sequence_username, "not-the-password")
    assert httpx.get(running.sequence_url + "/api", auth=auth).status_code == HTTPStatus.UNAUTHORIZED


def test_xml_is_the_default_format(sequence: httpx.Client) -> None:
    response = sequence.get(WA)
    assert response.headers["content-type"].startswith("application/xml")
    root = xml.parse(response.content)
    assert root.tag == "work-area"
    assert xml.child(root, "id").get("type") == "integer"


def test_json_is_answered_for_accept_application_json(sequence_json: httpx.Client) -> None:
    response = sequence_json.get(WA)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["resource_type"] == "work_area"
    assert body["id"] == 10
    assert body["jobs_link"].endswith("/api/work_areas/10/jobs")


def test_api_root_links_work_areas_and_events(running: RunningSimulators, sequence: httpx.Client) -> None:
    root = xml.parse(sequence.get("/api").content)
    assert root.tag == "sequence"
    assert xml.links(root) == {
        "work_areas": running.sequence_url + "/api/work_areas",
        "events": running.sequence_url + "/api/events",
    }


def test_links_use_the_host_the_client_called(running: RunningSimulators, sequence_json: httpx.Client) -> None:
    job = sequence_json.get(WA + "/jobs?pagination=true&per_page=1").json()["entries"][0]
    assert job["self_link"].startswith(running.sequence_url + "/api/work_areas/10/jobs/")


def test_work_areas_are_listed_and_read_by_id(sequence_json: httpx.Client) -> None:
    areas = sequence_json.get("/api/work_areas").json()["entries"]
    assert [area["id"] for area in areas] == [10, 11]
    for area in areas:
        assert sequence_json.get(area["self_link"]).json() == area


def test_unknown_work_area_answers_404(sequence: httpx.Client) -> None:
    response = sequence.get("/api/work_areas/999/jobs")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert xml.parse(response.content).tag == "error"


def test_unknown_job_answers_404(sequence: httpx.Client) -> None:
    assert sequence.get(WA + "/jobs/99999999").status_code == HTTPStatus.NOT_FOUND


def test_jobs_are_unpaginated_by_default(running: RunningSimulators, sequence_json: httpx.Client) -> None:
    body = sequence_json.get(WA + "/jobs").json()
    assert set(body) == {"entries"}
    assert [job["id"] for job in body["entries"]] == visible_jobs(running)


def test_unpaginated_xml_list_has_no_total_entries(sequence: httpx.Client) -> None:
    root = xml.parse(sequence.get(WA + "/jobs").content)
    assert root.tag == "jobs"
    assert root.get("type") == "array"
    assert root.find("total-entries") is None


def test_pagination_defaults_to_50_per_page_with_total_entries_and_next_link(
    running: RunningSimulators, sequence_json: httpx.Client
) -> None:
    body = sequence_json.get(WA + "/jobs?pagination=true").json()
    assert body["total_entries"] == len(visible_jobs(running))
    assert len(body["entries"]) == 50
    # The seed's exact form of the link.
    assert body["next_link"] == running.sequence_url + WA + "/jobs?page=2&pagination=true"
    assert "prev_link" not in body


def test_pages_cover_every_job_once(running: RunningSimulators, sequence_json: httpx.Client) -> None:
    seen: list[int] = []
    url: str | None = WA + "/jobs?pagination=true&per_page=37"
    while url:
        body = sequence_json.get(url).json()
        seen += [job["id"] for job in body["entries"]]
        url = body.get("next_link")
    assert seen == visible_jobs(running)


def test_xml_page_carries_total_entries_and_links(running: RunningSimulators, sequence: httpx.Client) -> None:
    root = xml.parse(sequence.get(WA + "/jobs?pagination=true&per_page=10&page=2").content)
    assert root.findtext("total-entries") == str(len(visible_jobs(running)))
    assert xml.links(root) == {
        "prev": running.sequence_url + WA + "/jobs?page=1&pagination=true&per_page=10",
        "next": running.sequence_url + WA + "/jobs?page=3&pagination=true&per_page=10",
    }
    assert len(root.findall("job")) == 10


def test_last_page_has_prev_link_and_no_next_link(running: RunningSimulators, sequence_json: httpx.Client) -> None:
    total = len(visible_jobs(running))
    last = (total + 49) // 50
    body = sequence_json.get(WA + f"/jobs?pagination=true&page={last}").json()
    assert "next_link" not in body
    assert body["prev_link"].endswith(f"page={last - 1}&pagination=true")
    assert len(body["entries"]) == total - 50 * (last - 1)


def test_page_past_the_end_is_empty(sequence_json: httpx.Client) -> None:
    body = sequence_json.get(WA + "/jobs?pagination=true&page=999").json()
    assert body["entries"] == []
    assert "next_link" not in body


def test_per_page_over_200_answers_422_with_the_documented_message(sequence: httpx.Client) -> None:
    response = sequence.get(WA + "/jobs?pagination=true&per_page=201")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert xml.parse(response.content).findtext("message") == "per_page maximum value is 200"


def test_per_page_of_200_is_accepted(running: RunningSimulators, sequence_json: httpx.Client) -> None:
    body = sequence_json.get(WA + "/jobs?pagination=true&per_page=200").json()
    assert len(body["entries"]) == min(200, len(visible_jobs(running)))


@pytest.mark.parametrize("query", ["per_page=0", "per_page=abc", "page=0", "page=-1"])
def test_invalid_page_parameters_answer_422(sequence: httpx.Client, query: str) -> None:
    response = sequence.get(WA + f"/jobs?pagination=true&{query}")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert xml.parse(response.content).tag == "error"


def test_page_parameters_are_ignored_without_pagination(
    running: RunningSimulators, sequence_json: httpx.Client
) -> None:
    body = sequence_json.get(WA + "/jobs?per_page=5&page=2").json()
    assert len(body["entries"]) == len(visible_jobs(running))


def test_page_links_keep_per_page_and_filter(running: RunningSimulators, sequence_json: httpx.Client) -> None:
    body = sequence_json.get(WA + "/jobs?pagination=true&per_page=5&filter=pending").json()
    assert body["next_link"] == running.sequence_url + WA + "/jobs?page=2&pagination=true&per_page=5&filter=pending"


def _problematic(client: httpx.Client, job: dict) -> bool:
    return any(not problem["dismissed"] for problem in client.get(job["problems_link"]).json()["entries"])


# Each documented filter, as a rule on the job's own derived statuses or its problems.
FILTER_RULES = {
    "ready": lambda job, client: job["tasks_status"] == "completed" and job["assets_status"] == "received",
    "pending": lambda job, client: job["tasks_status"] != "completed" or job["assets_status"] != "received",
    "completed": lambda job, client: job["tasks_status"] == "completed",
    "not_completed": lambda job, client: job["tasks_status"] != "completed",
    "received": lambda job, client: job["assets_status"] == "received",
    "not_received": lambda job, client: job["assets_status"] != "received",
    "problematic": lambda job, client: _problematic(client, job),
    "not_problematic": lambda job, client: not _problematic(client, job),
}


@pytest.mark.parametrize("filter_name", list(FILTER_RULES))
def test_filter_returns_exactly_the_jobs_matching_its_documented_meaning(
    sequence_json: httpx.Client, filter_name: str
) -> None:
    every = sequence_json.get(WA + "/jobs").json()["entries"]
    chosen = {job["id"] for job in sequence_json.get(WA + f"/jobs?filter={filter_name}").json()["entries"]}
    expected = {job["id"] for job in every if FILTER_RULES[filter_name](job, sequence_json)}
    assert chosen == expected
    # Every filter selects a real subset of the generated data, so none is vacuous.
    assert 0 < len(chosen) < len(every)


def test_filter_with_pagination_counts_only_matching_jobs(sequence_json: httpx.Client) -> None:
    matching = len(sequence_json.get(WA + "/jobs?filter=problematic").json()["entries"])
    body = sequence_json.get(WA + "/jobs?filter=problematic&pagination=true&per_page=3").json()
    assert body["total_entries"] == matching


def test_unknown_filter_answers_422(sequence: httpx.Client) -> None:
    response = sequence.get(WA + "/jobs?filter=nonsense")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


@pytest.mark.parametrize("kind", ["tasks", "assets", "notes", "problems", "hooks"])
def test_children_have_self_and_job_links_and_no_id(sequence_json: httpx.Client, kind: str) -> None:
    jobs = sequence_json.get(WA + "/jobs").json()["entries"]
    entries = next(entries for job in jobs if (entries := sequence_json.get(job[f"{kind}_link"]).json()["entries"]))
    for entry in entries:
        assert entry["resource_type"] == kind[:-1]
        assert "id" not in entry
        assert entry["self_link"].rsplit("/", 1)[1].isdigit()
        assert entry["job_link"] == entry["self_link"].rsplit(f"/{kind}/", 1)[0]
        assert sequence_json.get(entry["self_link"]).json() == entry


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("tasks", {"name": "string", "status": "string", "requires-duration": "boolean", "position": "integer"}),
        ("assets", {"type-name": "string", "status": "string", "progress": "integer"}),
        ("notes", {"body": "string", "creator": "string", "created-at": "datetime"}),
        ("problems", {"description": "string", "dismissed": "boolean", "reporter": "string"}),
    ],
)
def test_children_in_xml_carry_their_documented_elements(sequence: httpx.Client, kind: str, fields: dict) -> None:
    jobs = xml.parse(sequence.get(WA + "/jobs").content).findall("job")
    for job in jobs:
        items = xml.parse(sequence.get(xml.links(job)[kind]).content)
        if len(items):
            break
    assert items.tag == kind
    item = items[0]
    for name, kind_of_value in fields.items():
        element = item.find(name)
        assert element is not None, name
        assert element.get("type") == (None if kind_of_value == "string" else kind_of_value)
    assert set(xml.links(item)) == {"self", "job"}


def test_child_of_another_job_answers_404(sequence_json: httpx.Client) -> None:
    jobs = sequence_json.get(WA + "/jobs?pagination=true&per_page=2").json()["entries"]
    task_link = sequence_json.get(jobs[0]["tasks_link"]).json()["entries"][0]["self_link"]
    task_id = task_link.rsplit("/", 1)[1]
    assert sequence_json.get(f"{jobs[1]['tasks_link']}/{task_id}").status_code == HTTPStatus.NOT_FOUND


def test_some_jobs_link_to_gofilex_orders_by_tag(running: RunningSimulators, sequence_json: httpx.Client) -> None:
    tagged = [job for job in sequence_json.get(WA + "/jobs").json()["entries"] if "gofilex:" in job["tag_list"]]
    assert tagged
    data = running.simulators.gofilex_data
    for job in tagged:
        for tag in (tag.strip() for tag in job["tag_list"].split(",")):
            if tag.startswith("gofilex:"):
                *portal, order_id = tag.split(":")[1:]
                assert order_id in data.orders(Portal((portal[0] if portal else "EMEA").upper()))


def test_job_statuses_cover_every_documented_value(sequence_json: httpx.Client) -> None:
    jobs = sequence_json.get(WA + "/jobs").json()["entries"]
    assert {job["status"] for job in jobs} == {"pending", "late", "done", "live", "passed"}
    assert {job["tasks_status"] for job in jobs} == {"pending", "in_progress", "completed"}
    assert {job["assets_status"] for job in jobs} == {"not_received", "partly_received", "received"}


def test_tag_lists_come_with_and_without_spaces(sequence_json: httpx.Client) -> None:
    tags = [job["tag_list"] for job in sequence_json.get(WA + "/jobs").json()["entries"] if "," in job["tag_list"]]
    assert any(", " in tag_list for tag_list in tags)
    assert any(", " not in tag_list for tag_list in tags)
