"""Production mode refuses mistakes; `flask config check`, `flask keys generate` (app/config.py, app/cli/config.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from app import config as app_config  # its TestingConfig imported by name would be collected as a test class
from app.cli.config import cli_command, config_cli, keys_cli
from app.config import DEVELOPMENT, PRODUCTION, Config, ConfigError, production_problems
from app.security import SecretBox
from tests.platform.settings_read import settings_read_by_config

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

OLD_FERNET = Fernet.generate_key().decode()
#: A production environment with nothing missing: each test takes one thing away or makes one unsafe.
PRODUCTION_ENV = {
    "DATABASE_URL": "postgresql://ppe:db-password-123@db.internal/ppe",  # never connected to here
    "REDIS_URL": "redis://:redis-password-456@redis.internal:6379/0",
    "SECRET_KEY": "s" * 20 + "-secret-key-value-for-tests",
    "ENCRYPTION_KEYS": OLD_FERNET,
    "SHOPIFY_API_KEY": "client-id",
    "SHOPIFY_API_SECRET": "shopify-client-secret-789",
    "APP_URL": "https://app.example.com",
    "SMTP_HOST": "smtp.example.com",
    "SMTP_USERNAME": "mailer",
    "SMTP_PASSWORD": "smtp-password-012",
    "MAIL_FROM": "Rewards <rewards@example.com>",
    "REVIEW_PHOTO_STORAGE": "s3",
    "S3_BUCKET": "photos",
    "S3_SECRET_ACCESS_KEY": "s3-secret-345",
}


@pytest.fixture
def environ(monkeypatch, tmp_path):
    """No setting from the session (tests/conftest.py sets some) or the shell: only what a test sets."""
    for name in settings_read_by_config():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))

    def set_env(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def test_the_complete_production_environment_is_accepted(environ):
    environ(PRODUCTION_ENV)
    config = Config()
    assert (config.APP_ENV, config.APP_ENV_REASON) == (PRODUCTION, "DATABASE_URL is PostgreSQL")
    assert production_problems(config) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY"),
        ({"ENCRYPTION_KEYS": None}, "ENCRYPTION_KEYS"),
        ({"ENCRYPTION_KEYS": f"{OLD_FERNET},not-a-fernet-key"}, "ENCRYPTION_KEYS"),
        ({"APP_URL": None}, "APP_URL"),
        ({"APP_URL": "http://app.example.com"}, "APP_URL"),
        ({"SMTP_HOST": None}, "SMTP_HOST"),
        ({"MAIL_FROM": None}, "MAIL_FROM"),
        ({"REVIEW_PHOTO_STORAGE": None}, "REVIEW_PHOTO_STORAGE"),
        ({"S3_BUCKET": None}, "S3_BUCKET"),
        ({"REVIEW_PHOTO_STORAGE": "disk"}, "REVIEW_PHOTO_DIR"),
        ({"SHOPIFY_API_KEY": None}, "SHOPIFY_API_KEY"),
        ({"SHOPIFY_API_SECRET": None}, "SHOPIFY_API_SECRET"),
        ({"REDIS_URL": None}, "REDIS_URL"),
        ({"DATABASE_URL": None, "APP_ENV": "production"}, "DATABASE_URL"),
        ({"WOO_ALLOW_PRIVATE_SITES": "1"}, "WOO_ALLOW_PRIVATE_SITES"),
        ({"SHOPIFY_ADMIN_ORIGIN": "http://127.0.0.1:9/{shop}"}, "SHOPIFY_ADMIN_ORIGIN"),
    ],
    ids=lambda value: "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value,
)
def test_production_refuses_a_missing_or_unsafe_setting_by_name(environ, monkeypatch, change, named):
    environ({k: v for k, v in PRODUCTION_ENV.items() if k not in change})
    environ({k: v for k, v in change.items() if v is not None})
    with pytest.raises(ConfigError) as refused:
        Config()
    assert [problem.split(":")[0] for problem in refused.value.problems] == [named]
    assert f"\n  - {named}: " in str(refused.value)
    assert not (Path(os.environ["INSTANCE_PATH"]) / "dev-secrets.json").exists()  # production generates nothing


def test_development_generates_what_is_missing_and_postgres_can_opt_out(environ):
    config = Config()  # nothing set: the embedded defaults, as ./scripts/run on a fresh machine
    assert config.APP_ENV == DEVELOPMENT
    assert config.SECRET_KEY and config.ENCRYPTION_KEYS and config.SHOPIFY_API_SECRET
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert Config().SECRET_KEY == config.SECRET_KEY  # kept in dev-secrets.json, not per start

    environ({"DATABASE_URL": "postgresql://localhost/dev", "APP_ENV": "development"})
    assert Config().APP_ENV == DEVELOPMENT  # a PostgreSQL development box
    environ({"APP_ENV": ""})
    with pytest.raises(ConfigError, match="REDIS_URL"):
        Config()
    assert app_config.TestingConfig().APP_ENV == DEVELOPMENT  # CI's PostgreSQL test database
    environ({"APP_ENV": "prod"})
    with pytest.raises(ConfigError, match="APP_ENV: 'prod' is neither"):
        Config()


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
def test_config_check_masks_secrets_and_lists_every_problem(environ):
    """As an operator runs it: in its own process, on a production configuration the app refuses to start with."""
    environ({k: v for k, v in PRODUCTION_ENV.items() if k not in ("SMTP_HOST", "APP_URL")})
    env = dict(os.environ)

    result = _flask(env, "config", "check")

    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "APP_ENV = production (DATABASE_URL is PostgreSQL)" in out
    assert "\n2 problems (production refuses to start):\n" in out
    assert "\n  - APP_URL: not set" in out and "\n  - SMTP_HOST: not set" in out
    secrets = ["SECRET_KEY", "ENCRYPTION_KEYS", "SHOPIFY_API_SECRET", "SMTP_PASSWORD", "S3_SECRET_ACCESS_KEY"]
    for name in secrets:
        assert PRODUCTION_ENV[name] not in out, name
    for password in ("db-password-123", "redis-password-456"):
        assert password not in out
    assert "SECRET_KEY = <1 secret: sha256:" in out and "SMTP_PASSWORD = <set>" in out
    assert "SQLALCHEMY_DATABASE_URI = postgresql+psycopg://ppe:***@db.internal/ppe" in out
    assert "SMTP_USERNAME = mailer" in out  # not a secret: shown

    other = _flask(env, "inbox", "stats")  # any other command: the refusal, naming the same settings
    assert other.returncode == 1
    assert "Error: refusing to start in production" in other.stderr and "  - SMTP_HOST: not set" in other.stderr


def test_config_check_passes_a_complete_production_environment(environ):
    environ(PRODUCTION_ENV)
    result = CliRunner().invoke(config_cli, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("\nno problems\n")


def test_config_check_in_development_shows_what_production_would_refuse(environ):
    result = CliRunner().invoke(config_cli, ["check"])
    assert result.exit_code == 0, result.output
    assert "SECRET_KEY = <1 secret: sha256:" in result.output and "(generated, dev-secrets.json)" in result.output
    assert "problems (production would refuse to start):" in result.output
    assert "\n  - SECRET_KEY: not set" in result.output  # the generated one would not be there
    assert CliRunner().invoke(config_cli, ["check", "--production"]).exit_code == 1


def _keys(*args: str) -> dict[str, str]:
    result = CliRunner().invoke(keys_cli, ["generate", *args])
    assert result.exit_code == 0, result.output
    return dict(line.split("=", 1) for line in result.output.splitlines())


def test_keys_generate_prints_settings_the_production_config_accepts(environ):
    keys = _keys()
    assert set(keys) == {"SECRET_KEY", "ENCRYPTION_KEYS"}
    assert _keys()["SECRET_KEY"] != keys["SECRET_KEY"]  # fresh every time
    environ({**PRODUCTION_ENV, **keys})
    config = Config()
    assert (config.SECRET_KEY, config.ENCRYPTION_KEYS) == (keys["SECRET_KEY"], keys["ENCRYPTION_KEYS"])
    box = SecretBox(config.ENCRYPTION_KEYS)
    assert box.open(box.seal({"token": "x"})) == {"token": "x"}


def test_keys_generate_rotate_keeps_the_current_keys_as_the_accepted_ones(environ):
    environ({**PRODUCTION_ENV, "SECRET_KEY_FALLBACKS": "older-secret-key"})
    rotated = _keys("--rotate")
    assert rotated["SECRET_KEY"] != PRODUCTION_ENV["SECRET_KEY"]
    assert rotated["SECRET_KEY_FALLBACKS"] == f"{PRODUCTION_ENV['SECRET_KEY']},older-secret-key"  # newest first
    new_fernet, old_fernet = rotated["ENCRYPTION_KEYS"].split(",")
    assert old_fernet == OLD_FERNET and new_fernet != OLD_FERNET
    environ(rotated)
    config = Config()
    assert config.SECRET_KEY_FALLBACKS == [PRODUCTION_ENV["SECRET_KEY"], "older-secret-key"]

    environ({"SECRET_KEY": ""})
    assert CliRunner().invoke(keys_cli, ["generate", "--rotate"]).exit_code == 1  # nothing to rotate from


def test_the_flask_cli_command_is_found_in_argv():
    assert cli_command(["/venv/bin/flask", "--app", "wsgi", "config", "check"]) == "config"
    assert cli_command(["/venv/bin/flask", "-A", "wsgi", "--debug", "keys", "generate"]) == "keys"
    assert cli_command(["/usr/lib/python3/flask/__main__.py", "--app", "wsgi", "serve"]) == "serve"
    assert cli_command(["/venv/bin/flask", "--app", "wsgi", "--help"]) == ""
    assert cli_command(["/venv/bin/gunicorn", "wsgi:app"]) is None
