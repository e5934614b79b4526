"""Stand-ins for the upstream layer's collaborators, for unit tests."""

from __future__ import annotations

from gateway.upstreams.redis_layer import Stored


class MemoryStore:
    """A ResponseStore in a dict, recording each prefix it is asked to delete."""

    def __init__(self) -> None:
        self.entries: dict[str, Stored] = {}
        self.generations: dict[str, int] = {}
        self.deleted: list[str] = []

    async def get(self, key: str, generation_key: str) -> tuple[Stored | None, int]:
        return self.entries.get(key), self.generations.get(generation_key, 0)

    async def set(self, key: str, value: Stored, ttl: float, *, generation_key: str, generation: int) -> None:
        if self.generations.get(generation_key, 0) == generation:
            self.entries[key] = value

    async def bump(self, generation_key: str) -> None:
        self.generations[generation_key] = self.generations.get(generation_key, 0) + 1

    async def delete_prefix(self, key_prefix: str, *, then: str = "") -> int:
        self.deleted.append(key_prefix + (f"[{then}]" if then else ""))

        def matches(key: str) -> bool:
            rest = key.removeprefix(key_prefix)
            return rest != key and (not then or (rest != "" and rest[0] in then))

        gone = [key for key in self.entries if matches(key)]
        for key in gone:
            del self.entries[key]
        return len(gone)
