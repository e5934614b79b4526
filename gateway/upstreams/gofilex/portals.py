"""The four regional Gofilex Genie portals: the one list of them.

Each portal has its own data, base URL and token (GOFILEX_<PORTAL>_URL,
GOFILEX_<PORTAL>_TOKEN). The graph's GofilexPortal enum, the settings and
the job tags that link to orders all come from this list.
"""

from __future__ import annotations

import enum


class Portal(enum.Enum):
    EMEA = "EMEA"
    APAC = "APAC"
    MPS = "MPS"
    NORAM = "NORAM"


PORTALS: tuple[str, ...] = tuple(portal.value for portal in Portal)
# Orders named without a portal (a `gofilex:<orderId>` tag) are EMEA's.
DEFAULT_PORTAL = Portal.EMEA

__all__ = ["DEFAULT_PORTAL", "PORTALS", "Portal"]
