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

from typing import Any

from flask import abort, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from app.admin import audit
from app.dashboard.i18n import N_
from app.dashboard.registry import current_merchant, dashboard_page, page_url, render_page
from app.extensions import db
from app.stores.settings import SECTIONS, Field, Section, SettingsError, update_store_settings

MAX_TYPED = 5000  # characters of one field: more than any setting holds (the rules refuse it precisely)


def ordered_sections() -> list[Section]:
    return sorted((s for s in SECTIONS.values() if s.fields), key=lambda s: (s.order, s.key))


def field_id(section: Section, field: Field) -> str:
    """The dotted name SettingsError uses for the field ("branding.logo_url"; "locale" for a one-value section)."""
    return f"{section.key}.{field.name}" if field.name else section.key


def shown_values(section: Section, shown: Any) -> dict[str, str]:
    """The section's effective values as the form's text: lists one item a line, None as empty."""
    values: dict[str, str] = {}
    for field in section.fields:
        value = shown.get(field.name) if field.name and isinstance(shown, dict) else (None if field.name else shown)
        values[field.name] = (
            "\n".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
        )
    return values


def patch_of(section: Section, typed: dict[str, str]) -> Any:
    """What the form's text means as the section's patch: a blank field is null (its default applies), a lines
    field a list of its non-blank lines."""
    patch: dict[str, Any] = {}
    for field in section.fields:
        text = typed.get(field.name, "")
        if field.kind == "lines":
            value: Any = [line.strip() for line in text.splitlines() if line.strip()]
        else:
            value = text.strip() or None
        if not field.name:
            return value
        patch[field.name] = value
    return patch


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
        known = {field_id(section, f) for f in section.fields}
        where = exc.field if exc.field in known else section.key + ".*"
        return _render({key: typed}, {where: exc.message}), 422
    db.session.commit()
    return redirect(page_url("store_settings", saved=key) + f"#section-{key}", code=303)
