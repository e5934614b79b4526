"""The Gofilex simulator over real HTTP: auth, validation, both endpoints, and
job data shaped like the seed's examples (tests/fixtures/gofilex_*.json)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.simulators.clock import Clock
from gateway.simulators.gofilex.app import create_gofilex_app, portal_prefix
from gateway.simulators.gofilex.data import GofilexData, Portal, generate_gofilex
from gateway.simulators.gofilex.model import JobState, Order, OrderKind
from gateway.simulators.server import serve_in_thread

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED_JOBS = {job["_type"]: job for job in json.loads((FIXTURES / "gofilex_jobs_by_order.json").read_text())}
SEED_FAILED = json.loads((FIXTURES / "gofilex_failed_run.json").read_text())

NOW = "2026-11-23T12:00:00Z"
SEED = 7
ORDERS_PER_PORTAL = 40
TOKENS = {portal: f"{portal.lower()}-BXrnipNekltq-sHFxpjdd90S17th2Q5mSaR" for portal in Portal}
JOBS = "/api/publication/v1/jobs/by/order"
STATUS = "/api/publication/v1/orders/status"
METEOR_ID = re.compile(r"[23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz]{17}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock.at(NOW)


@pytest.fixture(scope="module")
def data(clock: Clock) -> GofilexData:
    return generate_gofilex(SEED, clock, orders_per_portal=ORDERS_PER_PORTAL)


@pytest.fixture(scope="module")
def client(data: GofilexData, clock: Clock) -> Iterator[httpx.Client]:
    app = create_gofilex_app(data, tokens=TOKENS, clock=clock)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        yield client


@pytest.fixture(scope="module")
def emea_jobs(client: httpx.Client, data: GofilexData) -> dict[str, list[dict[str, Any]]]:
    """The jobs of every EMEA order that still has jobs, fetched once for the tests that read them all."""
    return {order_id: jobs_of(client, order_id) for order_id in data.linkable_orders(Portal.EMEA)}


def post(
    client: httpx.Client, path: str, body: Any, *, portal: Portal = Portal.EMEA, token: str | None = None
) -> httpx.Response:
    token = TOKENS[portal] if token is None else token
    return client.post(portal_prefix(portal) + path, json=body, headers={"Authorization": f"Bearer {token}"})


def jobs_of(client: httpx.Client, order_id: str, portal: Portal = Portal.EMEA) -> list[dict[str, Any]]:
    response = post(client, JOBS, {"orderId": order_id}, portal=portal)
    assert response.status_code == HTTPStatus.OK
    return response.json()


def orders_of(data: GofilexData, kind: OrderKind, portal: Portal = Portal.EMEA) -> list[Order]:
    return [order for order in data.orders(portal).values() if order.kind is kind]


def is_error(response: httpx.Response, status: HTTPStatus) -> bool:
    # Restivus's error shape (inferred for Gofilex).
    body = response.json()
    return response.status_code == status and body["status"] == "error" and isinstance(body["message"], str)


def json_type(value: Any, key: str) -> str:
    if key == "percentage":  # the integer 100 when done, a float before (seed)
        return "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__
    return type(value).__name__


def assert_same_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """Same keys (recursively, into list items) and the same JSON types as `expected`."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert actual.keys() == expected.keys(), f"{path}: {sorted(actual.keys() ^ expected.keys())}"
        for key, value in expected.items():
            assert_same_shape(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), path
        # An empty list in the seed tells nothing about its items.
        for item in actual:
            for model in expected:
                assert_same_shape(item, model, f"{path}[]")
    else:
        key = path.rsplit(".", 1)[-1]
        assert json_type(actual, key) == json_type(expected, key), path


def expected_shape(job_type: str, state: str) -> dict[str, Any]:
    """The seed's job of `job_type`, adjusted for a state the seed shows no example of."""
    model = copy.deepcopy(SEED_JOBS[job_type])
    if state == "failed":
        model["_run"] = SEED_FAILED["_run"]
    elif state == "running":
        del model["_run"]["finish"]
    elif state in ("queued", "cancelled"):
        del model["_run"]
    return model


def test_jobs_by_order_without_bearer_token_answers_401(client: httpx.Client, data: GofilexData) -> None:
    order_id = next(iter(data.orders(Portal.EMEA)))
    response = client.post(portal_prefix(Portal.EMEA) + JOBS, json={"orderId": order_id})
    assert is_error(response, HTTPStatus.UNAUTHORIZED)
    assert response.json()["message"] == "You must be logged in to do this."


def test_orders_status_without_bearer_token_answers_401(client: httpx.Client) -> None:
    response = client.post(portal_prefix(Portal.EMEA) + STATUS, json={"orderIds": []})
    assert is_error(response, HTTPStatus.UNAUTHORIZED)


def test_wrong_token_for_portal_answers_401(client: httpx.Client, data: GofilexData) -> None:
    order_id = next(iter(data.orders(Portal.EMEA)))
    response = post(client, JOBS, {"orderId": order_id}, token=TOKENS[Portal.APAC])
    assert is_error(response, HTTPStatus.UNAUTHORIZED)


def test_each_portal_answers_under_its_prefix_with_its_own_token(client: httpx.Client, data: GofilexData) -> None:
    assert [portal_prefix(portal) for portal in Portal] == ["/emea", "/apac", "/mps", "/noram"]
    for portal in Portal:
        order_id = data.linkable_orders(portal)[0]
        assert isinstance(jobs_of(client, order_id, portal), list)


def test_portals_have_separate_data(client: httpx.Client, data: GofilexData) -> None:
    ids = {}
    for portal in Portal:
        orders = data.orders(portal).values()
        parties = {party.id for order in orders for party in (order.owner, order.company)}
        ids[portal] = set(data.orders(portal)) | parties | {job.id for order in orders for job in order.jobs}
    for portal in Portal:
        others = set().union(*(ids[other] for other in Portal if other is not portal))
        assert not ids[portal] & others
    emea_order = data.linkable_orders(Portal.EMEA)[0]
    assert is_error(post(client, JOBS, {"orderId": emea_order}, portal=Portal.APAC), HTTPStatus.NOT_FOUND)


def test_cleaned_order_returns_empty_list(client: httpx.Client, data: GofilexData) -> None:
    order = orders_of(data, OrderKind.CLEANED)[0]
    assert jobs_of(client, order.id) == []


def test_cleaned_order_status_is_completed(client: httpx.Client, data: GofilexData) -> None:
    order = orders_of(data, OrderKind.CLEANED)[0]
    [status] = post(client, STATUS, {"orderIds": [order.id]}).json()
    assert status["_status"]["state"] == "completed"
    assert status["_status"]["progress"]["step"] == status["_status"]["progress"]["total"] > 0


def test_unknown_order_answers_404(client: httpx.Client) -> None:
    assert is_error(post(client, JOBS, {"orderId": "zjALZe8DJWLz9Nf2a"}), HTTPStatus.NOT_FOUND)


@pytest.mark.parametrize(
    "body",
    [
        {},  # no orderId
        {"orderId": 42},  # not a string
        {"orderId": ["zjALZe8DJWLz9Nf2a"]},  # a list, as orders/status takes
    ],
)
def test_jobs_by_order_without_a_string_order_id_answers_400(client: httpx.Client, body: dict[str, Any]) -> None:
    assert is_error(post(client, JOBS, body), HTTPStatus.BAD_REQUEST)


def test_orders_status_answers_many_ids_in_one_call(client: httpx.Client, data: GofilexData) -> None:
    order_ids = list(data.orders(Portal.EMEA))[::-1]
    response = post(client, STATUS, {"orderIds": order_ids})
    assert response.status_code == HTTPStatus.OK
    statuses = response.json()
    assert [status["_id"] for status in statuses] == order_ids
    for status in statuses:
        assert status["_type"] == "transfer"
        assert status["medium"] in ("electronic", "physical")
        assert set(status["_owner"]) == set(status["company"]) == {"_id", "name"}
        assert status["_status"]["state"] in ("queued", "transferring", "completed", "failed")
        assert set(status["_status"]["progress"]) == {"step", "total"}


def test_orders_status_omits_unknown_ids(client: httpx.Client, data: GofilexData) -> None:
    known = list(data.orders(Portal.EMEA))[:3]
    body = {"orderIds": ["zjALZe8DJWLz9Nf2a", known[0], data.linkable_orders(Portal.NORAM)[0], known[1], known[2]]}
    assert [status["_id"] for status in post(client, STATUS, body).json()] == known


def test_orders_status_answers_a_repeated_id_once(client: httpx.Client, data: GofilexData) -> None:
    first, second = list(data.orders(Portal.EMEA))[:2]
    statuses = post(client, STATUS, {"orderIds": [first, second, first]}).json()
    assert [status["_id"] for status in statuses] == [first, second]


def test_orders_status_over_maximum_ids_answers_400(client: httpx.Client, data: GofilexData) -> None:
    order_id = next(iter(data.orders(Portal.EMEA)))
    assert post(client, STATUS, {"orderIds": [order_id] * 500}).status_code == HTTPStatus.OK
    assert is_error(post(client, STATUS, {"orderIds": [order_id] * 501}), HTTPStatus.BAD_REQUEST)


@pytest.mark.parametrize(
    "body",
    [
        {},  # no orderIds
        {"orderIds": "zjALZe8DJWLz9Nf2a"},  # a string, not a list
        {"orderIds": ["zjALZe8DJWLz9Nf2a", 7]},  # an item that is not a string
    ],
)
def test_orders_status_without_a_list_of_string_ids_answers_400(client: httpx.Client, body: dict[str, Any]) -> None:
    assert is_error(post(client, STATUS, body), HTTPStatus.BAD_REQUEST)


def test_get_answers_405(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {TOKENS[Portal.EMEA]}"}
    response = client.get(portal_prefix(Portal.EMEA) + STATUS, headers=headers)
    assert is_error(response, HTTPStatus.METHOD_NOT_ALLOWED)
    assert response.headers["allow"] == "POST"


def test_unknown_path_answers_404(client: httpx.Client) -> None:
    assert is_error(client.post("/emea/api/publication/v1/orders/list", json={}), HTTPStatus.NOT_FOUND)


@pytest.mark.parametrize(
    "content",
    [
        b"{'orderId': 'zjALZe8DJWLz9Nf2a'}",  # not JSON
        b"",  # no body
        b'["zjALZe8DJWLz9Nf2a"]',  # JSON, but not an object
    ],
)
def test_malformed_json_body_answers_400(client: httpx.Client, content: bytes) -> None:
    headers = {"Authorization": f"Bearer {TOKENS[Portal.EMEA]}", "Content-Type": "application/json"}
    response = client.post(portal_prefix(Portal.EMEA) + JOBS, content=content, headers=headers)
    assert is_error(response, HTTPStatus.BAD_REQUEST)


def test_failed_run_carries_error_and_attempt_minus_one(client: httpx.Client, data: GofilexData) -> None:
    order = orders_of(data, OrderKind.FAILED)[0]
    [failed] = [job for job in jobs_of(client, order.id) if job["_state"] == "failed"]
    run = failed["_run"]
    assert (run["attempt"], run["topical"], run["_jobId"]) == (-1, True, failed["_id"])
    assert set(run["error"]) == {"code", "message", "name", "stack"}
    assert run["error"]["stack"] == f"Error: {run['error']['message']}"
    download = run["progress"]["download"]
    assert download["skip"] < download["step"] < download["total"]
    assert download["speed"] == 0 and 0 < download["percentage"] < 100
    assert failed["_runs"] == failed["_retries"] + 1


def test_strong_dependent_of_a_failed_download_is_cancelled_and_the_weak_email_completes(
    client: httpx.Client, data: GofilexData
) -> None:
    order = orders_of(data, OrderKind.FAILED)[0]
    jobs = {job["_id"]: job for job in jobs_of(client, order.id)}
    [failed] = [job_id for job_id, job in jobs.items() if job["_state"] == "failed"]
    [link] = [job for job in jobs.values() if failed in job["_dependencies"]["rejected"]]
    assert (link["_type"], link["_state"], link["_runs"]) == ("link", "cancelled", 0)
    assert "_run" not in link
    [email] = [job for job in jobs.values() if job["_type"] == "email"]
    assert email["_state"] == "completed" and email["_dependencies"]["rejected"] == [link["_id"]]


def test_running_job_progress_advances_with_the_clock(client: httpx.Client, data: GofilexData, clock: Clock) -> None:
    # The biggest running download, so that one second cannot bring it to its end.
    running = [(order, job) for order in orders_of(data, OrderKind.RUNNING) for job in order.jobs]
    order, _ = max(
        running, key=lambda pair: pair[1].dcp.size if pair[1].state is JobState.RUNNING and pair[1].dcp else 0
    )

    def progress() -> dict[str, Any]:
        [job] = [job for job in jobs_of(client, order.id) if job["_state"] == "running"]
        assert job["_running"] is True and job["_completed"] is False and "finish" not in job["_run"]
        return job["_run"]["progress"]["download"]

    before = progress()
    clock.pin(clock.now() + dt.timedelta(seconds=1))
    try:
        after = progress()
    finally:
        clock.pin(dt.datetime.fromisoformat(NOW))
    assert before["done"] is False and before["speed"] > 0
    assert before["percentage"] < after["percentage"] < 100
    assert after["step"] - before["step"] == pytest.approx(before["speed"], abs=1)


def test_queued_order_has_no_runs_and_every_dependency_remaining(client: httpx.Client, data: GofilexData) -> None:
    order = orders_of(data, OrderKind.QUEUED)[0]
    for job in jobs_of(client, order.id):
        assert (job["_state"], job["_runs"], "_run" in job) == ("queued", 0, False)
        assert job["_dependencies"]["resolved"] == job["_dependencies"]["rejected"] == []
    [status] = post(client, STATUS, {"orderIds": [order.id]}).json()
    assert status["_status"]["state"] == "queued" and status["_status"]["progress"]["step"] == 0


def test_sizes_exceed_32_bits(client: httpx.Client, data: GofilexData) -> None:
    order = next(order for order in data.orders(Portal.EMEA).values() if order.jobs and order.dcps[0].size > 2**32)
    downloads = [job for job in jobs_of(client, order.id) if job["_type"] == "download"]
    sizes = [job["payload"]["digitalCinemaPackage"]["size"] for job in downloads]
    assert order.dcps[0].size in sizes
    assert max(sizes) > 2**32 and all(isinstance(size, int) for size in sizes)


def test_feature_and_trailer_sizes_are_realistic(data: GofilexData) -> None:
    dcps = [dcp for portal in Portal for order in data.orders(portal).values() for dcp in order.dcps]
    for dcp in dcps:
        if dcp.content_kind == "feature":
            assert 80 * 10**9 <= dcp.size <= 350 * 10**9
        elif dcp.content_kind == "trailer":
            assert 10**9 <= dcp.size <= 3 * 10**9
    assert {"feature", "trailer"} <= {dcp.content_kind for dcp in dcps}


def test_dependencies_name_jobs_of_the_same_order(emea_jobs: dict[str, list[dict[str, Any]]]) -> None:
    for order_jobs in emea_jobs.values():
        jobs = {job["_id"]: job for job in order_jobs}
        assert list(jobs) == sorted(jobs)  # the seed lists jobs by _id
        for job in jobs.values():
            dependencies = [job_id for ids in job["_dependencies"].values() if isinstance(ids, list) for job_id in ids]
            assert set(dependencies) <= set(jobs)
            kinds = {jobs[job_id]["_type"] for job_id in dependencies}
            if job["_type"] == "link":
                [download] = dependencies
                assert kinds == {"download"} and job["_dependencies"]["weak"] is False
                same = jobs[download]["payload"]["digitalCinemaPackage"]["uuid"]
                assert job["payload"]["digitalCinemaPackage"]["uuid"] == same
            elif job["_type"] == "email":
                assert job["_dependencies"]["weak"] is True
                assert set(dependencies) == {job_id for job_id, other in jobs.items() if other["_type"] == "link"}
            else:
                assert dependencies == []


def test_order_status_progress_matches_its_download_jobs(
    client: httpx.Client, emea_jobs: dict[str, list[dict[str, Any]]]
) -> None:
    for status in post(client, STATUS, {"orderIds": list(emea_jobs)}).json():
        downloads = [job for job in emea_jobs[status["_id"]] if job["_type"] == "download"]
        steps = [job["_run"]["progress"]["download"]["step"] if "_run" in job else 0 for job in downloads]
        totals = [job["payload"]["digitalCinemaPackage"]["size"] for job in downloads]
        assert status["_status"]["progress"] == {"step": sum(steps), "total": sum(totals)}


def test_every_order_kind_appears_in_every_portal(data: GofilexData) -> None:
    for portal in Portal:
        assert {order.kind for order in data.orders(portal).values()} == set(OrderKind)


def test_linkable_orders_are_the_orders_that_still_have_jobs(data: GofilexData) -> None:
    for portal in Portal:
        linkable = data.linkable_orders(portal)
        assert linkable == [order.id for order in data.orders(portal).values() if order.jobs]


def test_ids_are_17_character_meteor_ids_and_times_have_milliseconds(client: httpx.Client, data: GofilexData) -> None:
    order_id = orders_of(data, OrderKind.COMPLETED)[0].id
    [status] = post(client, STATUS, {"orderIds": [order_id]}).json()
    for value in (status["_id"], status["_owner"]["_id"], status["company"]["_id"]):
        assert METEOR_ID.fullmatch(value)
    for job in jobs_of(client, order_id):
        assert METEOR_ID.fullmatch(job["_id"]) and METEOR_ID.fullmatch(job["_run"]["_id"])
        assert all(TIMESTAMP.fullmatch(job["_run"][key]) for key in ("start", "update", "finish"))
        assert job["_run"]["start"] <= job["_run"]["update"] <= job["_run"]["finish"] < NOW


def test_generation_is_deterministic_for_a_seed() -> None:
    first = generate_gofilex(SEED, Clock.at(NOW), orders_per_portal=10)
    assert first == generate_gofilex(SEED, Clock.at(NOW), orders_per_portal=10)
    assert first != generate_gofilex(SEED + 1, Clock.at(NOW), orders_per_portal=10)


def test_a_portal_without_a_token_is_refused_at_startup(data: GofilexData, clock: Clock) -> None:
    with pytest.raises(ValueError, match="NORAM"):
        create_gofilex_app(data, tokens={portal: TOKENS[portal] for portal in Portal if portal != "NORAM"}, clock=clock)


def test_jobs_have_the_documented_keys_and_json_types(emea_jobs: dict[str, list[dict[str, Any]]]) -> None:
    seen = set()
    for order_jobs in emea_jobs.values():
        for job in order_jobs:
            seen.add((job["_type"], job["_state"]))
            assert_same_shape(job, expected_shape(job["_type"], job["_state"]), f"{job['_type']}/{job['_state']}")
    assert {("download", "completed"), ("link", "completed"), ("email", "completed")} <= seen
    assert {("download", "failed"), ("download", "running"), ("link", "cancelled"), ("email", "queued")} <= seen


def test_failed_run_has_the_documented_keys_in_the_documented_order(client: httpx.Client, data: GofilexData) -> None:
    order = orders_of(data, OrderKind.FAILED)[0]
    [failed] = [job for job in jobs_of(client, order.id) if job["_state"] == "failed"]
    assert list(failed["_run"]) == list(SEED_FAILED["_run"])
    assert_same_shape(failed["_run"], SEED_FAILED["_run"])
