"""Printed parcel cards: the PDF is rendered to PNG (Debian's pdftoppm) and its QR codes decoded back (zbarimg), so
the test reads the card the way a shopper's phone does; the pages are kept as pictures to look at.

Pictures: tests/artifacts/screenshots/inserts/ (paths printed).
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import SHOP, add_store
from tests.reviews.conftest import carrier, fulfillment, order, post

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots" / "inserts"
needs_tools = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg") and shutil.which("pdftotext")),
    reason="Debian's poppler-utils and zbar-tools (.ci/run installs them)",
)


def _pages(pdf: bytes, name: str) -> list[Path]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.pdf"
    source.write_bytes(pdf)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(source), str(ARTIFACTS / name)], check=True)
    pages = sorted(ARTIFACTS.glob(f"{name}-*.png"))
    for page in pages:
        print(f"card picture: {page}")
    return pages


def _qr_codes(png: Path) -> list[str]:
    done = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
                          capture_output=True, text=True)  # fmt: skip
    return [line for line in done.stdout.splitlines() if line]


def _text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def _pdf_page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    from fpdf import FPDF  # noqa: F401  (fpdf2 is what wrote it; the sizes are read with pdfinfo)

    info = subprocess.run(["pdfinfo", "-l", "99", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    sizes = []
    for line in info.splitlines():
        if line.startswith("Page") and "size:" in line:
            parts = line.split("size:")[1].split()
            sizes.append((round(float(parts[0])), round(float(parts[2]))))
    return sizes


@pytest.fixture
def shop(app, ctx):
    from app.admin.auth import issue_admin_token
    from app.extensions import db

    store = db.session.merge(add_store("shopify"))
    store.name, store.timezone = "Ceramika Ola", "Europe/Warsaw"
    store.settings = {"branding": {"primary_color": "#7c2d12"}}
    db.session.commit()
    return store, {"Authorization": "Bearer " + issue_admin_token(store)}


@needs_tools
def test_a_card_leads_to_its_orders_review_page(app, client, shop):
    store, auth = shop
    post(app, client, "orders/create", order(9001, locale="pl"))
    answer = client.get("/admin/api/v1/inserts/orders/9001.pdf", headers=auth)
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert _pdf_page_sizes(answer.data) == [(298, 420)]  # A6 in points
    text = _text(answer.data)
    assert "Dziękujemy, Ola!" in text and "Ceramika Ola" in text and "/ref/" in text
    [picture] = _pages(answer.data, "order-9001-pl")
    [url] = _qr_codes(picture)
    path = url.split("://", 1)[1].split("/", 1)[1]
    # Packed before it ships: the review opens on arrival, nothing is taken for an order not received.
    page = client.get("/" + path)
    assert page.status_code == 200 and "Twoje zamówienie jest w drodze" in page.get_data(as_text=True)
    shipped = datetime(2027, 2, 21, 9, tzinfo=UTC)
    post(app, client, "fulfillments/create", fulfillment(71, 9001, shipped))
    post(app, client, "fulfillment_events/create", carrier(71, 9001, shipped))
    html = client.get("/" + path).get_data(as_text=True)
    assert "Kubek" in html and "Talerz" in html and html.count("/r/") >= 10  # five stars for each product
    assert client.get("/" + path[:-3] + "xyz").status_code == 400  # tampered


@needs_tools
def test_the_days_sheet_holds_four_cards_per_a4_page_in_each_customers_language(app, client, shop):
    store, auth = shop
    # Warsaw's 2027-02-20 runs from 23:00 UTC the day before: the first order belongs to it, the last does not.
    times = ["2027-02-19T23:30:00+00:00", "2027-02-20T08:00:00+00:00", "2027-02-20T12:00:00+00:00",
             "2027-02-20T15:00:00+00:00", "2027-02-20T22:30:00+00:00", "2027-02-20T23:30:00+00:00"]  # fmt: skip
    locales = ["th", "kk", "hu", "lv", "en", "pl"]
    for n, (when, locale) in enumerate(zip(times, locales, strict=True)):
        payload = order(9100 + n, locale=locale, created_at=when, processed_at=when, updated_at=when)
        payload["email"] = f"c{n}@example.com"
        payload["customer"] = {**payload["customer"], "id": 7100 + n, "email": f"c{n}@example.com"}
        post(app, client, "orders/create", payload)
    answer = client.get("/admin/api/v1/inserts/day.pdf?date=2027-02-20", headers=auth)
    assert answer.status_code == 200
    assert _pdf_page_sizes(answer.data) == [(595, 842), (595, 842)]  # five cards: two A4 sheets
    text = _text(answer.data)
    for greeting in ("ขอบคุณ Ola!", "Рахмет, Ola!", "Köszönjük, Ola!", "Paldies, Ola!", "Thank you, Ola!"):
        assert greeting in text
    assert "Dziękujemy" not in text  # the pl order was placed on the 21st in Warsaw
    codes = [code for picture in _pages(answer.data, "day-2027-02-20") for code in _qr_codes(picture)]
    assert len(codes) == 5 and len(set(codes)) == 5
    from app.reviews.links import read_order_token

    orders = sorted(read_order_token(code.rsplit("/", 1)[1]).order_platform_id for code in codes)
    assert orders == ["9100", "9101", "9102", "9103", "9104"]


def test_another_stores_order_is_not_found_and_bad_input_is_refused(app, client, shop):
    store, auth = shop
    from app.admin.auth import issue_admin_token
    from app.extensions import db

    post(app, client, "orders/create", order(9001))
    other = db.session.merge(add_store("shopify", domain="other.myshopify.com"))
    db.session.commit()
    theirs = {"Authorization": "Bearer " + issue_admin_token(other)}
    assert client.get("/admin/api/v1/inserts/orders/9001.pdf", headers=theirs).status_code == 404
    assert client.get("/admin/api/v1/inserts/orders/9001.pdf").status_code == 401
    assert client.get("/admin/api/v1/inserts/day.pdf?date=20270220", headers=auth).status_code == 400


def test_cli_writes_the_card(app, shop, tmp_path):
    post(app, app.test_client(), "orders/create", order(9001, locale="en"))
    runner = app.test_cli_runner()
    out = tmp_path / "card.pdf"
    result = runner.invoke(args=["inserts", "order", SHOP, "9001", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    result = runner.invoke(args=["inserts", "order", SHOP, "404", "-o", str(out)])
    assert result.exit_code != 0 and "no order" in result.output
