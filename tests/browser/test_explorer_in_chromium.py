"""The explorer in a real headless browser: GraphiQL loads from the gateway
alone, fetches the schema and runs a query against the simulators."""

from __future__ import annotations

import os
import shutil
import urllib.parse
from collections.abc import Iterator

import pytest

from gateway.app import create_app
from gateway.simulators.server import serve_in_thread
from tests.conftest import RunningSimulators
from tests.integration.conftest import gateway_settings

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# CI installs Chromium and sets this, so a missing browser fails there instead of skipping.
REQUIRED = os.environ.get("GATEWAY_TEST_REQUIRE_BROWSER") == "1"

if CHROMIUM is None:
    if REQUIRED:
        raise RuntimeError("GATEWAY_TEST_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
    pytest.skip("no Chromium on this machine (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

# Flags for a sandboxed root environment with no network beyond loopback.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_graphiql_runs_a_query_without_leaving_the_gateway(running: RunningSimulators, browser) -> None:
    query = '{ workArea(workAreaId: "10") { jobs(first: 2) { totalCount nodes { name } } } }'
    with serve_in_thread(create_app(gateway_settings(running))) as url:
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        failures: list[str] = []
        page.on("requestfailed", lambda request: failures.append(request.url))
        page.goto(f"{url}/graphql?q={urllib.parse.quote(query)}")
        page.locator(".graphiql-execute-button").click(timeout=20_000)
        response = page.locator(".graphiql-response")
        sync_api.expect(response).to_contain_text('"totalCount": 240', timeout=20_000)
        # The docs explorer has the schema, so the introspection query went through too.
        page.locator('[aria-label="Show Documentation Explorer"]').click()
        sync_api.expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Query", timeout=10_000)
        page.close()
    assert not failures
    assert requests and all(request.startswith(url) for request in requests), requests
