"""GraphiQL is served from the gateway's own copies of its assets."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx

from gateway.app import create_app
from gateway.config import Settings
from gateway.explorer import ASSETS, MOUNT, explorer_html
from gateway.simulators.server import serve_in_thread

ASSET_TAG = re.compile(r'(?:src|href)="([^"]+)"\s+integrity="(sha384-[^"]+)"')


def test_the_page_names_no_remote_asset() -> None:
    html = explorer_html()
    assert "unpkg.com" not in html
    assert len(ASSET_TAG.findall(html)) == 7
    assert all(path.startswith(MOUNT + "/") for path, _ in ASSET_TAG.findall(html))


def test_every_local_asset_matches_the_integrity_hash_strawberry_pinned() -> None:
    for path, integrity in ASSET_TAG.findall(explorer_html()):
        data = (ASSETS / path.removeprefix(MOUNT + "/")).read_bytes()
        assert "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode() == integrity, path


def test_the_gateway_serves_the_page_and_its_assets() -> None:
    settings = Settings.from_env({}, require_upstreams=False)
    with serve_in_thread(create_app(settings)) as url:
        page = httpx.get(url + "/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        for path, _ in ASSET_TAG.findall(page.text):
            asset = httpx.get(url + path)
            assert asset.status_code == 200, path
            assert asset.content == (ASSETS / path.removeprefix(MOUNT + "/")).read_bytes()
