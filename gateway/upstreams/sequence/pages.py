"""Sequence's page rules: which pages of a job list serve a window of it.

A job list comes in fixed-size slices (`page` from 1, `per_page` up to
200). A client asks for a window instead: `count` jobs from `offset`. The
window is served by one page whose size covers it when one exists,
preferring `per_page == count` (what clients paging forward share in the
cache), and by two pages of `count` otherwise.
"""

from __future__ import annotations

from typing import NamedTuple

# Sequence refuses a larger `per_page` ("per_page maximum value is 200"),
# and so a window is at most this many jobs.
MAX_PER_PAGE = 200


class Page(NamedTuple):
    number: int  # from 1
    per_page: int

    @property
    def offset(self) -> int:
        """The list offset of the page's first job."""
        return (self.number - 1) * self.per_page


def window_pages(offset: int, count: int) -> list[Page]:
    """The pages that hold jobs [offset, offset + count): one when a size up to
    MAX_PER_PAGE has no page boundary inside the window, else two of `count`."""
    if not 0 < count <= MAX_PER_PAGE or offset < 0:
        raise ValueError(f"a window is 1 to {MAX_PER_PAGE} jobs from an offset >= 0, not {count} from {offset}")
    for per_page in range(count, MAX_PER_PAGE + 1):
        if offset // per_page == (offset + count - 1) // per_page:
            return [Page(offset // per_page + 1, per_page)]
    first = offset // count + 1
    return [Page(first, count), Page(first + 1, count)]


def pages_ahead(offset: int, count: int, total: int, ahead: int) -> list[Page]:
    """The pages a client paging forward by whole windows of `count` will most
    likely ask for next, after the window at `offset`: at most `ahead` of
    them, none past the end of the list. None when the window is not
    aligned to its size: the next window is anyone's guess."""
    if count <= 0 or offset % count:
        return []
    starts = range(offset + count, offset + count * (ahead + 1), count)
    return [Page(start // count + 1, count) for start in starts if start < total]


__all__ = ["MAX_PER_PAGE", "Page", "pages_ahead", "window_pages"]
