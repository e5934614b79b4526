"""Orders and jobs as the Gofilex API writes them in JSON.

Key names and key order follow the seed's examples (seeds/002) and the
order-status page (gofilex.md §3.1); values that move with time are read at
`now`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gateway.simulators.gofilex.model import Asset, Job, JobState, JobType, Order, Run, Transfer

JSON = dict[str, Any]


def timestamp(moment: dt.datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, as Meteor's Date.toJSON writes it."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def order_status_json(order: Order, now: dt.datetime) -> JSON:
    step, total = order.bytes_at(now)
    return {
        "_id": order.id,
        "_type": "transfer",
        "medium": order.medium,
        "_owner": {"_id": order.owner.id, "name": order.owner.name},
        "company": {"_id": order.company.id, "name": order.company.name},
        "_status": {"state": order.state, "progress": {"step": step, "total": total}},
    }


def job_json(job: Job, now: dt.datetime) -> JSON:
    body: JSON = {
        "_id": job.id,
        "_type": str(job.type),
        "_running": job.state is JobState.RUNNING,
        "_completed": job.state is JobState.COMPLETED,
        "_runs": job.runs,
        "_retries": job.retries,
        "_priority": job.priority,
        "_dependencies": {
            "weak": job.weak,
            "resolved": list(job.resolved),
            "remaining": list(job.remaining),
            "rejected": list(job.rejected),
        },
        "_category": "outbound",
        "payload": _payload(job),
        "_state": str(job.state),
    }
    if job.run is not None:
        body["_run"] = _run(job.run, now)
    return body


def _payload(job: Job) -> JSON:
    if job.dcp is None:
        return {"description": job.description}
    package: JSON = {
        "uuid": job.dcp.uuid,
        "description": job.dcp.description,
        "contentKind": job.dcp.content_kind,
    }
    # The download job lists assets without paths plus the total size; the
    # link job lists them with paths plus the standard (seed).
    if job.type is JobType.DOWNLOAD:
        package["assets"] = [_asset(asset, with_path=False) for asset in job.dcp.assets]
        package["size"] = job.dcp.size
    else:
        package["assets"] = [_asset(asset, with_path=True) for asset in job.dcp.assets]
        package["standard"] = job.dcp.standard
    return {"description": job.description, "digitalCinemaPackage": package}


def _asset(asset: Asset, *, with_path: bool) -> JSON:
    body: JSON = {"uuid": asset.uuid, "hash": asset.hash, "role": asset.role, "size": asset.size}
    if with_path:
        body["path"] = asset.path
    return body


def _run(run: Run, now: dt.datetime) -> JSON:
    body: JSON = {"_id": run.id}
    if run.error is not None:
        # Only the failed example carries these four (seed); -1 reads as "no
        # attempts left" and `_jobId` as the job's own id (inferred).
        body |= {"_jobId": run.job_id, "attempt": -1, "topical": True}
    body |= {"start": timestamp(run.start), "update": timestamp(run.update_at(now))}
    transfer = run.transfer_at(now)
    if transfer is not None:
        body["progress"] = {"download": _counters(transfer), "hash": _counters(transfer)}
    if run.error is not None:
        body["error"] = _error(run.error.code, run.error.message)
    # inferred: a running run has no finish key yet.
    if run.finish is not None:
        body["finish"] = timestamp(run.finish)
    return body


def _counters(transfer: Transfer) -> JSON:
    # A finished transfer reports the integer 100 while a partial one reports a
    # float (seed); `done` stays false even then (seed, quirk kept).
    percentage: int | float = 100 if transfer.step == transfer.total else transfer.step / transfer.total * 100
    return {
        "done": False,
        "percentage": percentage,
        "skip": transfer.skip,
        "speed": transfer.speed,
        "step": transfer.step,
        "total": transfer.total,
    }


def _error(code: str, message: str) -> JSON:
    # A Node.js Error serialised field by field; the seed's stack is one line.
    return {"code": code, "message": message, "name": "Error", "stack": f"Error: {message}"}
