"""The cards as PDF (fpdf2): one A6 card per page for an order, or the day's cards four to an A4 sheet.

A6 (105 x 148 mm) is a quarter of A4, so four cards fill a sheet edge to edge and two guillotine cuts along the
midlines part them; the cut marks sit on those lines at the sheet's edges, in the cards' blank outer margin
(the content keeps an 8 mm safe zone), so nothing printed is lost to a slightly-off cut.
https://py-pdf.github.io/fpdf2/ (fonts and fallback fonts: Unicode.html)
The QR code is drawn as vector rectangles (segno's module matrix, one rectangle per run of dark modules), crisp at
any printer resolution; its quiet zone is the four modules the standard asks for (ISO/IEC 18004, 7.3.7).
Fonts: DejaVu Sans for Latin and Cyrillic, Garuda as the fallback for Thai (app/inserts/fonts,
scripts/subset-insert-fonts), embedded as subsets so the PDF carries its text (searchable, copyable).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import segno
from fpdf import FPDF

from app.inserts.cards import Card
from app.inserts.wording import wording

FONTS = Path(__file__).resolve().parent / "fonts"
CARD_W, CARD_H = 105.0, 148.0
SAFE = 8.0
QR_SIZE = 38.0
MARK = 4.0  # cut mark length, mm


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _document(page_format: str | tuple[float, float]) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format=page_format)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans-subset.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold-subset.ttf"))
    pdf.add_font("Garuda", "", str(FONTS / "Garuda-subset.ttf"))
    pdf.add_font("Garuda", "B", str(FONTS / "Garuda-Bold-subset.ttf"))
    pdf.set_fallback_fonts(["Garuda"], exact_match=False)
    pdf.set_creator("post-purchase engine")
    return pdf


def _qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    code = segno.make(url, error="m", micro=False)
    rows = [list(row) for row in code.matrix]
    modules = len(rows) + 8  # with the quiet zone
    unit = size / modules
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + (start + 4) * unit, y + (r + 4) * unit, (c - start) * unit, unit, style="F")


def _text(pdf: FPDF, x: float, y: float, w: float, text: str, size: float, *, bold: bool = False) -> float:
    pdf.set_font("DejaVu", "B" if bold else "", size)
    pdf.set_xy(x, y)
    pdf.multi_cell(w, size * 0.45, text, align="C")
    return pdf.get_y()


def _card(pdf: FPDF, card: Card, ox: float, oy: float) -> None:
    words = wording(card)
    inner = CARD_W - 2 * SAFE
    pdf.set_fill_color(*_rgb(card.primary_color))
    pdf.rect(ox + SAFE, oy + SAFE, inner, 16, style="F")
    pdf.set_text_color(*_rgb(card.on_primary))
    _text(pdf, ox + SAFE + 2, oy + SAFE + 5, inner - 4, card.store_name, 12, bold=True)
    pdf.set_text_color(24, 24, 27)
    y = _text(pdf, ox + SAFE, oy + SAFE + 22, inner, words.greeting, 16, bold=True)
    y = _text(pdf, ox + SAFE, y + 2, inner, words.hope, 9.5)
    qr_x = ox + (CARD_W - QR_SIZE) / 2
    _qr(pdf, card.review_url, qr_x, y + 3, QR_SIZE)
    y = _text(pdf, ox + SAFE, y + 3 + QR_SIZE + 1, inner, words.scan, 9.5, bold=True)
    if words.share and card.referral_code:
        y = _text(pdf, ox + SAFE, y + 4, inner, words.share, 9.5)
        _text(pdf, ox + SAFE, y + 1, inner, (card.referral_url or "").removeprefix("https://"), 10, bold=True)
    pdf.set_text_color(113, 113, 122)
    _text(pdf, ox + SAFE, oy + CARD_H - SAFE - 4, inner, card.order_name, 7.5)


def card_pdf(card: Card) -> bytes:
    pdf = _document((CARD_W, CARD_H))
    pdf.set_title(card.order_name)
    pdf.add_page()
    _card(pdf, card, 0, 0)
    return bytes(pdf.output())


def _cut_marks(pdf: FPDF) -> None:
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    width, height = pdf.w, pdf.h
    mid_x, mid_y = CARD_W, CARD_H
    pdf.line(mid_x, 0, mid_x, MARK)
    pdf.line(mid_x, height - MARK, mid_x, height)
    pdf.line(0, mid_y, MARK, mid_y)
    pdf.line(width - MARK, mid_y, width, mid_y)


def sheet_pdf(cards: Sequence[Card], title: str) -> bytes:
    """Four cards per A4 sheet, in order, left to right then top to bottom; an empty day is one empty sheet."""
    pdf = _document("A4")
    pdf.set_title(title)
    for start in range(0, max(len(cards), 1), 4):
        pdf.add_page()
        for index, card in enumerate(cards[start : start + 4]):
            _card(pdf, card, (index % 2) * CARD_W, (index // 2) * CARD_H)
        _cut_marks(pdf)
    return bytes(pdf.output())
