"""Gofilex Genie JSON into records (seed 002, upstreams/gofilex.md §3).

Both reads answer a JSON array. Ids, types and states are checked to be
strings and counters to be integers (never booleans); everything the seed
shows only sometimes (`_run`, its `progress` and `error`, the DCP, an
asset's `path`, a DCP's `standard` or `size`) may be absent. Sizes pass
2**32 (a 286 GB DCP in the seed) and stay exact Python ints.
"""

from __future__ import annotations

from gateway.upstreams.gofilex.records import (
    DcpAssetRecord,
    DcpRecord,
    GofilexJobRecord,
    OrderStatusRecord,
    PartyRecord,
    RunErrorRecord,
    RunRecord,
    TransferProgressRecord,
)
from gateway.upstreams.payload import Fields, PayloadError, json_type, load_json

__all__ = ["PayloadError", "error_message", "parse_jobs", "parse_order_statuses"]

_MAX_MESSAGE = 500


def parse_order_statuses(body: bytes, portal: str) -> tuple[OrderStatusRecord, ...]:
    """The answer of `orders/status`: one entry per known order."""
    return tuple(_order_status(item, portal) for item in _array(body, "orders"))


def parse_jobs(body: bytes, portal: str, order_id: str) -> tuple[GofilexJobRecord, ...]:
    """The answer of `jobs/by/order`; a cleaned order's `[]` is `()`, not an error."""
    return tuple(_job(item, portal, order_id) for item in _array(body, "jobs"))


def error_message(body: bytes) -> str | None:
    """The message of a Restivus-style `{"status": "error", "message": ...}` body; never raises."""
    try:
        data = load_json(body, "Gofilex error body")
    except PayloadError:
        return None
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str) or not message.strip():
        return None
    text = message.strip()
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."


def _array(body: bytes, name: str) -> list[Fields]:
    data = load_json(body, "Gofilex body")
    if not isinstance(data, list):
        raise PayloadError(f"{name}: expected an array, not {json_type(data)}")
    return [Fields.of(item, f"{name}[{index}]") for index, item in enumerate(data)]


def _party(fields: Fields | None) -> PartyRecord | None:
    if fields is None:
        return None
    return PartyRecord(party_id=fields.text("_id"), name=fields.text("name"))


def _order_status(fields: Fields, portal: str) -> OrderStatusRecord:
    status = fields.nested("_status")
    progress = status.nested("progress") if status is not None else None
    return OrderStatusRecord(
        order_id=fields.required_text("_id"),
        portal=portal,
        type=fields.text("_type"),
        medium=fields.text("medium"),
        owner=_party(fields.nested("_owner")),
        company=_party(fields.nested("company")),
        state=status.text("state") if status is not None else None,
        progress_step=progress.integer("step") if progress is not None else None,
        progress_total=progress.integer("total") if progress is not None else None,
    )


def _job(fields: Fields, portal: str, order_id: str) -> GofilexJobRecord:
    dependencies = fields.nested("_dependencies") or Fields({}, f"{fields.where}._dependencies")
    payload = fields.nested("payload")
    package = payload.nested("digitalCinemaPackage") if payload is not None else None
    run = fields.nested("_run")
    return GofilexJobRecord(
        job_id=fields.required_text("_id"),
        order_id=order_id,
        portal=portal,
        type=fields.required_text("_type"),
        state=fields.required_text("_state"),
        running=fields.boolean_or("_running", False),
        completed=fields.boolean_or("_completed", False),
        runs=fields.integer_or("_runs", 0),
        retries=fields.integer_or("_retries", 0),
        priority=fields.integer_or("_priority", 0),
        category=fields.text("_category"),
        weak_dependencies=dependencies.boolean_or("weak", False),
        resolved=dependencies.strings("resolved"),
        remaining=dependencies.strings("remaining"),
        rejected=dependencies.strings("rejected"),
        description=payload.text("description") if payload is not None else None,
        dcp=_dcp(package) if package is not None else None,
        run=_run(run) if run is not None else None,
    )


def _dcp(fields: Fields) -> DcpRecord:
    return DcpRecord(
        uuid=fields.required_text("uuid"),
        description=fields.text("description"),
        content_kind=fields.text("contentKind"),
        standard=fields.text("standard"),
        size=fields.integer("size"),
        assets=tuple(_asset(asset) for asset in fields.objects("assets")),
    )


def _asset(fields: Fields) -> DcpAssetRecord:
    return DcpAssetRecord(
        uuid=fields.required_text("uuid"),
        role=fields.required_text("role"),
        hash=fields.text("hash"),
        size=fields.integer("size"),
        path=fields.text("path"),
    )


def _run(fields: Fields) -> RunRecord:
    progress = fields.nested("progress")
    error = fields.nested("error")
    return RunRecord(
        run_id=fields.required_text("_id"),
        attempt=fields.integer("attempt"),  # -1 on the seed's failed run
        start=fields.datetime("start"),
        update=fields.datetime("update"),
        finish=fields.datetime("finish"),
        download=_transfer(progress.nested("download")) if progress is not None else None,
        hash=_transfer(progress.nested("hash")) if progress is not None else None,
        error=_error(error) if error is not None else None,
    )


def _transfer(fields: Fields | None) -> TransferProgressRecord | None:
    if fields is None:
        return None
    return TransferProgressRecord(
        done=fields.boolean_or("done", False),
        percentage=fields.required_number("percentage"),  # the integer 100 when done, a float before
        skip=fields.integer("skip"),
        step=fields.integer("step"),
        total=fields.integer("total"),
        speed=fields.number("speed"),
    )


def _error(fields: Fields) -> RunErrorRecord:
    # `stack` is left behind on purpose: it is the upstream's internals.
    return RunErrorRecord(code=fields.text("code"), message=fields.text("message"), name=fields.text("name"))
