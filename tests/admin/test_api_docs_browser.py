"""The API viewer in a real browser (Debian's chromium, Playwright, as tests/dashboard/test_dashboard_browser.py):
Swagger UI, served from our origin, reads the admin API's OpenAPI 3.1 document and lists its paths; no request
leaves our origin. Screenshots at 1280 and 390 px under tests/artifacts/screenshots/admin/ (paths printed)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots" / "admin"

if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (requirements-dev.txt)")

pytestmark = pytest.mark.slow


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("width", [1280, 390])
def test_viewer_lists_the_admin_paths(app, live, width):
    with app.app_context():
        from app.admin.openapi import build_document

        with app.test_request_context():
            paths = sorted(build_document()["paths"])
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": 900})
        elsewhere: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(live) else elsewhere.append(r.url))
        page.goto(f"{live}/admin/api/docs")
        page.locator(".opblock-summary-path").first.wait_for(timeout=20000)
        shown = set(page.locator(".opblock-summary-path").evaluate_all("(els) => els.map((e) => e.dataset.path)"))
        assert set(paths) <= shown, sorted(set(paths) - shown)
        assert "Post-purchase engine admin API" in page.locator(".info .title").inner_text()
        assert elsewhere == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / f"api-docs-{width}.png"
        page.screenshot(path=str(shot), full_page=False)
        print(f"\napi viewer at {width} px: {shot} ({len(paths)} admin paths listed)")
        browser.close()
