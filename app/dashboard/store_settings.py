"""The Store settings page (/app/settings): every section of the store-wide settings registry
(app/stores/settings.SECTIONS, filled by the packages that read them), one form each.

The page names no section: it draws each from its `title` and `fields`, and a save sends what was typed as a
patch of that one section through update_store_settings, the admin API's own path (PATCH /store/settings), so a
value is refused here exactly when the API refuses it. The refusal is shown next to its field (SettingsError's
`field`, e.g. "email.reply_to") and the page answers 422 with what was typed; a save is audited like the API's
(audit.settings_change: one `settings.update` row, target "store", with what changed, as the dashboard's
merchant) and answered 303 back to the page (POST-redirect-GET).
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from app.admin import audit
from app.dashboard.i18n import N_
from app.dashboard.registry import current_merchant, dashboard_page, page_url, render_page
from app.extensions import db
from app.stores.settings import SECTIONS, Field, Section, SettingsError, update_store_settings

MAX_TYPED = 5000  # characters of one field: more than any setting holds (the rules refuse it precisely)
TICKED = ("1", "on", "true")
WHOLE = re.compile(r"^-?\d{1,12}$")


def ordered_sections() -> list[Section]:
    return sorted((s for s in SECTIONS.values() if s.fields), key=lambda s: (s.order, s.key))


def field_id(section: Section, field: Field) -> str:
    """The dotted name SettingsError uses for the field ("branding.logo_url"; "locale" for a one-value section)."""
    return f"{section.key}.{field.name}" if field.name else section.key


def _at(shown: Any, name: str) -> Any:
    """The value of a field's (maybe dotted) name in the section's shown value."""
    if not name:
        return shown
    for part in name.split("."):
        shown = shown.get(part) if isinstance(shown, dict) else None
    return shown


def shown_values(section: Section, shown: Any) -> dict[str, str]:
    """The section's effective values as the form's text: lists one item a line, a ticked box "1", None as
    empty."""
    values: dict[str, str] = {}
    for field in section.fields:
        value = _at(shown, field.name)
        if field.kind == "bool":
            values[field.name] = "1" if value is True else ""
        elif isinstance(value, list):
            values[field.name] = "\n".join(map(str, value))
        else:
            values[field.name] = "" if value is None else str(value)
    return values


def _typed_value(field: Field, text: str) -> Any:
    """What HTML forces us to convert, nothing more: anything else is passed on as typed for the section's rule
    to refuse with its own message (as app/dashboard/forms.py does for the programmes)."""
    if field.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    text = text.strip()
    if field.kind == "bool":  # an unticked box is absent from the form
        return True if text in TICKED else (False if not text else text)
    if field.kind == "int" and WHOLE.match(text):
        return int(text)
    return text or None


def patch_of(section: Section, typed: dict[str, str]) -> Any:
    """What the form's text means as the section's patch: a blank field is null (its default applies), a lines
    field a list of its non-blank lines, a dotted name a key of an inner object; an inner object whose fields
    are all blank is null (quiet hours left empty: none)."""
    patch: dict[str, Any] = {}
    for field in section.fields:
        value = _typed_value(field, typed.get(field.name, ""))
        if not field.name:
            return value
        *parents, last = field.name.split(".")
        target = patch
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = value
    for key, inner in list(patch.items()):
        if isinstance(inner, dict) and all(v is None for v in inner.values()):
            patch[key] = None
    return patch


def error_place(section: Section, field: str) -> str:
    """Where a refusal is shown: its field; for a rule on an inner object (`channels.quiet_hours`), the first
    of its inputs; else the whole form."""
    ids = [field_id(section, f) for f in section.fields]
    if field in ids:
        return field
    return next((i for i in ids if i.startswith(field + ".")), section.key + ".*")


def _render(typed: dict[str, dict[str, str]] | None = None, errors: dict[str, str] | None = None) -> str:
    store = current_merchant().store
    forms = []
    for section in ordered_sections():
        values = (typed or {}).get(section.key) or shown_values(section, section.show(store))
        forms.append({"section": section, "current": values})
    return render_page(
        "dashboard/settings.html",
        forms=forms,
        errors=errors or {},
        field_id=field_id,
        saved=request.args.get("saved", "")[:32],
    )


@dashboard_page("/settings", title=N_("Store settings"), nav=N_("Store settings"), order=90)
def store_settings() -> str:
    return _render()


@dashboard_page("/settings/<key>", title=N_("Store settings"), methods=("POST",))
def save_store_settings(key: str) -> BaseResponse | tuple[str, int]:
    section = SECTIONS.get(key)
    if section is None or not section.fields:
        abort(404)
    store = current_merchant().store
    typed = {field.name: request.form.get(f"f-{field.name}", "")[:MAX_TYPED] for field in section.fields}
    try:
        with audit.settings_change(db.session, store, "store", key):
            update_store_settings(db.session, store, {key: patch_of(section, typed)})
    except SettingsError as exc:
        db.session.rollback()
        return _render({key: typed}, {error_place(section, exc.field): exc.message}), 422
    db.session.commit()
    return redirect(page_url("store_settings", saved=key) + f"#section-{key}", code=303)
