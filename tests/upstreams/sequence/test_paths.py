"""Sequence's URL layout, built from ids and read back from links."""

from __future__ import annotations

import pytest

from gateway.errors import BadUserInput
from gateway.upstreams.sequence import paths
from gateway.upstreams.sequence.paths import Location


def test_paths_are_built_from_ids_as_the_job_page_documents() -> None:
    assert paths.work_areas() == "work_areas"
    assert paths.work_area("10") == "work_areas/10"
    assert paths.jobs("10") == "work_areas/10/jobs"
    assert paths.job("10", "3") == "work_areas/10/jobs/3"
    assert paths.job("10", "3", deleted=True) == "work_areas/10/jobs/3?deleted"
    assert paths.children("10", "3", "notes") == "work_areas/10/jobs/3/notes"
    assert paths.children("10", "3", "hooks", deleted=True) == "work_areas/10/jobs/3/hooks?deleted"
    assert paths.events() == "events"
    assert paths.events("42") == "events?newer_than=42"


def test_job_pages_carry_pagination_filter_and_the_deleted_flag() -> None:
    assert paths.job_page("10", page=2, per_page=50) == "work_areas/10/jobs?pagination=true&page=2&per_page=50"
    assert (
        paths.job_page("10", page=1, per_page=200, filter_name="ready", deleted=True)
        == "work_areas/10/jobs?pagination=true&page=1&per_page=200&filter=ready&deleted"
    )


@pytest.mark.parametrize(
    "hostile",
    [
        "3/../4",  # path traversal
        "3?deleted",  # a query smuggled into an id
        "",  # nothing
        "-1",  # not digits
        "3 ",  # trailing space
        "%33",  # encoded
    ],
)
def test_an_id_that_is_not_digits_never_reaches_a_path(hostile: str) -> None:
    for build in (
        lambda: paths.work_area(hostile),
        lambda: paths.job("10", hostile),
        lambda: paths.job(hostile, "3"),
        lambda: paths.children("10", hostile, "tasks"),
        lambda: paths.job_page(hostile, page=1, per_page=1),
        lambda: paths.events(hostile),
    ):
        with pytest.raises(BadUserInput, match="digits only"):
            build()


def test_an_unknown_kind_of_child_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        paths.children("10", "3", "attachments")  # type: ignore[arg-type]  # not a kind, on purpose


def test_every_kind_has_its_singular_resource_type() -> None:
    assert paths.CHILD_KINDS == ("tasks", "assets", "notes", "problems", "hooks")
    assert dict(paths.RESOURCE_TYPES) == {
        "tasks": "task",
        "assets": "asset",
        "notes": "note",
        "problems": "problem",
        "hooks": "hook",
    }


@pytest.mark.parametrize(
    ("link", "location"),
    [
        # the list of work areas, a work area, its job list and pages
        ("https://sequence.example/api/work_areas", Location(None)),
        ("https://sequence.example/api/work_areas/10", Location("10")),
        ("https://sequence.example/api/work_areas/10/jobs", Location("10", jobs=True)),
        ("https://sequence.example/api/work_areas/10/jobs?page=2&deleted", Location("10", jobs=True, deleted=True)),
        # a job, live and deleted, behind a proxy's prefix and with a trailing slash
        ("https://sequence.example/api/work_areas/10/jobs/7?deleted", Location("10", True, "7", deleted=True)),
        ("/api/work_areas/10/jobs/7?deleted=true", Location("10", True, "7", deleted=True)),  # the seed's JSON
        ("/api/work_areas/10/jobs/7?deleted=false", Location("10", True, "7")),
        ("https://proxy.example/seq/api/work_areas/10/jobs/7/", Location("10", True, "7")),
        # a child list and a child, of a known kind and of one we do not know
        ("/api/work_areas/10/jobs/7/tasks", Location("10", True, "7", "tasks")),
        ("/api/work_areas/10/jobs/7/notes/4?deleted", Location("10", True, "7", "notes", "4", deleted=True)),
        ("/api/work_areas/10/jobs/7/attachments/2", Location("10", True, "7", "attachments", "2")),
        # a relative path, as the builders write them
        ("work_areas/10/jobs/7", Location("10", True, "7")),
        ("/work_areas/10/jobs/7", Location("10", True, "7")),
        # outside the layout
        ("https://sequence.example/api/events/3", None),
        ("https://sequence.example/api/my_work_areas/10", None),
        ("https://sequence.example/api/work_areas/ten/jobs/7", None),
        ("https://sequence.example/api/work_areas/10/jobs/7/tasks/3/extra", None),
    ],
)
def test_locate_reads_the_layout_back_out_of_a_link(link: str, location: Location | None) -> None:
    assert paths.locate(link) == location


def test_a_location_knows_a_job_and_a_known_kind() -> None:
    job = paths.locate("/api/work_areas/10/jobs/7")
    task = paths.locate("/api/work_areas/10/jobs/7/tasks/3")
    other = paths.locate("/api/work_areas/10/jobs/7/attachments/2")
    assert job is not None and task is not None and other is not None
    assert (job.is_job, task.is_job, other.is_job) == (True, False, False)
    assert (job.child_kind, task.child_kind, other.child_kind) == (None, "tasks", None)
