"""Build the storefront widget: app/storefront/widget_src -> app/storefront/static (what our app serves) and
extensions/ppe-widget/assets (what Shopify's CDN serves).

The scripts lose their full-line `//` comments, their indentation and blank lines; nothing else changes (no
renaming, no parsing), so the output is the source as written and needs no network or npm at build time.
Shopify's theme check counts the uncompressed bytes of the script every page loads (AssetSizeJavaScript,
10,000): https://shopify.dev/docs/storefronts/themes/tools/theme-check/checks/asset-size-javascript
`--check`: exit 1 if a built file differs from what the source gives (tests/storefront/test_widget.py runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "app/storefront/widget_src"
OUTPUTS = (ROOT / "app/storefront/static", ROOT / "extensions/ppe-widget/assets")


def built(path: Path) -> bytes:
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".js":
        return text.encode()
    lines = (line.strip() for line in text.splitlines())
    return "".join(line + "\n" for line in lines if line and not line.startswith("//")).encode()


def files() -> dict[str, bytes]:
    return {path.name: built(path) for path in sorted(SRC.iterdir()) if path.suffix in (".js", ".css")}


def main(argv: list[str]) -> int:
    wanted = files()
    stale = []
    for out in OUTPUTS:
        present = {p.name for p in out.glob("widget*")} if out.exists() else set()
        for name in sorted(present - set(wanted)):
            stale.append(out / name)
            if "--check" not in argv:
                (out / name).unlink()
        for name, content in wanted.items():
            target = out / name
            if target.exists() and target.read_bytes() == content:
                continue
            stale.append(target)
            if "--check" not in argv:
                out.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
    for path in stale:
        verb = "differs from its source" if "--check" in argv else "written"
        sys.stderr.write(f"{path.relative_to(ROOT)} {verb}\n")
    if "--check" in argv and stale:
        sys.stderr.write("run scripts/build-widget\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
