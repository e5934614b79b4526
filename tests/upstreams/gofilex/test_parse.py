"""Gofilex payloads into records: the seed's jobs and failed run, the shapes
that must be refused, Restivus error bodies, and simulator output."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from gateway.simulators.clock import Clock
from gateway.simulators.gofilex.data import Portal, generate_gofilex
from gateway.simulators.gofilex.model import Job, JobType, Order
from gateway.simulators.gofilex.wire import job_json, order_status_json
from gateway.upstreams.gofilex.parse import PayloadError, error_message, parse_jobs, parse_order_statuses
from gateway.upstreams.gofilex.records import (
    DcpAssetRecord,
    GofilexJobRecord,
    OrderStatusRecord,
    PartyRecord,
    RunErrorRecord,
    RunRecord,
    TransferProgressRecord,
)
from tests.conftest import FIXTURES

ORDER = "zjALZe8DJWLz9Nf2a"
SEED_JOBS: list[dict[str, Any]] = json.loads((FIXTURES / "gofilex_jobs_by_order.json").read_text())
SEED_FAILED: dict[str, Any] = json.loads((FIXTURES / "gofilex_failed_run.json").read_text())
# The seed shows only part of a failed job: `_state` and `_run`. The rest is the download job's.
FAILED_JOB = {**copy.deepcopy(SEED_JOBS[2]), "_id": "CA9k6ERje5GtfhdM4", "_completed": False, **SEED_FAILED}
# orders/status as gofilex.md §3.1 shows it.
ORDER_STATUS = {
    "_id": "6qHGWHR9XqqeHqLKr",
    "_type": "transfer",
    "medium": "electronic",
    "_owner": {"_id": "Hn3eK8vB2Ryq5TzPw", "name": "Universal Pictures"},
    "company": {"_id": "c9XbQ4mT7LpWz2NsA", "name": "Cinema Paradiso"},
    "_status": {"state": "queued", "progress": {"step": 0, "total": 474043064}},
}


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def jobs(*items: dict[str, Any]) -> tuple[GofilexJobRecord, ...]:
    return parse_jobs(body(list(items)), "EMEA", ORDER)


def minimal_job(**changes: Any) -> dict[str, Any]:
    job: dict[str, Any] = {"_id": "ZciB8cEDk7WJ7GGLs", "_type": "email", "_state": "queued"}
    job.update(changes)
    return job


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# the seed ------------------------------------------------------------------------------------
def test_the_seed_email_job_parses_into_its_values() -> None:
    email = parse_jobs(body(SEED_JOBS), "EMEA", ORDER)[0]
    assert email == GofilexJobRecord(
        job_id="ZciB8cEDk7WJ7GGLs",
        order_id=ORDER,
        portal="EMEA",
        type="email",
        state="completed",
        running=False,
        completed=True,
        runs=1,
        retries=0,
        priority=0,
        category="outbound",
        weak_dependencies=True,
        resolved=("z95iMZghJRzEipfvc", "gTXWPeGHiWSBxMHzS"),
        description="698246_LAST-NIGHT-IN-SOHO-SMPTE_EN-CAN",
        run=RunRecord(
            run_id="NN3NadZ9poLtnXtSJ",
            start=utc("2023-04-22T15:43:09.586"),
            update=utc("2023-04-22T15:43:09.586"),
            finish=utc("2023-04-22T15:43:10.034"),
        ),
    )


def test_the_seed_link_job_keeps_its_package_with_paths_and_standard() -> None:
    link = parse_jobs(body(SEED_JOBS), "EMEA", ORDER)[1]
    assert link.dcp is not None
    assert (link.dcp.uuid, link.dcp.content_kind, link.dcp.standard, link.dcp.size) == (
        "5440274c-4d07-49d0-9696-c3460f6abc64",
        "trailer",
        "SMPTE",
        None,
    )
    assert link.dcp.assets[0] == DcpAssetRecord(
        uuid="07cf45d3-2fc8-488e-aafc-bfdc68d97924",
        role="picture",
        hash="NoncBV/dvWtPLtl99ImMsWbRkFQ=",
        size=2717115521,
        path="698217_Wolf_smpte_unenc_07cf45d3_2K_S_R001_pic.mxf",
    )
    assert [asset.role for asset in link.dcp.assets] == [
        "picture",
        "composition-playlist",
        "sound",
        "packing-list",
        "asset-map",
    ]


def test_the_seed_download_job_has_a_size_no_standard_and_assets_without_paths() -> None:
    download = parse_jobs(body(SEED_JOBS), "EMEA", ORDER)[2]
    assert download.dcp is not None and download.run is not None
    assert (download.dcp.size, download.dcp.standard) == (2874952059, None)
    assert all(asset.path is None for asset in download.dcp.assets)
    assert download.run.download == TransferProgressRecord(
        done=False, percentage=100.0, skip=0, step=2874952059, total=2874952059, speed=0.0
    )
    assert download.run.hash == download.run.download
    assert download.run.error is None and download.run.attempt is None


def test_sizes_beyond_32_bits_stay_exact() -> None:
    download = parse_jobs(body(SEED_JOBS), "EMEA", ORDER)[2]
    # Past a signed 32-bit int (GraphQL's Int) ...
    assert download.dcp is not None and download.dcp.size == 2874952059 > 2**31
    (failed,) = jobs(FAILED_JOB)
    assert failed.run is not None and failed.run.download is not None
    assert (failed.run.download.skip, failed.run.download.step, failed.run.download.total) == (
        227960620144,
        267556276681,
        286127309729,
    )
    # ... and past 32 bits altogether.
    assert type(failed.run.download.total) is int and failed.run.download.total > 2**32


def test_a_failed_run_keeps_its_error_without_the_stack_and_an_attempt_of_minus_one() -> None:
    (failed,) = jobs(FAILED_JOB)
    assert failed.state == "failed"
    assert failed.run is not None
    assert failed.run.run_id == "wqaHiq5QB3whsB6z7"
    assert failed.run.attempt == -1
    assert failed.run.finish == utc("2023-04-22T18:30:01.078")
    message = "ENOENT, rename '/data/gofilex/library/340d4bd0-6909-43d4-ad34-981bd09e5619.pic.part'"
    assert failed.run.error == RunErrorRecord(code="ENOENT", message=message, name="Error")
    assert "stack" not in RunErrorRecord.__dataclass_fields__
    assert "Error: ENOENT" not in repr(failed)


@pytest.mark.parametrize(("percentage", "expected"), [(100, 100.0), (93.50952096617789, 93.50952096617789), (0, 0.0)])
def test_a_percentage_may_be_an_integer_or_a_float(percentage: float, expected: float) -> None:
    counters = {"done": False, "percentage": percentage, "skip": 0, "speed": 0, "step": 1, "total": 2}
    (job,) = jobs(minimal_job(_run={"_id": "r", "progress": {"download": counters}}))
    assert job.run is not None and job.run.download is not None
    assert job.run.download.percentage == expected
    assert type(job.run.download.percentage) is float
    assert job.run.hash is None


def test_a_cleaned_order_has_no_jobs() -> None:
    assert parse_jobs(b"[]", "EMEA", ORDER) == ()


def test_missing_optional_parts_are_none_or_defaults() -> None:
    (job,) = jobs(minimal_job())
    assert job == GofilexJobRecord("ZciB8cEDk7WJ7GGLs", ORDER, "EMEA", "email", "queued")
    (job,) = jobs(minimal_job(payload={"description": "x"}, _run={"_id": "r", "start": "2023-04-22T15:43:09.586Z"}))
    assert (job.description, job.dcp) == ("x", None)
    assert job.run == RunRecord("r", start=utc("2023-04-22T15:43:09.586"))


def test_null_optional_parts_read_like_missing_ones() -> None:
    (job,) = jobs(minimal_job(_run=None, payload=None, _runs=None, _dependencies=None))
    assert job == GofilexJobRecord("ZciB8cEDk7WJ7GGLs", ORDER, "EMEA", "email", "queued")


def test_unknown_fields_are_ignored() -> None:
    (job,) = jobs(minimal_job(_newThing={"a": [1]}, _run={"_id": "r", "topical": True, "_jobId": "x"}))
    assert job.run == RunRecord("r")


# refused shapes -------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["_id", "_type", "_state"])
def test_a_job_without_a_required_field_is_refused_naming_its_index_and_the_field(field: str) -> None:
    broken = minimal_job()
    del broken[field]
    with pytest.raises(PayloadError, match=rf"jobs\[1\]: '{field}' is missing"):
        jobs(minimal_job(), broken)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"_runs": "1"}, r"jobs\[0\]: '_runs' must be an integer, not string"),
        ({"_runs": True}, r"jobs\[0\]: '_runs' must be an integer, not boolean"),
        ({"_retries": 1.5}, r"'_retries' must be an integer, not number"),
        ({"_id": 17}, r"'_id' must be a string, not number"),
        ({"_running": 0}, r"'_running' must be a boolean, not number"),
        ({"_dependencies": {"resolved": "abc"}}, r"jobs\[0\]._dependencies: 'resolved' must be an array"),
        ({"_dependencies": {"resolved": [1]}}, r"jobs\[0\]._dependencies.resolved\[0\]: expected a string"),
        ({"_run": "failed"}, r"jobs\[0\]._run: expected an object, not string"),
        ({"_run": {"_id": "r", "attempt": False}}, r"'attempt' must be an integer, not boolean"),
        ({"_run": {"_id": "r", "start": "yesterday"}}, r"jobs\[0\]._run: 'start' is invalid"),
        ({"_run": {"start": "2023-04-22T15:43:09.586Z"}}, r"jobs\[0\]._run: '_id' is missing"),
        (
            {"_run": {"_id": "r", "progress": {"download": {"done": False, "percentage": "100"}}}},
            r"_run.progress.download: 'percentage' must be a number, not string",
        ),
        (
            {"payload": {"digitalCinemaPackage": {"uuid": "u", "assets": [{"uuid": "a", "role": "x", "size": True}]}}},
            r"payload.digitalCinemaPackage.assets\[0\]: 'size' must be an integer, not boolean",
        ),
        (
            {"payload": {"digitalCinemaPackage": {"uuid": "u", "assets": [{"uuid": "a"}]}}},
            r"payload.digitalCinemaPackage.assets\[0\]: 'role' is missing",
        ),
    ],
)
def test_a_job_value_of_the_wrong_type_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        jobs(minimal_job(**changes))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'{"_id": "x"}', "jobs: expected an array, not object"),
        (b'["x"]', r"jobs\[0\]: expected an object, not string"),
        (b"[[]]", r"jobs\[0\]: expected an object, not array"),
        (b"[NaN]", "is not valid JSON"),
        (b"<html>502</html>", "is not valid JSON"),
        (b"", "is not valid JSON"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused(payload: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_jobs(payload, "EMEA", ORDER)


# orders/status -------------------------------------------------------------------------------
def test_an_order_status_parses_into_its_values() -> None:
    assert parse_order_statuses(body([ORDER_STATUS]), "APAC") == (
        OrderStatusRecord(
            order_id="6qHGWHR9XqqeHqLKr",
            portal="APAC",
            type="transfer",
            medium="electronic",
            owner=PartyRecord("Hn3eK8vB2Ryq5TzPw", "Universal Pictures"),
            company=PartyRecord("c9XbQ4mT7LpWz2NsA", "Cinema Paradiso"),
            state="queued",
            progress_step=0,
            progress_total=474043064,
        ),
    )


def test_an_order_status_without_its_optional_parts_has_nones() -> None:
    assert parse_order_statuses(b'[{"_id": "6qHGWHR9XqqeHqLKr"}]', "MPS") == (
        OrderStatusRecord("6qHGWHR9XqqeHqLKr", "MPS"),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"_id": None}, r"orders\[0\]: '_id' is missing"),
        ({"_status": {"state": "queued", "progress": {"step": "0"}}}, "'step' must be an integer, not string"),
        ({"_status": {"progress": {"total": True}}}, "'total' must be an integer, not boolean"),
        ({"_owner": "Universal"}, r"orders\[0\]._owner: expected an object, not string"),
    ],
)
def test_an_order_status_of_the_wrong_shape_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_order_statuses(body([{**ORDER_STATUS, **changes}]), "EMEA")


def test_no_known_orders_give_no_statuses() -> None:
    assert parse_order_statuses(b"[]", "EMEA") == ()


# error bodies --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'{"status": "error", "message": "You must be logged in to do this."}', "You must be logged in to do this."),
        (b'{"status": "error", "message": "API endpoint does not exist"}', "API endpoint does not exist"),
        (b'{"status": "fail", "message": " orderId must be a string "}', "orderId must be a string"),
        (b'{"status": "error"}', None),
        (b'{"status": "error", "message": ""}', None),
        (b'{"status": "error", "message": 404}', None),
        (b'["error"]', None),
        (b"<html>Bad Gateway</html>", None),
        (b"", None),
        (b"\xff", None),
    ],
)
def test_error_message_reads_a_restivus_body_and_nothing_else(payload: bytes, message: str | None) -> None:
    assert error_message(payload) == message


# simulator output ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def orders() -> list[Order]:
    clock = Clock.at("2026-11-23T12:00:00Z")
    data = generate_gofilex(5, clock, orders_per_portal=20)
    return list(data.orders(Portal.NORAM).values())


NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)


def expected(job: Job) -> tuple[Any, ...]:
    return (
        job.id,
        str(job.type),
        str(job.state),
        job.runs,
        job.retries,
        job.weak,
        job.resolved,
        job.remaining,
        job.rejected,
        job.description,
        job.dcp.size if job.dcp is not None and job.type is JobType.DOWNLOAD else None,
        job.run.id if job.run is not None else None,
        job.run.error.code if job.run is not None and job.run.error is not None else None,
    )


def actual(record: GofilexJobRecord) -> tuple[Any, ...]:
    return (
        record.job_id,
        record.type,
        record.state,
        record.runs,
        record.retries,
        record.weak_dependencies,
        record.resolved,
        record.remaining,
        record.rejected,
        record.description,
        record.dcp.size if record.dcp is not None else None,
        record.run.run_id if record.run is not None else None,
        record.run.error.code if record.run is not None and record.run.error is not None else None,
    )


def test_simulator_jobs_of_every_order_parse_into_their_values(orders: list[Order]) -> None:
    for order in orders:
        records = parse_jobs(body([job_json(job, NOW) for job in order.jobs]), "NORAM", order.id)
        assert [actual(record) for record in records] == [expected(job) for job in order.jobs]
        assert all(record.order_id == order.id and record.portal == "NORAM" for record in records)
    states = {str(job.state) for order in orders for job in order.jobs}
    assert {"completed", "failed", "running", "queued"} <= states
    assert any(order.cleaned and not order.jobs for order in orders)


def test_simulator_failed_and_running_runs_keep_their_progress(orders: list[Order]) -> None:
    seen = set()
    for order in orders:
        records = parse_jobs(body([job_json(job, NOW) for job in order.jobs]), "NORAM", order.id)
        for job, record in zip(order.jobs, records, strict=True):
            if job.run is None or record.run is None:
                continue
            transfer = job.run.transfer_at(NOW)
            if transfer is not None:
                assert record.run.download is not None
                assert (record.run.download.step, record.run.download.total) == (transfer.step, transfer.total)
                seen.add(str(job.state))
            if job.run.error is not None:
                assert record.run.attempt == -1
                assert record.run.error == RunErrorRecord(job.run.error.code, job.run.error.message, "Error")
    assert {"failed", "running", "completed"} <= seen


def test_simulator_order_statuses_parse_into_their_values(orders: list[Order]) -> None:
    records = parse_order_statuses(body([order_status_json(order, NOW) for order in orders]), "NORAM")
    assert [(r.order_id, r.medium, r.state, r.owner, r.company) for r in records] == [
        (o.id, o.medium, o.state, PartyRecord(o.owner.id, o.owner.name), PartyRecord(o.company.id, o.company.name))
        for o in orders
    ]
    assert [(r.progress_step, r.progress_total) for r in records] == [order.bytes_at(NOW) for order in orders]
