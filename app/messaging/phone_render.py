"""SMS and WhatsApp texts: `<template>.sms.txt` beside a template's .html/.txt, in the same catalogues.

The file renders the short text (one line is best: an SMS segment is 160 GSM-7 or 70 UCS-2 characters, and
Twilio splits longer bodies into segments, each charged: https://www.twilio.com/docs/glossary/what-sms-character-limit)
and sets `whatsapp_params`, the values of the body parameters {{1}}, {{2}}... of the WhatsApp template the
merchant had approved for this message (WHATSAPP_TEMPLATES names it per language), used outside WhatsApp's
24-hour window. A template without a .sms.txt is sent by e-mail only (routing.choose_channel).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.messaging.render import TEMPLATE_NAMES, environment

MAX_TEXT = 1600  # Twilio's Body limit (characters); WhatsApp's text body allows 4096


@dataclass(frozen=True)
class PhoneText:
    text: str
    whatsapp_params: list[str]


def has_phone_text(template: str) -> bool:
    folder = TEMPLATE_NAMES.get(template)
    return folder is not None and (folder / f"{template}.sms.txt").is_file()


def render_phone(template: str, locale: str, context: dict[str, Any], *, store_name: str) -> PhoneText:
    if not has_phone_text(template):
        raise ValueError(f"template {template!r} has no .sms.txt")
    values = {**context, "store_name": store_name, "locale": locale.replace("_", "-")}
    module = environment(locale).get_template(f"{template}.sms.txt").make_module(values)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", str(module)).strip()
    if not text or len(text) > MAX_TEXT:
        raise ValueError("phone text empty or too long")
    params = getattr(module, "whatsapp_params", None) or []
    # WhatsApp refuses empty parameters and newlines/tabs in them (error 132000 family)
    return PhoneText(text, [re.sub(r"\s+", " ", str(p)).strip() or "-" for p in params])
