"""A settings form's fields -> the admin API's JSON patch, so the feature's own validation judges both alike.

A form field is named `<section>-<path>`, where <path> is the field's path in the settings JSON as the feature's
validator names it in a refusal (`actions.signup`, `rewards[0].points`): the refusal's `field` is then the
input to show the message beside, with no table of names to keep in step. Values are converted only as far as
HTML forces (every value arrives as text): an integer-looking text becomes an int, a checkbox a bool, an empty
optional value null; anything else is passed on as typed, for the validator to refuse with its own message.

Rows of a list (a rewards catalogue) come as `rewards[0].id`, `rewards[1].id`, ...; a row whose fields are all
empty (the blank "add one" row) or whose `_remove` box is ticked is left out, and `Parsed.field()` maps a
refusal of `rewards[1]` back to the row the merchant sees.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_PART = re.compile(r"([A-Za-z0-9_]+)(?:\[(\d+)\])?")
_INT = re.compile(r"^-?\d{1,12}$")
INT, DECIMAL, TEXT, CHOICE, BOOL = "int", "decimal", "text", "choice", "bool"


@dataclass
class Parsed:
    patch: dict[str, Any]
    rows: dict[str, list[int]] = field(default_factory=dict)  # list name -> the form row of each kept item

    def field(self, path: str) -> str:
        """A refusal's field, in the form's numbering of rows."""
        match = re.match(r"^([A-Za-z0-9_]+)\[(\d+)\](.*)$", path)
        if match and match[1] in self.rows and int(match[2]) < len(self.rows[match[1]]):
            return f"{match[1]}[{self.rows[match[1]][int(match[2])]}]{match[3]}"
        return path


def _value(kind: str, raw: str) -> Any:
    text = raw.strip()
    if kind == INT:
        return int(text) if _INT.match(text) else text  # "12x": the validator says it must be an integer
    if kind in (DECIMAL, TEXT):
        return text or None
    return text


def parse(form: Mapping[str, str], prefix: str, kinds: dict[str, str]) -> Parsed:
    """The patch the form's fields make. `kinds` maps a path (list rows as `rewards[].points`) to its kind;
    a field not in it is ignored (a form cannot set what the page does not show). Booleans are checkboxes:
    absent means false, so every bool the page shows is in the patch."""
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
        items, kept = [], []
        for index in sorted(rows.get(listed, {})):
            values = rows[listed][index]
            if (listed, index) in removed or not any(v.strip() for v in values.values()):
                continue
            items.append({k: _value(kinds[f"{listed}[].{k}"], v) for k, v in values.items() if v.strip()})
            kept.append(index)
        patch[listed] = items
        parsed.rows[listed] = kept
    return parsed


def refusal(exc: Exception) -> tuple[str, str] | None:
    """(field, message) of a settings refusal (the features' SettingsError: an AppError naming its field)."""
    details = getattr(exc, "details", None)
    message = getattr(exc, "message", None)
    if isinstance(details, dict) and isinstance(details.get("field"), str) and isinstance(message, str):
        return details["field"], message
    return None
