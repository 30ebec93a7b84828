"""GET|POST /s/<token>: the answer page behind each score in the survey e-mail, in the store's frame and the
customer's language.

A GET stores nothing (mail scanners and link previews open every link in a message, as for the review stars): it
shows the scale with the clicked score chosen and an optional comment; "Send" stores the answer once (fork.answer)
and shows what follows from it. The SMS link (score -1) shows the scale to choose from. Bad signature 400, expired
410, a link of another store's request 400.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from app.errors import AppError
from app.extensions import db
from app.messaging.api import branding, mail_now, render_page
from app.platform.sql import get_in_store
from app.stores.models import Store
from app.surveys.fork import MAX_COMMENT, answer, next_steps, valid_score
from app.surveys.links import LinkExpired, answer_url, read_answer_token
from app.surveys.models import CANCELLED, SurveyRequest
from app.surveys.settings import SCALES

bp = Blueprint("surveys", __name__)
HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(locale: str, status: int, store: Store | None, **values: Any) -> tuple[str, int, dict]:
    values.setdefault("store_name", (store.name or store.domain) if store else "")
    values.setdefault("brand", branding(store.settings if store else None))
    for key in ("kind", "score", "comment", "review_url", "referral_url", "group", "error"):
        values.setdefault(key, None)
    values.setdefault("scale", [])
    values.setdefault("action", request.path)
    return render_page("survey_page.html", locale, **values), status, HEADERS


@bp.errorhandler(AppError)
def _refused(exc: AppError) -> tuple[str, int, dict]:
    db.session.rollback()
    locale = request.accept_languages.best_match(["en", "pl", "hu", "lv", "kk", "th"]) or "en"
    return _page(locale, exc.status, None, state="expired" if isinstance(exc, LinkExpired) else "invalid")


@bp.route("/s/<token>", methods=["GET", "POST"])
def survey_answer(token: str) -> Response | tuple[str, int, dict]:
    link = read_answer_token(token)
    store = db.session.get(Store, link.store_id)
    row = get_in_store(db.session, SurveyRequest, link.request_id, link.store_id)
    if store is None or row is None:
        return _page(link.locale, 400, None, state="invalid")
    low, high = SCALES[row.kind]
    scale = [{"score": n, "url": answer_url(store.id, row.id, n, link.locale)} for n in range(low, high + 1)]
    common = {"kind": row.kind, "scale": scale}
    if row.score is not None and request.method == "GET":
        return _page(link.locale, 200, store, state="answered", score=row.score, group=row.group,
                     comment=row.comment, **common, **next_steps(db.session, store, row))  # fmt: skip
    if row.status == CANCELLED:
        return _page(link.locale, 410, store, state="closed", **common)
    if request.method == "GET":
        chosen = link.score if valid_score(row.kind, link.score) else None
        return _page(link.locale, 200, store, state="form", score=chosen, **common)
    try:
        score = int(request.form.get("score", ""))
    except ValueError:
        score = -1
    comment = (request.form.get("comment") or "").strip()[:MAX_COMMENT] or None
    if not valid_score(row.kind, score):
        return _page(link.locale, 422, store, state="form", score=None, comment=comment, error="score", **common)
    answer(db.session, store, row, score, comment, mail_now(current_app))
    db.session.commit()
    return _page(link.locale, 200, store, state="answered", score=row.score, group=row.group, comment=row.comment,
                 **common, **next_steps(db.session, store, row))  # fmt: skip
