"""Rendering a message: Jinja2 templates (HTML + text) in the resolved locale's catalogue.

A feature keeps its messages' templates in its own folder (app/<feature>/templates/<name>.html and
<name>.txt) and registers them in its init_app (`register_templates`); the shared layout, footer and the
unsubscribe page stay in app/messaging/templates/. The subject is the `subject` the .txt template sets
(so it is extracted into the catalogue with the rest). HTML is autoescaped; the text part is not (it is
not HTML). Branding comes from Store.settings["branding"], validated by store_settings.branding so
a bad value falls back to the default instead of breaking the markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.messaging.i18n import format_date, format_money, format_number, format_percent, translations
from app.messaging.store_settings import branding

__all__ = ["Rendered", "branding", "register_templates", "render", "render_page"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Message templates the features registered: name -> the folder holding <name>.html and <name>.txt.
TEMPLATE_NAMES: dict[str, Path] = {}
_FOLDERS: list[Path] = [TEMPLATES]  # the loader's search path: messaging's own first, then the features'


def register_templates(folder: Path, names: tuple[str, ...]) -> None:
    """A feature's message templates (its init_app): `names` may be sent with enqueue_message; the folder's
    pages and partials become loadable too (render_page, {% include %})."""
    for name in names:
        if not (folder / f"{name}.html").is_file() or not (folder / f"{name}.txt").is_file():
            raise ValueError(f"template {name!r} needs {name}.html and {name}.txt in {folder}")
        if TEMPLATE_NAMES.setdefault(name, folder) != folder:
            raise ValueError(f"template {name!r} registered from two folders")
    if folder not in _FOLDERS:
        _FOLDERS.append(folder)
        environment.cache_clear()  # an environment made before holds the old search path


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def environment(locale: str) -> Environment:
    """One environment per locale (the gettext callables are bound to the environment)."""
    env = Environment(
        loader=FileSystemLoader([str(folder) for folder in _FOLDERS]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,  # a missing context key is a bug to see, not an empty string to mail
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # matches `trimmed = true` in babel.cfg
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["format_date"] = partial(format_date, locale=locale)
    env.globals["format_number"] = partial(format_number, locale=locale)
    env.globals["format_money"] = partial(format_money, locale=locale)
    env.globals["format_percent"] = partial(format_percent, locale=locale)
    return env


def render(
    template: str,
    locale: str,
    context: dict[str, Any],
    *,
    store_name: str,
    store_settings: dict[str, Any] | None,
    unsubscribe_url: str,
) -> Rendered:
    if template not in TEMPLATE_NAMES:
        raise ValueError(f"unknown template {template!r}")
    env = environment(locale)
    values = {
        **context,
        "store_name": store_name,
        "branding": branding(store_settings),
        "unsubscribe_url": unsubscribe_url,
        "locale": locale.replace("_", "-"),
    }
    module = env.get_template(f"{template}.txt").make_module(values)
    # One line (a header cannot hold newlines); ASCII whitespace only, so a locale's no-break spaces stay.
    # `subject` is the template's `{% set subject %}`, an attribute jinja2 adds to the module at run time.
    subject = re.sub(r"[ \t\r\n]+", " ", str(module.subject)).strip()  # type: ignore[attr-defined]
    text = str(module).strip() + "\n"
    html = env.get_template(f"{template}.html").render(values, subject=subject)
    return Rendered(subject=subject, text=text, html=html)


def render_page(name: str, locale: str, **values: Any) -> str:
    """A web page from the same templates and catalogues: the shopper's pages, framed by _page.html, which reads
    `store_name` and `brand` (branding(store.settings); the default look when the page has no store)."""
    values.setdefault("store_name", "")
    values.setdefault("brand", branding(None))
    return environment(locale).get_template(name).render(values, locale=locale.replace("_", "-"))
