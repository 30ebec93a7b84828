"""docs/configuration.md documents exactly the settings app/config.py reads, each with a default and a meaning."""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.config import PRODUCTION, SECRET_SETTINGS, Config
from tests.platform.settings_read import settings_read_by_config

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "configuration.md"


def tables(header: str) -> list[list[str]]:
    """The rows (cells) of every table on the page whose header row is `header`."""
    rows, inside = [], False
    for line in PAGE.read_text().splitlines():
        if line.strip() == header:
            inside = True
        elif inside and line.startswith("|"):
            if not set(line) <= set("|- "):
                rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        else:
            inside = False
    return rows


def names(cell: str) -> list[str]:
    """`SMTP_USERNAME`, `SMTP_PASSWORD` -> both names."""
    return re.findall(r"`([A-Z][A-Z0-9_]*)`", cell)


def documented() -> dict[str, list[str]]:
    return {name: row for row in tables("| variable | default | meaning |") for name in names(row[0])}


def test_the_page_documents_every_setting_app_config_reads_and_no_other():
    read, listed = settings_read_by_config(), set(documented())
    assert read - listed == set(), "read by app/config.py, missing from docs/configuration.md"
    assert listed - read == set(), "on docs/configuration.md, never read by app/config.py"


def test_every_documented_setting_has_a_default_and_a_meaning():
    for name, row in documented().items():
        assert len(row) == 3 and row[1] and row[2], name


def test_what_building_a_config_reads_is_documented(monkeypatch, tmp_path):
    """The same check at run time, in case app/config.py reads a setting in a way settings_read does not parse."""
    seen: set[str] = set()

    class Recording(dict):
        def get(self, key, default=None):  # noqa: ANN001, ANN202
            seen.add(key)
            return super().get(key, default)

        def __getitem__(self, key):  # noqa: ANN001, ANN202
            seen.add(key)
            return super().__getitem__(key)

    monkeypatch.setattr(os, "environ", Recording(INSTANCE_PATH=str(tmp_path)))
    Config()
    Config(app_env=PRODUCTION, refuse=False)
    assert seen, "nothing recorded: app/config.py no longer reads os.environ.get"
    assert seen - set(documented()) == set()


def test_secrets_are_documented_settings():
    assert SECRET_SETTINGS <= set(documented())


def test_settings_read_elsewhere_are_read_where_the_page_says():
    rows = tables("| variable | read by | meaning |")
    assert rows
    for row in rows:
        path = ROOT / row[1].strip("`")
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        source = "".join(file.read_text() for file in files)
        for name in names(row[0]):
            assert name in source, f"{name} is not in {row[1]}"
