"""Shopify's theme check (npm @shopify/theme-check-node) on the theme app extension: zero offences with the theme
app extension rule set and the every-page JavaScript limit (tests/storefront/theme-check.yml).

The package is installed once into .cache/theme-check (gitignored) with npm, as CI has node and the npm registry;
without node the test is skipped. Its cli.js prints the offences, then the resolved config, then the files read.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extensions/ppe-widget"
CONFIG = Path(__file__).with_name("theme-check.yml")
PACKAGE, VERSION = "@shopify/theme-check-node", "3.29.1"
CACHE = ROOT / ".cache/theme-check"
CLI = CACHE / "node_modules" / PACKAGE / "dist/cli.js"


def _installed() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm not installed: Shopify's theme check is an npm package (CI has node)")
    manifest = CLI.parents[1] / "package.json"
    if not manifest.exists() or json.loads(manifest.read_text())["version"] != VERSION:
        CACHE.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", f"{PACKAGE}@{VERSION}"]
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    return CLI


def _theme_check(root: Path) -> tuple[list[dict], dict, list[str]]:
    node = shutil.which("node") or "node"
    done = subprocess.run(
        [node, str(_installed()), str(root), str(CONFIG)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    decoder = json.JSONDecoder()
    out = done.stdout.lstrip()
    offences, end = decoder.raw_decode(out)
    out = out[end:].lstrip()
    config, end = decoder.raw_decode(out)
    files, _ = decoder.raw_decode(out[end:].lstrip())
    return offences, config, files


def test_extension_passes_shopify_theme_check():
    offences, config, files = _theme_check(EXTENSION)
    assert config["settings"]["AssetSizeJavaScript"] == {"enabled": True, "severity": 0, "thresholdInBytes": 10000}
    assert config["settings"]["AssetSizeAppBlockJavaScript"]["enabled"]
    assert {Path(f).name for f in files} >= {"app-embed.liquid", "reviews.liquid", "stars.liquid"}
    assert offences == [], json.dumps(offences, indent=1)


def test_theme_check_counts_the_every_page_script(tmp_path):
    """The same extension with a bigger every-page script (widget.js with the points panel inlined, 12.6 KB, as
    the widget was before it was split): the check refuses it, so the passing run above means something."""
    copy = tmp_path / "ppe-widget"
    shutil.copytree(EXTENSION, copy)
    script = copy / "assets/widget.js"
    script.write_bytes(
        b"".join((EXTENSION / "assets" / name).read_bytes() for name in ("widget.js", "widget-panel.js"))
    )
    assert script.stat().st_size > 10000
    offences, _, _ = _theme_check(copy)
    assert [(o["check"], Path(o["uri"]).name) for o in offences] == [("AssetSizeJavaScript", "app-embed.liquid")]
