"""A real WordPress for the plugin's tests: Debian's package copied into the test's tmp dir, its own MariaDB
database, the plugin installed from the zip scripts/build-wp-plugin makes, served by `php -S`.

Skips (with the reason) when php, Debian's wordpress package or MariaDB are missing; .ci/run installs them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
PHP = shutil.which("php")
WORDPRESS = Path(os.environ.get("WORDPRESS_PATH", "/usr/share/wordpress"))
DB_HOST = os.environ.get("WORDPRESS_DB_HOST", "127.0.0.1")
PLUGIN = "ppe-rewards/ppe-rewards.php"
# WooCommerce's test doubles, must-use plugins of the test's WordPress (each file says what it stands for).
DOUBLES = [HERE / "woocommerce-doubles.php", HERE / "woocommerce-doubles-product.php"]


def require_php() -> str:
    if PHP is None:
        pytest.skip("no php (apt-get install -y php-cli php-mysql php-xml php-mbstring php-curl)")
    return PHP


def require_wordpress() -> None:
    require_php()
    if not (WORDPRESS / "wp-settings.php").exists():
        pytest.skip(f"no WordPress at {WORDPRESS} (apt-get install -y wordpress)")
    if shutil.which("mysql") is None:
        pytest.skip("no mysql client (apt-get install -y mariadb-client)")
    probe = subprocess.run(["mysql", "-h", DB_HOST, "-uroot", "-e", "SELECT 1"], capture_output=True, timeout=20)
    if probe.returncode != 0:
        pytest.skip(f"MariaDB at {DB_HOST} refused root without a password: {probe.stderr.decode()[:200]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_zip(out: Path, api_url: str) -> Path:
    done = subprocess.run(
        [str(ROOT / "scripts/build-wp-plugin"), "--out", str(out), "--api-url", api_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return Path(done.stdout.strip().splitlines()[-1])


class WordPressSite:
    """One WordPress: install(), add the plugin from its zip, activate it, serve it."""

    def __init__(self, tmp: Path, api_url: str, mu_plugins: list[Path] = (), ca_bundle: Path | None = None) -> None:
        self.tmp, self.api_url = tmp, api_url
        self.root = tmp / "wordpress"
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self.db = "ppe_wp_" + secrets.token_hex(6)
        self.debug_log = tmp / "debug.log"
        self.server: subprocess.Popen[bytes] | None = None
        self.mu_plugins = list(mu_plugins)
        self.ca_bundle = ca_bundle  # our app's test certificate, for WordPress's calls to it over https
        self.zip: Path | None = None  # the plugin's zip, when a test installs it itself

    def _mysql(self, sql: str) -> None:
        subprocess.run(["mysql", "-h", DB_HOST, "-uroot", "-e", sql], check=True, capture_output=True, timeout=30)

    def _config(self) -> str:
        salts = "".join(
            f"define('{name}', '{secrets.token_hex(32)}');\n"
            for name in (
                "AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT"
            ).split()
        )
        return f"""<?php
define('DB_NAME', '{self.db}');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '{DB_HOST}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}$table_prefix = 'wp_';
define('WP_DEBUG', true);
define('WP_DEBUG_LOG', '{self.debug_log}');
define('WP_DEBUG_DISPLAY', false);
define('WP_HOME', '{self.url}');
define('WP_SITEURL', '{self.url}');
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('WP_CONTENT_URL', '{self.url}/wp-content');
define('PPE_REWARDS_API_URL', '{self.api_url}');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('FS_METHOD', 'direct');
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
"""

    def _php(self, *args: str) -> dict:
        done = subprocess.run(
            [require_php(), str(HERE / "wp_setup.php"), *args[:1], str(self.root), self.host, *args[1:]],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def install(self) -> dict:
        self._mysql(f"CREATE DATABASE {self.db} CHARACTER SET utf8mb4")
        # Debian links some files to /usr/share/javascript with relative links: copy what they point to.
        shutil.copytree(WORDPRESS, self.root, symlinks=False)
        (self.root / "wp-config.php").unlink()
        (self.root / "wp-config.php").write_text(self._config())
        mu = self.root / "wp-content/mu-plugins"
        mu.mkdir(parents=True, exist_ok=True)
        for path in self.mu_plugins:
            shutil.copy(path, mu / path.name)
        if self.ca_bundle is not None:
            (mu / "ppe-test-ca.php").write_text(
                "<?php\n// Tests only: WordPress's HTTP calls trust our app's loopback certificate.\n"
                "add_filter('http_request_args', static function ($args) {\n"
                f"    $args['sslcertificates'] = '{self.ca_bundle}';\n    return $args;\n}});\n"
            )
        return self._php("install")

    def add_plugin(self, zip_path: Path) -> None:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(self.root / "wp-content/plugins")

    def activate(self) -> dict:
        return self._php("activate", PLUGIN)

    def debug_lines(self) -> list[str]:
        return self.debug_log.read_text().splitlines() if self.debug_log.exists() else []

    def serve(self) -> str:
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "4"}  # the plugin's calls to us may cross ours to it
        self.server = subprocess.Popen(
            [require_php(), "-S", self.host, "-t", str(self.root), str(HERE / "router.php")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(self.tmp / "php-server.log").open("wb"),
            start_new_session=True,  # its workers share the group: close() ends them all
        )
        deadline = time.monotonic() + 60  # the first page compiles WordPress's PHP: slow on a busy machine
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/wp-login.php", timeout=10)
                return self.url
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        raise RuntimeError("php -S did not start")

    def close(self) -> None:
        if self.server is not None:
            # PHP_CLI_SERVER_WORKERS forks workers that outlive the master's SIGTERM: end the whole group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=10)
        subprocess.run(["mysql", "-h", DB_HOST, "-uroot", "-e", f"DROP DATABASE IF EXISTS {self.db}"], timeout=30)
