"""Build, type-check and measure the Shopify UI extensions (extensions/ppe-thank-you, ppe-order-status,
ppe-rewards-page) with the toolchain Shopify CLI uses: esbuild, from npm, and TypeScript's tsc.

Shopify CLI builds them itself on `shopify app deploy` (it needs a Partner login, so tests cannot run it); this
script does what it does offline and checks what Shopify enforces: each extension's compressed script within
64 KB, a full page's within 128 KB. https://shopify.dev/docs/api/checkout-ui-extensions/latest#bundle-size
The npm packages go to .cache/extensions-node (gitignored), as the theme check and axe-core do in the tests;
extensions/node_modules is a link to them so tsc, esbuild and editors resolve imports the normal way. Nothing
built goes into git: the bundles land in .cache/extensions-build/<handle>/<module>.js.

    scripts/build-extensions [--api-url URL] [--json]

--api-url defines PPE_API_URL in the bundles (the harness tests point them at their live server); without
it the bundles call the URL written in extensions/ppe-shared/api.ts, as Shopify CLI's build would.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTENSIONS = ROOT / "extensions"
NODE = ROOT / ".cache/extensions-node"
OUT = ROOT / ".cache/extensions-build"
TOOLS = {"esbuild": "0.28.2", "typescript": "5.9.3"}  # build-time only; the runtime packages are in package.json
KB = 1024
FULL_PAGE_TARGETS = ("customer-account.page.render", "customer-account.order.page.render")


class BuildError(RuntimeError):
    pass


def ui_extensions() -> list[tuple[Path, dict]]:
    """(directory, its shopify.extension.toml) of every UI extension under extensions/."""
    found = []
    for toml in sorted(EXTENSIONS.glob("*/shopify.extension.toml")):
        config = tomllib.loads(toml.read_text())
        if any(ext.get("type") == "ui_extension" for ext in config.get("extensions", [])):
            found.append((toml.parent, config))
    return found


def wanted_packages() -> dict[str, str]:
    """The exact versions every extension's package.json names (they must agree), plus the build tools."""
    versions: dict[str, str] = {}
    for directory, _ in ui_extensions():
        for name, version in json.loads((directory / "package.json").read_text())["dependencies"].items():
            if versions.setdefault(name, version) != version:
                raise BuildError(f"{directory.name}/package.json: {name} {version} != {versions[name]}")
    return versions | TOOLS


def install() -> None:
    wanted = wanted_packages()
    present = {}
    for name in wanted:
        manifest = NODE / "node_modules" / name / "package.json"
        if manifest.exists():
            present[name] = json.loads(manifest.read_text())["version"]
    if present != wanted:
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError("npm is not installed")
        NODE.mkdir(parents=True, exist_ok=True)
        (NODE / "package.json").write_text('{"private": true}\n')
        specs = [f"{name}@{version}" for name, version in sorted(wanted.items())]
        subprocess.run(
            [npm, "install", "--prefix", str(NODE), "--no-audit", "--no-fund", *specs], check=True, timeout=600
        )
    link = EXTENSIONS / "node_modules"
    if not link.is_symlink():
        if link.exists():
            raise BuildError(f"{link} exists and is not the link to {NODE}/node_modules")
        link.symlink_to(os.path.relpath(NODE / "node_modules", EXTENSIONS))


def type_check(directory: Path, modules: list[str]) -> None:
    """tsc --noEmit over one extension (one at a time: checkout's and customer accounts' components declare the
    same element names with different props, as the extensions are built apart)."""
    config = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "target": "ES2020",
            "lib": ["ES2021", "DOM"],
            "module": "ESNext",
            "moduleResolution": "Bundler",
            "jsx": "react-jsx",
            "jsxImportSource": "preact",
            "skipLibCheck": True,
            "types": [],
        },
        "files": [str(directory / "shopify.d.ts"), *(str(directory / m) for m in modules)],
    }
    tsconfig = OUT / directory.name / "tsconfig.json"
    tsconfig.parent.mkdir(parents=True, exist_ok=True)
    tsconfig.write_text(json.dumps(config, indent=2))
    tsc = NODE / "node_modules/.bin/tsc"
    done = subprocess.run([str(tsc), "-p", str(tsconfig)], capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise BuildError(f"tsc {directory.name}:\n{done.stdout}{done.stderr}")


def bundle(directory: Path, module: str, define: str | None) -> Path:
    out = OUT / directory.name / (Path(module).stem + ".js")
    command = [
        str(NODE / "node_modules/.bin/esbuild"),
        str(directory / module),
        "--bundle",
        "--format=esm",
        "--minify",
        "--target=es2020",
        "--jsx=automatic",
        "--jsx-import-source=preact",
        "--log-level=warning",
        f"--outfile={out}",
    ]
    if define is not None:
        command.append(f"--define:PPE_API_URL={define}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise BuildError(f"esbuild {module}:\n{done.stderr}")
    return out


def build(define: str | None = None) -> dict[str, dict]:
    """Install, type-check and bundle every UI extension; raises BuildError (a size over its limit too).
    `define`: what PPE_API_URL becomes in the bundles (esbuild --define: a JSON string, or a global's name
    such as globalThis.PPE_API_URL, which the test harness sets), None: left undefined, as Shopify CLI does."""
    install()
    report: dict[str, dict] = {}
    for directory, config in ui_extensions():
        targets = [t for ext in config["extensions"] for t in ext.get("targeting", [])]
        modules = sorted({t["module"].removeprefix("./") for t in targets})
        type_check(directory, modules)
        files = {m: bundle(directory, m, define) for m in modules}
        raw = sum(p.stat().st_size for p in files.values())
        compressed = sum(len(gzip.compress(p.read_bytes(), 9)) for p in files.values())
        full_page = any(t["target"] in FULL_PAGE_TARGETS for t in targets)
        if full_page and len(targets) > 1:
            raise BuildError(f"{directory.name}: a full-page target must be the extension's only target")
        limit = (128 if full_page else 64) * KB
        report[directory.name] = {
            "targets": [t["target"] for t in targets],
            "bundles": {m: str(p.relative_to(ROOT)) for m, p in files.items()},
            "bytes": raw,
            "gzip_bytes": compressed,
            "limit_bytes": limit,
        }
        if compressed > limit:
            raise BuildError(f"{directory.name}: {compressed} bytes compressed, over its {limit}")
    return report


def main(argv: list[str]) -> int:
    api_url = None
    if "--api-url" in argv:
        api_url = argv[argv.index("--api-url") + 1]
        if not re.fullmatch(r"https?://[^\s\"']+", api_url):
            sys.stderr.write("--api-url: an http(s) URL\n")
            return 2
    try:
        report = build(None if api_url is None else json.dumps(api_url))
    except (BuildError, subprocess.SubprocessError) as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if "--json" in argv:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        for name, item in report.items():
            sizes = f"{item['gzip_bytes']} bytes gzip ({item['bytes']} raw)"
            sys.stdout.write(f"{name}: {sizes}, limit {item['limit_bytes']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
