"""The widget's files (versioned URLs, cache headers, size budget, extension copies, strings) and reviews behind the
storefront door (app proxy mirror, CORS, a star link of another store)."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import re
import subprocess
from pathlib import Path
from urllib.parse import urlencode

from app.extensions import db
from app.reviews.models import Review
from app.security import secret_box
from app.storefront.widget import STATIC
from app.stores.storefront_keys import ensure_keys
from tests.helpers import SHOP, SHOPIFY_SECRET, add_store

ROOT = Path(__file__).resolve().parents[2]
JS_BUDGET = 15 * 1024  # gzip -9 bytes
CSS_BUDGET = 4 * 1024  # bytes, uncompressed
LOCALES = ("en", "pl", "hu", "lv", "kk", "th")
NOW = 1_800_000_000


def test_versioned_urls_and_cache_headers(client):
    latest = client.get("/widget/latest/widget.js")
    assert latest.status_code == 302 and latest.headers["Cache-Control"] == "public, max-age=300"
    path = latest.headers["Location"]
    version = path.split("/")[2]
    assert re.fullmatch(r"[0-9a-f]{12}", version), path
    answer = client.get(path)
    assert answer.status_code == 200 and answer.data == (STATIC / "widget.js").read_bytes()
    assert answer.headers["Content-Type"].startswith("text/javascript")
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(path, headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
    css = client.get(f"/widget/{version}/widget.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    # An old version (replaced by a deploy) is sent to the current file, briefly cached; other names are unknown.
    assert client.get("/widget/0123456789ab/widget.css").headers["Location"] == f"/widget/{version}/widget.css"
    assert client.get(f"/widget/{version}/secrets.py").status_code == 404


def test_size_budget():
    script = (STATIC / "widget.js").read_bytes()
    css = (STATIC / "widget.css").read_bytes()
    packed = len(gzip.compress(script, compresslevel=9))
    print(f"widget.js: {len(script)} bytes, {packed} bytes gzip -9 (budget {JS_BUDGET}); widget.css: {len(css)} bytes")
    assert packed <= JS_BUDGET
    assert len(css) <= CSS_BUDGET


def test_extension_assets_are_the_built_files():
    for name in ("widget.js", "widget.css"):
        assert (ROOT / "extensions/ppe-widget/assets" / name).read_bytes() == (STATIC / name).read_bytes(), name
    assert subprocess.run([str(ROOT / "scripts/build-widget"), "--check"], capture_output=True).returncode == 0
    embed = (ROOT / "extensions/ppe-widget/blocks/app-embed.liquid").read_text()
    assert "defer" in embed and '"target": "body"' in embed and "customer.id" in embed


def test_every_locale_has_every_string():
    source = (STATIC / "widget.js").read_text()
    tables = dict(re.findall(r"\n    (\w\w): \{\n(.*?)\n    \}", source, re.S))
    assert set(tables) == set(LOCALES)
    plural_forms = {"zero", "one", "two", "few", "many", "other"}  # inside a plural string, not strings
    keys = {
        lang: set(re.findall(r"(\w+):", re.sub(r"'[^']*'", "''", body))) - plural_forms for lang, body in tables.items()
    }
    assert len(keys["en"]) > 30
    for lang in LOCALES:
        assert keys[lang] == keys["en"], (lang, keys["en"] ^ keys[lang])


def _published(store, product_id: str, rating: int, order: str, **extra) -> Review:
    review = Review(
        store_id=store.id,
        product_id=product_id,
        order_platform_id=order,
        rating=rating,
        status="published",
        published_at=db.func.now(),
        verified=True,
        **extra,
    )
    db.session.add(review)
    db.session.commit()
    return review


def _proxy_query(path_prefix: str = "/apps/ppe", **extra: str) -> str:
    params = {"shop": SHOP, "logged_in_customer_id": "", "path_prefix": path_prefix, "timestamp": str(NOW), **extra}
    message = "".join(sorted(f"{k}={v}" for k, v in params.items()))
    signature = hmac.new(SHOPIFY_SECRET, message.encode(), hashlib.sha256).hexdigest()
    return urlencode({**params, "signature": signature})


def test_reviews_through_the_app_proxy(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "STOREFRONT_CLOCK", lambda: NOW)
    store = add_store()
    _published(store, "111", 4, "1", body="Solid", photos=[{"key": f"{store.id}/a.png"}], merchant_reply="Thanks!")
    summary = client.get(f"/proxy/api/v1/products/111/reviews/summary?{_proxy_query()}")
    assert summary.status_code == 200 and (summary.json["count"], summary.json["average"]) == (1, "4.00")
    page = client.get(f"/proxy/api/v1/products/111/reviews?{_proxy_query(sort='highest')}")
    (review,) = page.json["reviews"]
    assert review["merchant_reply"] == "Thanks!"
    assert review["photo_urls"] == [app.config["APP_URL"].rstrip("/") + f"/r/photos/{store.id}/a.png"]
    tampered = _proxy_query().replace("timestamp=", "timestamp=1")
    assert client.get(f"/proxy/api/v1/products/111/reviews?{tampered}").status_code == 401


def test_cors_and_store_scoping(app, client, ctx):
    woo = add_store("woocommerce", currency="EUR")
    other = add_store("woocommerce", "https://other.example.com/")
    woo_key = ensure_keys(db.session, secret_box(), db.session.merge(woo)).public_key
    other_key = ensure_keys(db.session, secret_box(), db.session.merge(other)).public_key
    db.session.commit()
    _published(woo, "93", 5, "727", body="Mine")
    _published(other, "93", 1, "1", body="Theirs")
    mine = client.get(f"/api/v1/products/93/reviews?store={woo_key}", headers={"Origin": "https://woo.example.com"})
    assert [r["body"] for r in mine.json["reviews"]] == ["Mine"]
    assert mine.headers["Access-Control-Allow-Origin"] == "https://woo.example.com"
    foreign = client.get(
        f"/api/v1/products/93/reviews?store={woo_key}", headers={"Origin": "https://other.example.com"}
    )
    assert foreign.status_code == 403
    pre = client.options(
        f"/api/v1/reviews?store={woo_key}",
        headers={"Origin": "https://woo.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 204 and "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert client.get(f"/api/v1/products/93/reviews/summary?store={other_key}").json["average"] == "1.00"
    # A star link names its store: sent with another store's key, it is as unknown as a forged one.
    from app.reviews.links import star_token

    token = star_token(woo.id, 1, "93", 5, "en")
    refused = client.post(f"/api/v1/reviews?store={other_key}", json={"token": token})
    assert refused.status_code == 400 and refused.json["error"] == "link_invalid"
    assert client.get(f"/api/v1/products/93%2Fx/reviews?store={woo_key}").status_code in (400, 404)
