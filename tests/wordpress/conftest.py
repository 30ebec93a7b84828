"""Fixtures of the WordPress plugin's tests: a real WordPress with the plugin from its zip (tests/wordpress/site.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.wordpress.site import DOUBLES, WordPressSite, build_zip, require_wordpress


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory) -> Path:
    return build_zip(tmp_path_factory.mktemp("dist"), "http://127.0.0.1:9")


@pytest.fixture(scope="module")
def wordpress(tmp_path_factory, plugin_zip) -> Iterator[WordPressSite]:
    """Installed, the WooCommerce doubles as a must-use plugin, our plugin added (not yet activated)."""
    require_wordpress()
    site = WordPressSite(tmp_path_factory.mktemp("wp"), "http://127.0.0.1:9", DOUBLES)
    try:
        site.install()
        site.add_plugin(plugin_zip)
        yield site
    finally:
        site.close()
