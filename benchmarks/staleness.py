"""When a change at Sequence reached the workday's readers (benchmarks.workday).

The Sequence simulator logs every change its activity makes
(`GET /_sim/changes`): when (`at`), to which job, and which child's field took
which value. Each answer a reader got is boiled down to what it showed of each
job (`job_views`), and every change is held against the answers requested
after it.

An answer *shows* a change when it holds the job and the child with the
changed field at the change's value, or at the value of a later change to the
same field (that answer is newer still); for a new note or problem, when the
child is there at all. Two figures per change:

- **visible after**: from the change to the end of the first answer that
  showed it. This is the figure the issue names, and it includes the wait for
  some reader to ask for that job at all: with 20 readers over 30 pages a job
  is often read only every 10-60 s, whatever the gateway does.
- **missed for**: from the change to the start of the last request whose
  answer still did not show it; 0 when none did. That is the gateway's own
  staleness, as a lower bound: a reader asked that long after the change and
  got the old value. The staleness target is held to it.

A change counts as observed when some answer requested after it held its job
with the changed child list; the others are "never observed". Jobs created or
deleted are counted but not timed: a page shows a deletion only by a job's
absence, and new jobs land past the pages the readers open.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.measure import percentile
from gateway.schema.ids import parse_global_id

CHILD_KINDS = ("tasks", "assets", "notes", "problems")
# Changes that add a child: the child's presence shows them, whatever its fields.
ADDING = frozenset({"note_added", "problem_reported"})
UNTIMED = frozenset({"job_created", "job_deleted"})

# What a job looked like in one answer: per child kind, child id -> its fields;
# None for a list the answer did not hold (an error in its place).
JobView = Mapping[str, Mapping[str, Mapping[str, Any]] | None]


@dataclass(frozen=True)
class Change:
    """One entry of the simulator's change log."""

    seq: int
    at: float  # epoch seconds
    kind: str
    job_id: str
    child_kind: str | None = None
    child_id: str | None = None
    field: str | None = None
    value: Any = None

    @classmethod
    def from_log(cls, entry: Mapping[str, Any]) -> Change:
        def text(key: str) -> str | None:
            value = entry.get(key)
            return None if value is None else str(value)

        return cls(
            seq=int(entry["seq"]),
            at=float(entry["at"]),
            kind=str(entry["kind"]),
            job_id=str(entry["jobId"]),
            child_kind=text("childKind"),
            child_id=text("childId"),
            field=text("field"),
            value=entry.get("value"),
        )

    @property
    def timed(self) -> bool:
        return self.kind not in UNTIMED and self.child_kind in CHILD_KINDS and self.child_id is not None

    @property
    def key(self) -> tuple[str, str | None, str | None, str | None]:
        return (self.job_id, self.child_kind, self.child_id, self.field)


@dataclass(frozen=True)
class Shown:
    """What one answer showed, and when it was asked and answered (epoch seconds)."""

    started: float
    finished: float
    jobs: Mapping[str, JobView]


@dataclass(frozen=True)
class Observation:
    change: Change
    observed: bool  # some answer requested after the change held the job
    visible_after: float | None  # seconds to the end of the first answer showing it
    missed_for: float | None  # seconds to the start of the last request that missed it; 0 when none did
    misses: int  # answers requested after the change that still did not show it


class Interner:
    """One shared object per distinct job view: most answers repeat cached ones."""

    def __init__(self) -> None:
        self._views: dict[str, JobView] = {}

    def view(self, node: Mapping[str, Any]) -> JobView:
        children: dict[str, dict[str, dict[str, Any]] | None] = {}
        for kind in CHILD_KINDS:
            items = node.get(kind)
            if items is None:
                children[kind] = None
                continue
            children[kind] = {
                _sequence_id(item["id"]): {key: value for key, value in item.items() if key != "id"}
                for item in items
                if item and item.get("id")
            }
        text = json.dumps(children, sort_keys=True)
        return self._views.setdefault(text, children)


def job_views(data: Mapping[str, Any] | None, interner: Interner) -> dict[str, JobView]:
    """Job id -> view, for every job a workday answer holds (a page's nodes, or the one job)."""
    if not data:
        return {}
    if "sequenceJob" in data:
        nodes = [data["sequenceJob"]]
    else:
        nodes = (((data.get("workArea") or {}).get("jobs") or {}).get("nodes")) or []
    return {_sequence_id(node["id"]): interner.view(node) for node in nodes if node and node.get("id")}


def _sequence_id(global_id: str) -> str:
    """Sequence's own id: the last part of the gateway's global id."""
    return parse_global_id(global_id)[1][-1]


def _same(shown: Any, value: Any) -> bool:
    def norm(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        return "" if item is None else str(item).strip().lower()

    return norm(shown) == norm(value)


def observe(changes: Iterable[Change], answers: Iterable[Shown]) -> list[Observation]:
    """One observation per timed change, oldest first."""
    timed = sorted((change for change in changes if change.timed), key=lambda change: (change.at, change.seq))
    by_key: dict[tuple[str, str | None, str | None, str | None], list[Change]] = defaultdict(list)
    for change in timed:
        by_key[change.key].append(change)
    by_job: dict[str, list[tuple[float, float, JobView]]] = defaultdict(list)
    for answer in answers:
        for job_id, view in answer.jobs.items():
            by_job[job_id].append((answer.started, answer.finished, view))
    for sightings in by_job.values():
        sightings.sort(key=lambda sighting: sighting[0])

    observations = []
    for change in timed:
        later = [other for other in by_key[change.key] if other.seq >= change.seq]
        observed = False
        first_shown: float | None = None
        last_missed: float | None = None
        misses = 0
        for started, finished, view in by_job.get(change.job_id, ()):
            if finished < change.at:
                continue
            children = view.get(change.child_kind or "")
            if children is None:
                continue
            shows = _shows(change, later, children, finished)
            if shows:
                first_shown = finished if first_shown is None else min(first_shown, finished)
            if started < change.at:
                continue
            observed = True
            if not shows:
                misses += 1
                last_missed = started if last_missed is None else max(last_missed, started)
        observations.append(
            Observation(
                change=change,
                observed=observed,
                visible_after=None if first_shown is None else max(0.0, first_shown - change.at),
                missed_for=(0.0 if last_missed is None else last_missed - change.at) if observed else None,
                misses=misses,
            )
        )
    return observations


def _shows(change: Change, later: Sequence[Change], children: Mapping[str, Mapping[str, Any]], finished: float) -> bool:
    child = children.get(change.child_id or "")
    if child is None:
        return False
    if change.kind in ADDING or change.field is None:
        return True
    shown = child.get(change.field)
    return any(_same(shown, other.value) for other in later if other.at <= finished)


def summary(observations: Sequence[Observation], untimed: int) -> dict[str, Any]:
    """Counts and percentiles of `observations`; `untimed` job creations and deletions beside them."""
    observed = [item for item in observations if item.observed]
    missed = [item.missed_for for item in observed if item.missed_for is not None]
    visible = [item.visible_after for item in observed if item.visible_after is not None]
    return {
        "changes": len(observations),
        "observed": len(observed),
        "never_observed": len(observations) - len(observed),
        "never_shown": sum(1 for item in observed if item.visible_after is None),
        "untimed": untimed,
        "missed_p50_s": percentile(missed, 0.50),
        "missed_p95_s": percentile(missed, 0.95),
        "missed_max_s": max(missed, default=float("nan")),
        "visible_p50_s": percentile(visible, 0.50),
        "visible_p95_s": percentile(visible, 0.95),
        "missed_s": sorted(round(value, 3) for value in missed),
        "visible_s": sorted(round(value, 3) for value in visible),
        "by_kind": _by_kind(observations),
        # One row per change, for looking into a figure: seq, kind, job, then the observation.
        "per_change": [
            [
                item.change.seq,
                item.change.kind,
                item.change.job_id,
                item.observed,
                None if item.visible_after is None else round(item.visible_after, 3),
                None if item.missed_for is None else round(item.missed_for, 3),
                item.misses,
            ]
            for item in observations
        ],
    }


def _by_kind(observations: Sequence[Observation]) -> dict[str, dict[str, int]]:
    kinds: dict[str, dict[str, int]] = {}
    for item in observations:
        counts = kinds.setdefault(item.change.kind, {"changes": 0, "observed": 0})
        counts["changes"] += 1
        counts["observed"] += int(item.observed)
    return dict(sorted(kinds.items()))
