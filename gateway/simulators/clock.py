"""The simulators' notion of "now", which tests and demos can pin."""

from __future__ import annotations

import datetime as dt


class Clock:
    """Wall-clock time, optionally pinned or shifted.

    Job statuses (late, live, passed) and Gofilex run progress depend on the
    current date, so a test that wants stable answers pins the clock.
    """

    def __init__(self, fixed: dt.datetime | None = None) -> None:
        if fixed is not None and fixed.tzinfo is None:
            fixed = fixed.replace(tzinfo=dt.UTC)
        self._fixed = fixed

    @classmethod
    def at(cls, value: str) -> Clock:
        """A clock pinned to an ISO-8601 date or datetime (UTC when no offset)."""
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not an ISO-8601 date or datetime: {value!r}") from exc
        return cls(moment)

    def now(self) -> dt.datetime:
        return self._fixed if self._fixed is not None else dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().date()

    def pin(self, moment: dt.datetime | None) -> None:
        """Pin the clock to `moment`, or let it follow the wall clock again with None."""
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        self._fixed = moment
