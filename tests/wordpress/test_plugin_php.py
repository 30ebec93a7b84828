"""The WordPress plugin's PHP: `php -l` on every file, PHP_CodeSniffer with the upstream sniffs of WPCS's
WordPress-Core (tests/wordpress/phpcs.xml), the zip installs and activates on a fresh WordPress with WP_DEBUG on
and no notice from the plugin, and its PHPUnit suite (tests/wordpress/php, Debian's phpunit) on that WordPress
with the WooCommerce doubles.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile

import pytest

from tests.wordpress.site import HERE, ROOT, require_php

PLUGIN_DIR = ROOT / "extensions/woocommerce/ppe-rewards"


def test_every_php_file_parses():
    php = require_php()
    files = sorted([*PLUGIN_DIR.rglob("*.php"), *HERE.rglob("*.php")])
    assert len(files) >= 10
    for path in files:
        done = subprocess.run([php, "-l", str(path)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr


def test_phpcs_with_wordpress_cores_upstream_sniffs_finds_nothing():
    """Debian's php-codesniffer with the Generic/Squiz/PEAR/PSR2 sniffs WPCS's WordPress-Core includes
    (tests/wordpress/phpcs.xml); WPCS's own WordPress.* sniffs are a Composer package we cannot install."""
    require_php()
    phpcs = shutil.which("phpcs")
    if phpcs is None:
        pytest.skip("no phpcs (apt-get install -y php-codesniffer)")
    done = subprocess.run(
        [phpcs, "-q", "--report=full", f"--standard={HERE / 'phpcs.xml'}", str(PLUGIN_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]  # warnings count too


def test_the_zip_is_the_plugin_with_the_widget_and_no_source_left_out(plugin_zip):
    with zipfile.ZipFile(plugin_zip) as archive:
        names = set(archive.namelist())
    expected = {f"ppe-rewards/{p.relative_to(PLUGIN_DIR)}" for p in PLUGIN_DIR.rglob("*") if p.is_file()}
    assert expected <= names
    widget = sorted((ROOT / "app/storefront/static").glob("widget*"))
    assert {"widget.js", "widget.css", "widget-panel.js", "widget-pl.js"} <= {p.name for p in widget}
    built = {f"ppe-rewards/assets/{p.name}" for p in widget} | {"ppe-rewards/languages/ppe-rewards-pl_PL.mo"}
    assert built <= names and names == expected | built
    with zipfile.ZipFile(plugin_zip) as archive:
        for path in widget:
            assert archive.read(f"ppe-rewards/assets/{path.name}") == path.read_bytes()
        main = archive.read("ppe-rewards/ppe-rewards.php").decode()
    for header in ("Requires at least:", "Requires PHP:", "WC requires at least:", "WC tested up to:", "Text Domain:"):
        assert f" * {header}" in main
    assert "define( 'PPE_REWARDS_DEFAULT_API_URL', 'http://127.0.0.1:9' );" in main


def test_activates_without_a_notice_then_passes_its_unit_tests(wordpress):
    before = len(wordpress.debug_lines())
    result = wordpress.activate()
    assert result == {"error": None, "active": True}
    ours = [line for line in wordpress.debug_lines()[before:] if "ppe-rewards" in line or "PHP Warning" in line]
    assert ours == []

    phpunit = shutil.which("phpunit")
    if phpunit is None:
        pytest.skip("no phpunit (apt-get install -y phpunit)")
    env = {**os.environ, "PPE_WP_ROOT": str(wordpress.root), "PPE_WP_HOST": wordpress.host}
    done = subprocess.run(
        [phpunit, "--configuration", str(HERE / "php/phpunit.xml")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " tests, " in done.stdout or "OK (" in done.stdout
    print(done.stdout.strip().splitlines()[-1])  # e.g. "OK (63 tests, 240 assertions)"
    mine = [line for line in wordpress.debug_lines() if "/plugins/ppe-rewards/" in line]
    assert mine == [], mine


def _msgids(path) -> set[str]:
    """The msgids (singular) of a .po or .pot file."""
    ids, current = set(), None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            current = line[len("msgid ") :].strip('"')
        elif line.startswith('"') and current is not None:
            current += line.strip('"')
        else:
            if current:
                ids.add(current)
            current = None
    return ids


def test_every_string_is_in_the_pot_and_translated_to_polish():
    import re

    languages = PLUGIN_DIR / "languages"
    pot, polish = _msgids(languages / "ppe-rewards.pot"), _msgids(languages / "ppe-rewards-pl_PL.po")
    assert pot and pot == polish
    source = "\n".join(p.read_text() for p in PLUGIN_DIR.rglob("*.php"))
    literals = set(re.findall(r"(?:__|_e|esc_html__|esc_html_e|esc_attr__|_n)\(\s*'((?:[^'\\]|\\.)*)'", source))
    assert {s.replace("\\'", "'") for s in literals} <= pot, "run scripts/build-wp-plugin --pot"
    assert 'msgstr ""\n\n' not in (languages / "ppe-rewards-pl_PL.po").read_text().split("\n\n", 1)[1]


def test_orders_are_touched_only_through_wc_order_for_hpos():
    """HPOS keeps orders out of wp_posts: post meta functions and direct order queries would miss them."""
    import re

    source = "\n".join(p.read_text() for p in PLUGIN_DIR.rglob("*.php"))
    assert not re.search(r"\b(get|update|add|delete)_post_meta\s*\(|\bWP_Query\b|\bget_posts\s*\(", source)
    assert "declare_compatibility( 'custom_order_tables', PPE_REWARDS_FILE, true )" in source
