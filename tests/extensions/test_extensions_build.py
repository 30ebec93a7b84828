"""The UI extensions build with Shopify CLI's toolchain (esbuild from npm), type-check (tsc), stay within
Shopify's bundle limits, and translate every string they use in all six languages the widget ships."""

from __future__ import annotations

import json
import re
import shutil
import tomllib

import pytest

from scripts.build_extensions import EXTENSIONS, build, ui_extensions

if shutil.which("npm") is None:
    pytest.skip("no npm: the extensions are built from npm packages", allow_module_level=True)

LANGUAGES = ("en.default", "pl", "hu", "kk", "lv", "th")
TARGETS = {
    "ppe-thank-you": ["purchase.thank-you.block.render"],
    "ppe-order-status": ["customer-account.order-status.block.render", "customer-account.profile.block.render"],
    "ppe-rewards-page": ["customer-account.page.render"],
}


def test_built_type_checked_and_within_limits():
    report = build()  # raises on a tsc error, an esbuild error or a bundle over its limit
    assert {name: item["targets"] for name, item in report.items()} == TARGETS
    for name, item in report.items():
        limit = 128 * 1024 if name == "ppe-rewards-page" else 64 * 1024
        assert item["limit_bytes"] == limit and 0 < item["gzip_bytes"] <= limit, (name, item)
        print(f"{name}: {item['gzip_bytes']} bytes gzip, {item['bytes']} raw (limit {limit})")


def test_configuration():
    app = tomllib.loads((EXTENSIONS.parent / "shopify.app.toml").read_text())
    assert app["client_id"]  # the extensions belong to this app: Shopify CLI deploys extensions/* with it
    for directory, config in ui_extensions():
        assert config["api_version"] >= "2026-01", directory.name  # Shopify requires 2026-01 or later to deploy
        [extension] = config["extensions"]
        assert extension["handle"] == directory.name
        assert extension["capabilities"]["network_access"] is True
        package = json.loads((directory / "package.json").read_text())["dependencies"]
        version = package["@shopify/ui-extensions"]
        assert version >= config["api_version"].replace("-0", ".").replace("-", "."), (version, config["api_version"])


def _keys(node, prefix=""):
    if isinstance(node, str):
        return {prefix}
    if set(node) <= {"zero", "one", "two", "few", "many", "other"}:  # a plural: one key
        return {prefix}
    return set().union(*(_keys(v, f"{prefix}.{k}" if prefix else k) for k, v in node.items()))


@pytest.mark.parametrize("handle", sorted(TARGETS))
def test_every_string_translated(handle):
    directory = EXTENSIONS / handle
    locales = {lang: json.loads((directory / "locales" / f"{lang}.json").read_text()) for lang in LANGUAGES}
    english = _keys(locales["en.default"])
    for lang, data in locales.items():
        assert _keys(data) == english, lang
    source = "\n".join(p.read_text() for p in (directory / "src").glob("*.tsx"))
    used = set(re.findall(r"\bt\(\"([a-z_.]+)\"", source))
    dynamic = set(re.findall(r"\bt\(`([a-z_.]+)\.\$\{", source))
    assert used and used <= english, used - english
    for prefix in dynamic:
        assert any(key.startswith(prefix + ".") for key in english), prefix
