"""What the storefront widget costs a store's Lighthouse performance score (the App Store allows 10 points).

A theme-like product page (a render-blocking theme stylesheet, a product photo as the LCP element, title, price,
description, buy button) is served from its own origin, once as is and once with the widget: the stars and the
reviews block placeholders (their height reserved inline, as the extension's blocks do) and the deferred script
from our app, which runs on a real port with a WooCommerce store, its public key and 24 published reviews
(SQLite and an embedded Redis in a temporary folder). npm `lighthouse` drives Debian's chromium, mobile (its
default: simulated slow 4G and 4x CPU slowdown) and desktop (`--preset=desktop`), alternating the two pages,
`--runs` each, and prints the medians of the score, LCP, CLS, TBT, requests and bytes, and the difference.

    .venv/bin/python -m bench.lighthouse --runs 5

Lighthouse is installed into .cache/lighthouse (gitignored) with npm when missing. Each report is kept in
bench/results/ (gitignored); the figures are in bench/README.md.
https://shopify.dev/docs/apps/launch/app-requirements-checklist (storefront performance)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import tempfile
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = "lighthouse@12.8.2"  # 13.x needs node >= 22.19
CACHE = ROOT / ".cache/lighthouse"
FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync"
)
PRODUCT = "8123456789"
REVIEWS = 24
RESULTS = ROOT / "bench/results"  # the last run's reports (gitignored)

THEME_CSS = b"""*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,sans-serif;color:#121212}
header{display:flex;justify-content:space-between;align-items:center;padding:1rem 2rem;border-bottom:1px solid #ddd}
header nav a{margin-left:1.5rem;color:inherit;text-decoration:none}.page{max-width:75rem;margin:0 auto;padding:2rem}
.product{display:grid;grid-template-columns:1fr;gap:2rem}
@media(min-width:750px){.product{grid-template-columns:3fr 2fr}}
.product img{width:100%;height:auto;aspect-ratio:1;background:#eee}.price{font-size:1.25rem;margin:.5rem 0 1rem}
.buy{display:block;width:100%;padding:1rem;border:0;background:#121212;color:#fff;font:inherit;cursor:pointer}
footer{padding:3rem 2rem;background:#f3f3f3;margin-top:3rem}"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Linen shirt - Bench store</title><meta name="description" content="A linen shirt, made to last.">
<link rel="stylesheet" href="/theme.css">
</head><body>
<header><a href="/">Bench store</a><nav><a href="/collections/all">Shop</a><a href="/pages/about">About</a>
<a href="/cart">Cart</a></nav></header>
<main class="page"><div class="product">
<img src="/shirt.png" width="800" height="800" alt="Linen shirt, front" fetchpriority="high">
<div><h1>Linen shirt</h1>{stars}<p class="price">€59.00</p>
<button class="buy" type="button">Add to cart</button>
<p>Washed linen, cut loose, with mother-of-pearl buttons. Sewn in Łódź from European flax.</p>
<ul><li>100% linen</li><li>Machine wash at 40 °C</li><li>Free returns within 30 days</li></ul></div></div>
{reviews}</main>
<footer><p>© Bench store</p></footer>
{script}</body></html>"""

WIDGET = {
    "stars": f'<span data-ppe="stars" data-product-id="{PRODUCT}" style="display:inline-block;min-height:1.5em;'
    'min-width:8em;vertical-align:middle"></span>',
    "reviews": f'<div data-ppe="reviews" data-product-id="{PRODUCT}" style="display:block;min-height:360px"></div>',
    "script": '<script defer src="{api}/widget/latest/widget.js" data-api="{api}" data-store="{key}"></script>',
}


def photo(size: int = 800) -> bytes:
    """A PNG product photo (a soft gradient, about 20 KB), built here so the bench needs no image file."""
    rows = b"".join(
        b"\x00" + bytes(channel for x in range(size) for channel in (200 + x * 40 // size, 190 + y * 40 // size, 170))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def lighthouse_bin() -> str:
    binary = CACHE / "node_modules/.bin/lighthouse"
    if not binary.exists():
        npm = shutil.which("npm")
        if not npm:
            raise SystemExit("npm not found: Lighthouse is an npm package")
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", LIGHTHOUSE], check=True)
    return str(binary)


def start_app(instance: str, origin: str) -> tuple[Any, str, str]:
    """Our app on a loopback port with a WooCommerce store whose product has REVIEWS published reviews."""
    from app.platform.embedded_redis import EmbeddedRedis

    redis = EmbeddedRedis(os.path.join(instance, "redis"))
    os.environ.update(
        {
            "INSTANCE_PATH": instance,
            "DATABASE_URL": f"sqlite:///{instance}/bench.db",
            "REDIS_URL": redis.url,
            "SECRET_KEY": "bench-secret-key",
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "APP_ENV": "development",
            "STOREFRONT_RATE_CLIENT": "100000/60",  # every Lighthouse run is the same client
        }
    )
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.reviews.models import Review
    from app.security import secret_box
    from app.stores.service import add_store
    from app.stores.storefront_keys import ensure_keys

    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        credentials = {"consumer_key": "ck_bench", "consumer_secret": "cs_bench", "webhook_secret": "bench"}
        store = add_store(db.session, secret_box(), "woocommerce", "https://bench.example.com/", credentials)
        store.settings = {"storefront": {"origins": [origin]}}
        key = ensure_keys(db.session, secret_box(), store).public_key
        for n in range(REVIEWS):
            db.session.add(
                Review(
                    store_id=store.id,
                    product_id=PRODUCT,
                    order_platform_id=str(1000 + n),
                    rating=5 - n % 3,
                    status="published",
                    published_at=db.func.now(),
                    verified=True,
                    title="Fits well",
                    body="Soft after the first wash, true to size. " * (1 + n % 3),
                    display_name=f"Shopper {n}",
                )
            )
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return (server, redis), f"http://127.0.0.1:{server.server_port}", key


def start_theme(pages: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    files = {"/theme.css": (b"text/css", THEME_CSS), "/shirt.png": (b"image/png", photo())}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            path = self.path.split("?")[0]
            kind, body = (b"text/html; charset=utf-8", pages[path]) if path in pages else files.get(path, (b"", b""))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind.decode())
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "public, max-age=3600")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def run_lighthouse(binary: str, url: str, desktop: bool, out: Path) -> dict[str, float]:
    command = [binary, url, "--quiet", "--only-categories=performance", "--output=json", f"--output-path={out}"]
    command.append(f"--chrome-flags={FLAGS}")
    if desktop:
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")}
    done = subprocess.run(command, env=env, timeout=300, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise RuntimeError(report["runtimeError"])
    audits = report["audits"]
    requests = audits["network-requests"]["details"]["items"]
    return {
        "score": round(report["categories"]["performance"]["score"] * 100),
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "requests": len(requests),
        "kb": sum(item.get("transferSize", 0) for item in requests) / 1024,
    }


FIELDS = (
    ("score", "{:.0f}"),
    ("lcp", "{:.0f} ms"),
    ("cls", "{:.3f}"),
    ("tbt", "{:.0f} ms"),
    ("requests", "{:.0f}"),
    ("kb", "{:.1f} KB"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="Lighthouse runs per page and form factor")
    args = parser.parse_args()
    binary = lighthouse_bin()
    RESULTS.mkdir(parents=True, exist_ok=True)
    pages: dict[str, bytes] = {}
    theme, origin = start_theme(pages)
    instance = tempfile.mkdtemp(prefix="ppe-lighthouse-")
    (app_server, redis), api, key = start_app(instance, origin)
    plain = PAGE.format(stars="", reviews="", script="")
    widget = PAGE.format(
        stars=WIDGET["stars"], reviews=WIDGET["reviews"], script=WIDGET["script"].format(api=api, key=key)
    )
    pages.update({"/products/plain": plain.encode(), "/products/widget": widget.encode()})
    try:
        for form in ("mobile", "desktop"):
            results: dict[str, list[dict[str, float]]] = {"plain": [], "widget": []}
            for n in range(args.runs):
                for variant in ("plain", "widget"):  # alternated: a load swing hits both alike
                    report = RESULTS / f"lighthouse-{form}-{variant}-{n + 1}.json"
                    result = run_lighthouse(binary, f"{origin}/products/{variant}", form == "desktop", report)
                    results[variant].append(result)
                    print(form, variant, n + 1, json.dumps({k: round(v, 3) for k, v in result.items()}), flush=True)
            median = {v: {f: statistics.median(r[f] for r in rows) for f, _ in FIELDS} for v, rows in results.items()}
            print(f"\n{form}, median of {args.runs} runs")
            print(f"{'':8}" + "".join(f"{f:>12}" for f, _ in FIELDS))
            for variant in ("plain", "widget"):
                print(f"{variant:8}" + "".join(f"{fmt.format(median[variant][f]):>12}" for f, fmt in FIELDS))
            diff = {f: median["widget"][f] - median["plain"][f] for f, _ in FIELDS}
            print(f"{'widget-':8}" + "".join(f"{fmt.format(diff[f]):>12}" for f, fmt in FIELDS))
            scores = [r["score"] for r in results["widget"]], [r["score"] for r in results["plain"]]
            print(f"scores with the widget {scores[0]}, without {scores[1]}\n", flush=True)
    finally:
        app_server.shutdown()
        theme.shutdown()
        redis.stop()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
