"""When a change reached the workday's readers: what an answer shows of a job,
and each change held against the answers requested after it."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.staleness import Change, Interner, Shown, job_views, observe, summary
from gateway.schema.ids import global_id


def _node(job: str, *, tasks: dict[str, dict[str, Any]] | None = None, notes: tuple[str, ...] = ()) -> dict[str, Any]:
    def child(kind: str, child_id: str) -> str:
        return global_id(kind, "10", job, "live", child_id)

    return {
        "id": global_id("SequenceJob", "10", job),
        "name": f"job {job}",
        "status": "PENDING",
        "tasks": [{"id": child("SequenceTask", task), **fields} for task, fields in (tasks or {}).items()],
        "assets": [],
        "notes": [{"id": child("SequenceNote", note), "body": "..."} for note in notes],
        "problems": None,  # failed in this answer
    }


def test_an_answer_is_boiled_down_to_job_views_shared_between_answers() -> None:
    interner = Interner()
    page = {"workArea": {"jobs": {"nodes": [_node("1", tasks={"7": {"status": "pending"}}), None]}}}
    detail = {"sequenceJob": _node("1", tasks={"7": {"status": "pending"}})}
    views = job_views(page, interner)
    assert views == {"1": {"tasks": {"7": {"status": "pending"}}, "assets": {}, "notes": {}, "problems": None}}
    assert job_views(detail, interner)["1"] is views["1"]
    assert job_views(None, interner) == {} and job_views({"sequenceJob": None}, interner) == {}


def _shown(started: float, finished: float, *nodes: dict[str, Any]) -> Shown:
    return Shown(started, finished, job_views({"workArea": {"jobs": {"nodes": list(nodes)}}}, Interner()))


def _change(seq: int, at: float, kind: str, job: str, child_kind: str | None, child: str | None, **rest: Any) -> Change:
    return Change.from_log(
        {"seq": seq, "at": at, "kind": kind, "jobId": job, "childKind": child_kind, "childId": child, **rest}
    )


def test_a_change_is_timed_from_the_answers_requested_after_it() -> None:
    done = _change(1, 100.0, "task_completed", "1", "tasks", "7", field="status", value="completed")
    first = _change(2, 100.0, "task_duration", "2", "tasks", "8", field="duration", value="01:00:00")
    second = _change(3, 104.0, "task_duration", "2", "tasks", "8", field="duration", value="02:00:00")
    note = _change(4, 100.0, "note_added", "1", "notes", "55", field="body", value="hello")
    unseen = _change(5, 100.0, "problem_reported", "3", "problems", "66", field="description", value="x")
    created = _change(6, 100.0, "job_created", "9", None, None)
    answers = [
        _shown(99.0, 100.5, _node("1", tasks={"7": {"status": "completed"}})),  # asked before: not a miss
        _shown(101.0, 101.2, _node("1", tasks={"7": {"status": "pending"}})),  # a miss, 1 s after
        _shown(103.0, 103.1, _node("1", tasks={"7": {"status": "pending"}}, notes=("55",))),  # the last miss
        _shown(105.0, 105.1, _node("1", tasks={"7": {"status": "completed"}}, notes=("55",))),
        _shown(106.0, 106.2, _node("2", tasks={"8": {"duration": "02:00:00"}})),  # shows both durations
    ]
    observations = {item.change.seq: item for item in observe([done, first, second, note, unseen, created], answers)}
    assert set(observations) == {1, 2, 3, 4, 5}  # a created job is not timed
    assert observations[1].observed and observations[1].misses == 2
    assert observations[1].missed_for == pytest.approx(3.0)
    assert observations[1].visible_after == pytest.approx(0.5)  # the answer asked before it already showed it
    assert observations[2].missed_for == 0.0 and observations[2].visible_after == pytest.approx(6.2)
    assert observations[3].missed_for == 0.0 and observations[3].visible_after == pytest.approx(2.2)
    assert observations[4].missed_for == pytest.approx(1.0) and observations[4].visible_after == pytest.approx(3.1)
    assert not observations[5].observed and observations[5].missed_for is None
    figures = summary(list(observations.values()), untimed=1)
    assert (figures["changes"], figures["observed"], figures["never_observed"], figures["untimed"]) == (5, 4, 1, 1)
    assert figures["missed_s"] == [0.0, 0.0, 1.0, 3.0]


def test_a_child_list_the_answer_failed_neither_shows_nor_misses() -> None:
    problem = _change(1, 10.0, "problem_dismissed", "1", "problems", "5", field="dismissed", value=True)
    (observation,) = observe([problem], [_shown(11.0, 11.5, _node("1"))])
    assert not observation.observed and observation.visible_after is None
