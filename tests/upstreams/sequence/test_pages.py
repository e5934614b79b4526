"""Sequence's page rules: the pages that serve a window of a job list, and the pages read ahead."""

from __future__ import annotations

import pytest

from gateway.upstreams.sequence.pages import MAX_PER_PAGE, Page, pages_ahead, window_pages


@pytest.mark.parametrize(
    ("offset", "count", "pages"),
    [
        # aligned windows are the page of their own size, which clients paging forward share
        (0, 50, [Page(1, 50)]),
        (100, 50, [Page(3, 50)]),
        (0, 200, [Page(1, 200)]),
        # a window inside a larger page: the smallest size whose boundaries do not cut it
        (12, 5, [Page(3, 6)]),
        (1, 50, [Page(1, 51)]),
        (150, 100, [Page(2, 125)]),
        # no page up to 200 holds it whole: two pages of its size
        (199, 200, [Page(1, 200), Page(2, 200)]),
    ],
)
def test_a_window_is_served_by_as_few_pages_as_possible(offset: int, count: int, pages: list[Page]) -> None:
    found = window_pages(offset, count)
    assert found == pages
    # Together the pages hold the whole window.
    assert found[0].offset <= offset
    assert found[-1].offset + found[-1].per_page >= offset + count
    assert all(page.per_page <= MAX_PER_PAGE for page in found)


@pytest.mark.parametrize(("offset", "count"), [(0, 0), (0, 201), (-1, 10)])
def test_a_window_outside_the_page_rules_is_refused(offset: int, count: int) -> None:
    with pytest.raises(ValueError, match="a window is"):
        window_pages(offset, count)


def test_pages_ahead_follow_a_forward_walk_and_stop_at_the_end() -> None:
    assert pages_ahead(0, 50, 1000, 2) == [Page(2, 50), Page(3, 50)]
    assert pages_ahead(100, 50, 1000, 3) == [Page(4, 50), Page(5, 50), Page(6, 50)]
    # the list ends after page 4: nothing past it
    assert pages_ahead(100, 50, 180, 3) == [Page(4, 50)]
    assert pages_ahead(150, 50, 180, 3) == []
    # turned off, or a window not aligned to its size
    assert pages_ahead(0, 50, 1000, 0) == []
    assert pages_ahead(10, 50, 1000, 2) == []
    assert pages_ahead(0, 0, 1000, 2) == []
