"""The API viewer (/admin/api/docs, app/admin/docs.py): served from our origin with the vendored Swagger UI, both
OpenAPI documents beside each other, and JSON refusals, like the admin API's (also for unknown admin paths)."""

from __future__ import annotations

import hashlib
from pathlib import Path

VENDORED = Path(__file__).resolve().parents[2] / "app" / "admin" / "static" / "swagger-ui"


def test_viewer_page_names_our_assets_and_the_admin_document(client):
    page = client.get("/admin/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'data-spec="/admin/api/v1/openapi.json"' in page.text
    # Every script and stylesheet is ours: no CDN at run time.
    assert "/admin/api/docs/assets/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "https://" not in page.text.split("<body>")[0]
    storefront = client.get("/admin/api/docs?spec=storefront")
    assert 'data-spec="/api/v1/openapi.json"' in storefront.text
    assert 'data-spec="/admin/api/v1/openapi.json"' in client.get("/admin/api/docs?spec=nonsense").text


def test_both_documents_are_served_without_credentials(client):
    admin = client.get("/admin/api/v1/openapi.json").get_json()
    storefront = client.get("/api/v1/openapi.json").get_json()
    assert admin["openapi"].startswith("3.1") and storefront["openapi"].startswith("3.1")
    assert any(path.startswith("/admin/api/v1/") for path in admin["paths"])


def test_vendored_files_are_served_and_match_the_pinned_version(client):
    bundle = client.get("/admin/api/docs/assets/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and bundle.mimetype in ("text/javascript", "application/javascript")
    assert (
        hashlib.sha256(bundle.data).hexdigest()
        == hashlib.sha256((VENDORED / "swagger-ui-bundle.js").read_bytes()).hexdigest()
    )
    assert (VENDORED / "VERSION").read_text().startswith("5.")  # Swagger UI 5: OpenAPI 3.1
    assert client.get("/admin/api/docs/assets/api-docs.js").status_code == 200


def test_refusals_are_json(client):
    for path in (
        "/admin/api/docs/assets/nope.js",
        "/admin/api/docs/assets/../docs.py",
        "/admin/api/docs/assets/%2e%2e/docs.py",
        "/admin/api/v1/no-such-route",
        "/admin/api/nothing",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.is_json and answer.get_json()["error"] == "not_found", path
    wrong_method = client.delete("/admin/api/v1/openapi.json")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"] == "method_not_allowed"
