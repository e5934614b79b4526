"""Stand-ins for the upstream layer's collaborators, for unit tests."""

from __future__ import annotations


class MemoryStore:
    """A ResponseStore in a dict, recording each prefix it is asked to delete."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[str, bytes]] = {}
        self.deleted: list[str] = []

    async def get(self, key: str) -> tuple[str, bytes] | None:
        return self.entries.get(key)

    async def set(self, key: str, value: tuple[str, bytes], ttl: float) -> None:
        self.entries[key] = value

    async def delete_prefix(self, key_prefix: str, *, then: str = "") -> int:
        self.deleted.append(key_prefix + (f"[{then}]" if then else ""))

        def matches(key: str) -> bool:
            rest = key.removeprefix(key_prefix)
            return rest != key and (not then or (rest != "" and rest[0] in then))

        gone = [key for key in self.entries if matches(key)]
        for key in gone:
            del self.entries[key]
        return len(gone)
