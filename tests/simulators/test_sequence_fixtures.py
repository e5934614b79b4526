"""The seed's example payloads are fixtures: the simulator answers the same
fields, with the same types, in the same order, for each kind of response."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from gateway.simulators.clock import Clock
from gateway.simulators.sequence.app import create_sequence_app
from gateway.simulators.sequence.generate import WorkAreaSpec, populate
from gateway.simulators.sequence.store import SequenceStore
from gateway.simulators.server import serve_in_thread
from tests.conftest import FIXTURES, NOW, RunningSimulators
from tests.simulators import xml

WA = "/api/work_areas/10"


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def fixture_xml(name: str, *, repair_list: bool = False) -> Any:
    text = (FIXTURES / name).read_text()
    if repair_list:
        # The seed's list example is not well-formed twice over: a stray
        # second </job>, and a raw & in the next link's href (the simulator
        # escapes it as &amp;).
        text = text.replace("</job>\n</job>", "</job>", 1).replace("&pagination", "&amp;pagination")
    return xml.parse(text)


def json_shape(document: dict[str, Any]) -> dict[str, type]:
    return {key: type(value) for key, value in document.items()}


def complete_job(client: httpx.Client, *, deleted: bool = False) -> dict[str, Any]:
    """A generated job with every field set (Movida links, external id)."""
    suffix = "?deleted" if deleted else ""
    jobs = client.get(WA + "/jobs" + suffix).json()["entries"]
    return next(job for job in jobs if job["title_external_id"] and "title_link" in job and job["tag_list"])


def test_job_json_matches_the_seed(sequence_json: httpx.Client) -> None:
    job = complete_job(sequence_json)
    assert json_shape(sequence_json.get(job["self_link"]).json()) == json_shape(fixture_json("sequence_job.json"))


def test_job_xml_matches_the_seed(sequence: httpx.Client, sequence_json: httpx.Client) -> None:
    job = complete_job(sequence_json)
    assert xml.shape(xml.parse(sequence.get(job["self_link"]).content)) == xml.shape(fixture_xml("sequence_job.xml"))


def test_job_list_json_matches_the_seed(sequence_json: httpx.Client) -> None:
    seed = fixture_json("sequence_jobs_page.json")
    page = sequence_json.get(WA + "/jobs?pagination=true").json()
    assert json_shape(page) == json_shape(seed)
    entry = complete_job(sequence_json)
    assert json_shape(entry) == json_shape(seed["entries"][0])


def test_job_list_xml_matches_the_repaired_seed(sequence: httpx.Client) -> None:
    seed = fixture_xml("sequence_jobs_page.xml", repair_list=True)
    page = xml.parse(sequence.get(WA + "/jobs?pagination=true").content)
    assert (page.tag, page.get("type")) == (seed.tag, seed.get("type"))
    assert xml.shape(page)[:2] == xml.shape(seed)[:2]  # total-entries, then the next link
    complete = next(
        job for job in page.findall("job") if job.findtext("title-external-id") and "title" in xml.links(job)
    )
    assert xml.shape(complete) == xml.shape(seed.find("job"))


@pytest.mark.parametrize("kind", ["created", "updated"])
def test_write_responses_match_the_seed(sequence: httpx.Client, kind: str) -> None:
    body = (FIXTURES / "sequence_create_body.xml").read_bytes()
    response = sequence.post(WA + "/jobs", content=body, headers={"Content-Type": "application/xml"})
    if kind == "updated":
        update = b"<job><name>Mulholland Dr.</name><begins-at type='date'>2011-01-01</begins-at></job>"
        link = xml.links(xml.parse(response.content))["self"]
        response = sequence.put(link, content=update, headers={"Content-Type": "application/xml"})
    answer = xml.parse(response.content)
    seed = fixture_xml(f"sequence_job_{kind}.xml")
    assert xml.shape(answer) == xml.shape(seed)
    for name in ("due-date", "begins-at", "ends-at", "tag-list"):
        assert answer.findtext(name) == seed.findtext(name), name


@pytest.mark.parametrize("kind", ["created", "updated"])
def test_write_responses_in_json_match_the_seed(sequence_json: httpx.Client, kind: str) -> None:
    body = fixture_json("sequence_create_body.json")
    response = sequence_json.post(WA + "/jobs", json=body)
    if kind == "updated":
        response = sequence_json.put(
            response.json()["self_link"], json={"name": "Mulholland Dr.", "begins_at": "2011-01-01"}
        )
    assert json_shape(response.json()) == json_shape(fixture_json(f"sequence_job_{kind}.json"))


def test_deleted_job_json_matches_the_seed(sequence_json: httpx.Client) -> None:
    # The seed's JSON example is the job created through the API, so it has no Movida links.
    created = sequence_json.post(WA + "/jobs", json=fixture_json("sequence_create_body.json")).json()
    sequence_json.delete(created["self_link"]).raise_for_status()
    job = sequence_json.get(created["self_link"] + "?deleted").json()
    assert json_shape(job) == json_shape(fixture_json("sequence_job_deleted.json"))


def test_deleted_job_xml_matches_the_seed(sequence: httpx.Client, sequence_json: httpx.Client) -> None:
    job = complete_job(sequence_json, deleted=True)
    answer = xml.parse(sequence.get(job["self_link"]).content)
    seed = fixture_xml("sequence_job_deleted.xml")
    assert xml.shape(answer) == xml.shape(seed)
    assert {rel: href.rsplit("?", 1)[-1] for rel, href in xml.links(answer).items() if "?" in href} == {
        rel: href.rsplit("?", 1)[-1] for rel, href in xml.links(seed).items() if "?" in href
    }


def test_stray_closing_tag_option_reproduces_the_seeds_list_quirk() -> None:
    store = SequenceStore(Clock.at(NOW))
    populate(store, [WorkAreaSpec(10, "Quirks", 5)], seed=7)
    with serve_in_thread(create_sequence_app(store, stray_closing_tag=True)) as url:
        text = httpx.get(url + WA + "/jobs").text
    assert text.count("</job>\n</job>") == 1
    with pytest.raises(Exception, match="mismatched tag"):
        xml.parse(text)
    assert len(xml.parse(text.replace("</job>\n</job>", "</job>", 1)).findall("job")) == 5


def test_simulator_stats_count_digest_challenges(running: RunningSimulators) -> None:
    with running.control(running.sequence_url) as control:
        control.delete("/_sim/stats").raise_for_status()
        with running.sequence(json=True) as client:
            for _ in range(5):
                client.get("/api").raise_for_status()
        stats = control.get("/_sim/stats").json()
    # httpx's DigestAuth pays one challenge per client, then reuses the nonce.
    assert stats["by_status"] == {"200": 5, "401": 1}
    assert stats["total"] == 6
