"""Signed survey links: one per score in the e-mail (store, request, score, locale), signed like the review stars
(security.timed_serializer, a salt of its own, so a survey link is never a review or unsubscribe link), valid
60 days (SURVEY_LINK_TTL_DAYS). A bad signature is 400, an expired one 410 (page.py)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired

from app.errors import Gone, InvalidInput
from app.security import timed_serializer

SALT = "survey-answer-link"


class LinkInvalid(InvalidInput):
    code = "link_invalid"


class LinkExpired(Gone):
    code = "link_expired"


@dataclass(frozen=True)
class AnswerLink:
    store_id: int
    request_id: int
    score: int
    locale: str


def answer_token(store_id: int, request_id: int, score: int, locale: str) -> str:
    return timed_serializer(SALT).dumps([store_id, request_id, score, locale])


def answer_url(store_id: int, request_id: int, score: int, locale: str) -> str:
    return f"{current_app.config['APP_URL']}/s/{answer_token(store_id, request_id, score, locale)}"


def read_answer_token(token: str) -> AnswerLink:
    ttl = int(current_app.config.get("SURVEY_LINK_TTL_DAYS", 60)) * 86400
    try:
        value = timed_serializer(SALT).loads(token, max_age=ttl)
    except SignatureExpired as exc:
        raise LinkExpired() from exc
    except BadSignature as exc:
        raise LinkInvalid() from exc
    if not isinstance(value, list) or len(value) != 4 or not all(isinstance(v, int) for v in value[:3]):
        raise LinkInvalid()
    return AnswerLink(value[0], value[1], value[2], str(value[3] or "en"))
