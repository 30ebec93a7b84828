"""A settings form's fields -> the admin API's JSON patch, so the feature's own validation judges both alike.

A form field is named `<section>-<path>`, where <path> is the field's path in the settings JSON as the feature's
validator names it in a refusal (`actions.signup`, `rewards[0].points`): the refusal's `field` is then the
input to show the message beside, with no table of names to keep in step. Values are converted only as far as
HTML forces (every value arrives as text): an integer-looking text becomes an int, a checkbox a bool, an empty
optional value null; anything else is passed on as typed, for the validator to refuse with its own message.

Rows of a list (a rewards catalogue) come as `rewards[0].id`, `rewards[1].id`, ...; a row whose fields are all
empty (the blank "add one" row) or whose `_remove` box is ticked is left out, and `Parsed.field()` maps a
refusal of `rewards[1]` back to the row the merchant sees.

A list with a KEY column is an object in the settings, one row per key (loyalty's `points_per_unit`: a currency
and its rate): the rows become `{key: value}` merged with the object's plain fields (`points_per_unit.default`),
a stored key no row names any more becomes null (the setting's "remove it"), a refusal of `points_per_unit.JPY`
is shown beside the JPY row's value, and a key typed twice is refused here (an object cannot say it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.dashboard.i18n import gettext
from app.errors import InvalidInput

_PART = re.compile(r"([A-Za-z0-9_]+)(?:\[(\d+)\])?")
_INT = re.compile(r"^-?\d{1,12}$")
INT, DECIMAL, TEXT, CHOICE, BOOL, KEY = "int", "decimal", "text", "choice", "bool", "key"


@dataclass
class Parsed:
    patch: dict[str, Any]
    rows: dict[str, list[int]] = field(default_factory=dict)  # list name -> the form row of each kept item
    keyed: dict[str, dict[str, str]] = field(default_factory=dict)  # keyed list -> key -> its row's value field
    refused: tuple[str, str] | None = None  # (field, message): what the form itself cannot send

    def field(self, path: str) -> str:
        """A refusal's field, in the form's numbering of rows."""
        match = re.match(r"^([A-Za-z0-9_]+)\[(\d+)\](.*)$", path)
        if match and match[1] in self.rows and int(match[2]) < len(self.rows[match[1]]):
            return f"{match[1]}[{self.rows[match[1]][int(match[2])]}]{match[3]}"
        listed, _, key = path.partition(".")
        return self.keyed.get(listed, {}).get(key, path)

    def raise_refused(self) -> None:
        if self.refused is not None:
            raise InvalidInput(self.refused[1], field=self.refused[0])


def key_columns(kinds: dict[str, str], listed: str) -> tuple[str, str] | None:
    """(key column, value column) of a keyed list, or None for a plain list."""
    columns = {p.split("].", 1)[1]: k for p, k in kinds.items() if p.startswith(f"{listed}[].")}
    key = next((c for c, k in columns.items() if k == KEY), None)
    value = next((c for c in columns if c != key), None)
    return (key, value) if key and value else None


def keyed_rows(stored: Any, listed: str, kinds: dict[str, str]) -> list[tuple[str, Any]]:
    """A keyed list's stored rows, (key, value) by key; the object's plain fields are not rows."""
    if not isinstance(stored, dict):
        return []
    return sorted((k, v) for k, v in stored.items() if f"{listed}.{k}" not in kinds and v is not None)


def _value(kind: str, raw: str) -> Any:
    text = raw.strip()
    if kind == INT:
        return int(text) if _INT.match(text) else text  # "12x": the validator says it must be an integer
    if kind in (DECIMAL, TEXT):
        return text or None
    return text


def parse(
    form: Mapping[str, str], prefix: str, kinds: dict[str, str], stored: Mapping[str, Any] | None = None
) -> Parsed:
    """The patch the form's fields make. `kinds` maps a path (list rows as `rewards[].points`) to its kind;
    a field not in it is ignored (a form cannot set what the page does not show). Booleans are checkboxes:
    absent means false, so every bool the page shows is in the patch. `stored` (the current settings) names the
    keys of a keyed list that a row no longer shows."""
    patch: dict[str, Any] = {}
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    removed: set[tuple[str, int]] = set()
    for name, raw in form.items():
        if not name.startswith(prefix + "-"):
            continue
        path = name[len(prefix) + 1 :]
        match = re.match(r"^([A-Za-z0-9_]+)\[(\d+)\]\.([A-Za-z0-9_]+)$", path)
        if match:
            listed, index, key = match[1], int(match[2]), match[3]
            if key == "_remove":
                removed.add((listed, index))
            elif f"{listed}[].{key}" in kinds and kinds[f"{listed}[].{key}"] != BOOL:
                rows.setdefault(listed, {}).setdefault(index, {})[key] = raw
            continue
        kind = kinds.get(path)
        if kind is None or kind == BOOL:
            continue
        target = patch
        *parents, last = path.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[last] = _value(kind, raw)
    for path, kind in kinds.items():
        if kind == BOOL and "[]" not in path:
            target = patch
            *parents, last = path.split(".")
            for parent in parents:
                target = target.setdefault(parent, {})
            target[last] = form.get(f"{prefix}-{path}") in ("1", "on", "true")
    parsed = Parsed(patch)
    for listed in {p.split("[]", 1)[0] for p in kinds if "[]" in p}:
        if f"{prefix}-{listed}[]" not in form and listed not in rows:
            continue  # the page shows no such list: leave the stored one alone
        columns = key_columns(kinds, listed)
        items, kept = [], []
        for index in sorted(rows.get(listed, {})):
            values = rows[listed][index]
            if (listed, index) in removed or not any(v.strip() for v in values.values()):
                continue
            kept.append(index)
            if not columns:
                items.append({k: _value(kinds[f"{listed}[].{k}"], v) for k, v in values.items() if v.strip()})
        if columns:
            _keyed(parsed, listed, columns, [(i, rows[listed][i]) for i in kept], (stored or {}).get(listed), kinds)
            continue
        patch[listed] = items
        parsed.rows[listed] = kept
    return parsed


def _keyed(
    parsed: Parsed,
    listed: str,
    columns: tuple[str, str],
    rows: list[tuple[int, dict[str, str]]],
    stored: Any,
    kinds: dict[str, str],
) -> None:
    """A keyed list's rows into the patch's object (see the module's docstring). Values go as typed: an empty one
    is the validator's to refuse, not a removal (that is the row's box)."""
    key_col, value_col = columns
    target = parsed.patch.setdefault(listed, {})
    if not isinstance(target, dict):
        return
    for index, values in rows:
        key = values.get(key_col, "").strip()
        if key in parsed.keyed.get(listed, {}) or f"{listed}.{key}" in kinds:
            parsed.refused = parsed.refused or (
                f"{listed}[{index}].{key_col}",
                gettext("Listed already in another row."),
            )
            continue
        target[key] = values.get(value_col, "").strip()
        parsed.keyed.setdefault(listed, {})[key] = f"{listed}[{index}].{value_col}"
    for key, _stored in keyed_rows(stored, listed, kinds):
        target.setdefault(key, None)  # no row shows it any more: removed


def refusal(exc: Exception) -> tuple[str, str] | None:
    """(field, message) of a settings refusal (the features' SettingsError: an AppError naming its field)."""
    details = getattr(exc, "details", None)
    message = getattr(exc, "message", None)
    if isinstance(details, dict) and isinstance(details.get("field"), str) and isinstance(message, str):
        return details["field"], message
    return None
