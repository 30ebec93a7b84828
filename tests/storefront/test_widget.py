"""The widget's files (versioned URLs, cache headers, size budget, extension copies, strings) and reviews behind the
storefront door (app proxy mirror, CORS, a star link of another store)."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import brotli
from babel.numbers import get_decimal_symbol

from app.extensions import db
from app.reviews.models import Review
from app.security import secret_box
from app.storefront.widget import STATIC
from app.stores.storefront_keys import ensure_keys
from tests.helpers import SHOP, SHOPIFY_SECRET, add_store

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "app/storefront/widget_src"
# widget.js is on every page: Shopify's theme check allows 10,000 bytes uncompressed (tests/storefront/theme-check.yml).
EVERY_PAGE_BUDGET = 9000  # bytes uncompressed, with margin
PRODUCT_PAGE_GZIP_BUDGET = 6000  # widget.js + widget-reviews.js as served gzip
LAZY_BUDGET = 9000  # each file loaded on demand (panel, strings), uncompressed
CSS_BUDGET = 4 * 1024  # bytes, uncompressed
LOCALES = ("en", "pl", "hu", "lv", "kk", "th")
NOW = 1_800_000_000


def test_versioned_urls_and_cache_headers(client):
    from app.storefront.widget import widget_path

    path = widget_path("widget.js")
    assert re.fullmatch(r"/widget/[0-9a-f]{12}/widget.js", path), path
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.data == (STATIC / "widget.js").read_bytes()
    assert plain.headers["Content-Type"].startswith("text/javascript") and "Content-Encoding" not in plain.headers
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert client.get(path, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
    # "latest" (what a theme names when it cannot know the version) is the file itself: no redirect, 5 minutes.
    latest = client.get("/widget/latest/widget.js", headers={"Accept-Encoding": "identity"})
    assert latest.status_code == 200 and latest.data == plain.data
    assert latest.headers["Cache-Control"] == "public, max-age=300" and latest.headers["ETag"] == plain.headers["ETag"]
    css = client.get(path.replace("widget.js", "widget.css"))
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert client.get("/widget/0123456789ab/widget.css").status_code == 200  # a version a deploy replaced
    assert client.get(path.replace("widget.js", "secrets.py")).status_code == 404


def test_compressed_as_the_browser_accepts(client):
    from app.storefront.widget import widget_path

    raw = (STATIC / "widget.js").read_bytes()
    tags = set()
    for accept, encoding, decode in (
        ("gzip, deflate", "gzip", gzip.decompress),
        ("gzip, deflate, br, zstd", "br", brotli.decompress),
        ("br;q=0.5, gzip", "gzip", gzip.decompress),
    ):
        answer = client.get(widget_path("widget.js"), headers={"Accept-Encoding": accept})
        assert answer.headers["Content-Encoding"] == encoding, accept
        assert decode(answer.data) == raw and len(answer.data) < len(raw) / 2
        assert (
            client.get(
                widget_path("widget.js"), headers={"Accept-Encoding": accept, "If-None-Match": answer.headers["ETag"]}
            ).status_code
            == 304
        )
        tags.add(answer.headers["ETag"])
    # One strong ETag per representation (RFC 9110 8.8.3): a cache never answers br bytes to a gzip request.
    assert len(tags) == 2 and not any(tag.startswith("W/") for tag in tags)


def test_size_budget(client):
    from app.storefront.widget import widget_path

    served = {}
    for name in sorted(p.name for p in STATIC.glob("widget*.js")):
        answer = client.get(widget_path(name), headers={"Accept-Encoding": "gzip"})
        served[name] = (len(gzip.decompress(answer.data)), len(answer.data))
    print(served)
    # What Shopify's CDN serves for the app embed is what we serve (built from the same source).
    assert (ROOT / "extensions/ppe-widget/assets/widget.js").stat().st_size == served["widget.js"][0]
    assert served["widget.js"][0] <= EVERY_PAGE_BUDGET
    assert served["widget.js"][1] + served["widget-reviews.js"][1] <= PRODUCT_PAGE_GZIP_BUDGET
    assert all(size <= LAZY_BUDGET for size, _ in served.values()), served
    assert len((STATIC / "widget.css").read_bytes()) <= CSS_BUDGET


def test_extension_assets_are_the_built_files():
    built = sorted(p.name for p in STATIC.iterdir())
    assert "widget.js" in built and "widget-panel.js" in built and "widget-reviews.js" in built
    assert sorted(p.name for p in (ROOT / "extensions/ppe-widget/assets").iterdir()) == built
    for name in built:
        assert (ROOT / "extensions/ppe-widget/assets" / name).read_bytes() == (STATIC / name).read_bytes(), name
    check = subprocess.run([str(ROOT / "scripts/build-widget"), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    embed = (ROOT / "extensions/ppe-widget/blocks/app-embed.liquid").read_text()
    assert "{{ 'widget.js' | asset_url }}" in embed and "defer" in embed and '"target": "body"' in embed
    assert "customer.id" in embed
    for block in ("app-embed", "reviews", "stars"):  # no render-blocking stylesheet in the theme's head
        liquid = (ROOT / f"extensions/ppe-widget/blocks/{block}.liquid").read_text()
        schema = json.loads(liquid.split("{% schema %}")[1].split("{% endschema %}")[0])
        assert "stylesheet" not in schema, block


def test_decimal_commas_are_cldr_s():
    """widget.js writes 0-999 itself (no Intl formatter on every page): its decimal-comma languages are CLDR's.
    (Debian's chromium has no kk data and would say "."; CLDR, as Babel ships it, and full-ICU browsers say ",".)"""
    (named,) = re.findall(r"const sep = \(P\.sep = /\^\(([a-z|]+)\)\$/", (SRC / "widget.js").read_text())
    assert sorted(named.split("|")) == sorted(lang for lang in LOCALES if get_decimal_symbol(lang) == ",")


def test_build_strips_comments_only(tmp_path):
    from scripts.build_widget import built

    source = tmp_path / "x.js"
    source.write_text("/*! kept */\n// dropped\n  const a = 'http://x'; // trailing kept\n\n    f(a);\n")
    assert built(source) == b"/*! kept */\nconst a = 'http://x'; // trailing kept\nf(a);\n"


def _keys(body: str) -> set[str]:
    plural_forms = {"zero", "one", "two", "few", "many", "other"}  # inside a plural string, not strings
    return set(re.findall(r"(\w+):", re.sub(r"'[^']*'", "''", body))) - plural_forms


def test_every_locale_has_every_string():
    english: set[str] = set()
    for name in ("widget.js", "widget-reviews.js", "widget-panel.js"):
        (table,) = re.findall(r"(?:P\.E = |Object\.assign\(P\.E, )\{\n(.*?)\n  \}\)", (SRC / name).read_text(), re.S)
        english |= _keys(table)
    assert len(english) > 30
    for lang in LOCALES[1:]:
        (table,) = re.findall(r"window\.__ppe\.l\(\{\n(.*?)\n\}\);", (SRC / f"widget-{lang}.js").read_text(), re.S)
        assert _keys(table) == english, (lang, english ^ _keys(table))
    pick = re.search(r"\[('en'.*?)\]\.includes", (SRC / "widget.js").read_text())
    assert pick and tuple(re.findall(r"'(\w+)'", pick.group(1))) == LOCALES


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
