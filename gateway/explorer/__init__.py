"""GraphiQL served by the gateway itself, with no request to a CDN.

Strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin
from unpkg.com, which leaves the explorer blank on a machine without
internet (an operations network, a CI runner). The gateway serves the very
same files from `assets/` (fetched from the npm registry, MIT-licensed);
the page keeps its integrity hashes, so the browser itself checks that the
local copies are the files Strawberry pinned.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

ASSETS = Path(__file__).parent / "assets"
MOUNT = "/explorer/assets"
CDN = "https://unpkg.com/"


@cache
def explorer_html() -> str:
    return get_graphql_ide_html(graphql_ide="graphiql").replace(CDN, MOUNT + "/")
