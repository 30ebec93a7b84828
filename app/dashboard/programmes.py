"""The Programmes page (/app/programmes): one settings form per programme and a live preview of the widget.

The dashboard names no programme: each feature registers its section (`register_programme`) from its init_app,
with its form's template, the kinds of its fields (forms.py), and four callables that are the feature's own:
`current` (the effective settings, as the admin API's GET answers), `check` (merge a patch into the stored
settings and validate it, writing nothing), `save` (what the admin API's PATCH does: validate, save, audit) and
`preview` (what the storefront widget would show a sample shopper under given settings). So a value the admin
API refuses is refused here with the same message, beside its field.

The preview (`POST /app/programmes/preview`, the unsaved form) only reads: every section is checked, never
saved, and the session is rolled back whatever happens. Its answer is the storefront API's answers for the
sample shopper (`Preview.answers`), which the page's script (static/programmes.js) hands to the real widget
(static files of app/storefront) running in a sandboxed iframe; docs/dashboard.md#programmes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import jsonify, redirect, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.dashboard import forms
from app.dashboard.i18n import N_
from app.dashboard.registry import current_merchant, dashboard_page, page_url, render_page
from app.errors import AppError
from app.extensions import db
from app.storefront.widget import widget_path
from app.stores.models import Store


@dataclass
class Preview:
    """What the widget would show the sample shopper, as the storefront API would answer it."""

    balance: dict[str, Any] | None = None  # None: the programme is off (the widget asks the shopper to log in)
    rewards: list[dict[str, Any]] = field(default_factory=list)
    referral: dict[str, Any] | None = None
    activity: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=lambda: {"count": 0, "average": None, "distribution": {}})
    reviews: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the widget cannot show (timings), in the merchant's words

    def answers(self) -> dict[str, Any]:
        """Storefront API path (under /api/v1) -> its JSON body; a missing path answers 404 in the preview."""
        out: dict[str, Any] = {
            "/rewards": {"rewards": self.rewards},
            "/me/activity": {"activity": self.activity},
            "/products/sample/reviews/summary": self.summary,
            "/products/sample/reviews": {"reviews": self.reviews, "total": len(self.reviews), "page_size": 10},
        }
        if self.balance is not None:
            out["/me/balance"] = self.balance
        if self.referral is not None:
            out["/me/referral"] = self.referral
        return out


@dataclass(frozen=True)
class Programme:
    key: str  # the form's prefix and the section's anchor
    title: str  # N_(): translated where shown
    order: int
    template: str  # the section's fields (extends nothing; includes dashboard/fields.html macros)
    kinds: dict[str, str]  # field path -> forms kind
    current: Callable[[Store], dict[str, Any]]
    check: Callable[[Store, dict[str, Any]], Any]
    save: Callable[[Session, Store, dict[str, Any]], Any]
    preview: Callable[[Store, Any, Preview], None]


PROGRAMMES: dict[str, Programme] = {}


def register_programme(programme: Programme) -> None:
    """A feature's section (its init_app); registering a key again replaces it (create_app runs more than once)."""
    PROGRAMMES[programme.key] = programme


def programmes() -> list[Programme]:
    return sorted(PROGRAMMES.values(), key=lambda p: p.order)


class FormState:
    """What one section's template reads: each field's name, id, shown value (what was typed, after a refusal)
    and error."""

    def __init__(self, programme: Programme, stored: dict[str, Any], typed: Any = None, errors: Any = None):
        self.key = programme.key
        self.kinds = programme.kinds
        self.stored = stored
        self.typed = typed
        self.errors: dict[str, str] = errors or {}

    def name(self, path: str) -> str:
        return f"{self.key}-{path}"

    def id(self, path: str) -> str:
        return "f-" + self.name(path).replace(".", "-").replace("[", "-").replace("]", "")

    def value(self, path: str) -> Any:
        if self.typed is not None:
            return self.typed.get(self.name(path), "")
        row = re.match(r"^(\w+)\[(\d+)\]\.(\w+)$", path)
        columns = forms.key_columns(self.kinds, row[1]) if row else None
        if row and columns:  # a keyed list's row i: the i-th stored key, by key
            rows = forms.keyed_rows(self.stored.get(row[1]), row[1], self.kinds)
            return rows[int(row[2])][row[3] != columns[0]] if int(row[2]) < len(rows) else ""
        node: Any = self.stored
        for part in path.replace("]", "").replace("[", ".").split("."):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict):
                node = node.get(part)
            else:
                return ""
        return "" if node is None else node

    def checked(self, path: str) -> bool:
        if self.typed is not None:
            return self.typed.get(self.name(path)) in ("1", "on", "true")
        return self.value(path) is True

    def error(self, path: str) -> str | None:
        return self.errors.get(path)

    def rows(self, listed: str) -> range:
        """The rows to show: the stored (or typed) ones and one blank row to add another."""
        if self.typed is not None:
            prefix = f"{self.name(listed)}["
            indexes = {int(k[len(prefix) :].split("]", 1)[0]) for k in self.typed if k.startswith(prefix) and "]." in k}
            return range(max(indexes, default=-1) + 2)
        stored = self.stored.get(listed)
        if isinstance(stored, dict):
            return range(len(forms.keyed_rows(stored, listed, self.kinds)) + 1)
        return range((len(stored) if isinstance(stored, list) else 0) + 1)


def _page(status: int = 200, failed: str | None = None, errors: dict[str, str] | None = None) -> Any:
    store = current_merchant().store
    states = {
        p.key: FormState(
            p, p.current(store), request.form if p.key == failed else None, errors if p.key == failed else None
        )
        for p in programmes()
    }
    # The stored settings' preview comes with the page: the widget is drawn without a first round trip and
    # the notes are the HTML's own (no late text to shift or to become the largest paint).
    initial = _preview(store, None)
    body = render_page(
        "dashboard/programmes.html",
        initial=initial,
        programmes=programmes(),
        states=states,
        saved=request.args.get("saved") if request.args.get("saved") in PROGRAMMES else None,
        failed=failed,
        widget_src=request.host_url.rstrip("/") + widget_path("widget.js"),
        panel_src=request.host_url.rstrip("/") + widget_path("widget-panel.js"),
    )
    return body, status


@dashboard_page("/programmes", title=N_("Programmes"), nav=N_("Programmes"), order=20)
def programmes_page() -> Any:
    return _page()


@dashboard_page("/programmes/<key>", title=N_("Programmes"), methods=("POST",), endpoint="programme_save")
def programme_save(key: str) -> Any:
    """POST-redirect-GET: saved (and audited by the feature's save), or the page again with the field marked."""
    programme = PROGRAMMES.get(key)
    if programme is None:
        return jsonify(error="not_found"), 404
    store = current_merchant().store
    parsed = forms.parse(request.form, key, programme.kinds, _stored(programme, store))
    try:
        parsed.raise_refused()
        programme.save(db.session, store, parsed.patch)
    except AppError as exc:
        db.session.rollback()
        refused = forms.refusal(exc)
        if refused is None:
            raise
        return _page(422, key, {parsed.field(refused[0]): refused[1]})
    db.session.commit()
    return redirect(page_url("programmes_page", saved=key, _anchor=f"programme-{key}"), 303)


@dashboard_page("/programmes/preview", title=N_("Programmes"), methods=("POST",), endpoint="programmes_preview")
def programmes_preview() -> Response:
    """The unsaved form's widget: every section checked with its feature's validation, nothing written. A refused
    section is previewed with its stored settings and its refusal is answered beside the answers."""
    answer = _preview(current_merchant().store, request.form)
    return jsonify(answer)


def _stored(programme: Programme, store: Store) -> dict[str, Any]:
    """The settings the form was drawn from (a keyed list's removed rows are the keys it no longer shows)."""
    try:
        return programme.current(store)
    except AppError:  # stored before a rule existed: the form's rows are all there is
        return {}


def _preview(store: Store, form: Any) -> dict[str, Any]:
    """{answers, notes, errors} for the form's values (None: the stored settings); writes nothing."""
    preview = Preview()
    errors: dict[str, str] = {}
    try:
        for programme in programmes():
            parsed = forms.Parsed({})
            if form is not None:
                parsed = forms.parse(form, programme.key, programme.kinds, _stored(programme, store))
            try:
                parsed.raise_refused()
                settings = programme.check(store, parsed.patch)
            except AppError as exc:
                refused = forms.refusal(exc)
                if refused is None:
                    raise
                errors[f"{programme.key}-{parsed.field(refused[0])}"] = refused[1]
                try:
                    settings = programme.check(store, {})
                except AppError:  # stored before a rule existed: nothing to preview for this programme
                    continue
            programme.preview(store, settings, preview)
    finally:
        db.session.rollback()  # a preview never writes, whatever a section's check did
    return {"answers": preview.answers(), "notes": preview.notes, "errors": errors}
