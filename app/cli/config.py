"""`flask config check`, `flask keys generate` and `flask keys reencrypt`.

`config check` prints the effective configuration (secrets masked: whether they are set, and a short fingerprint
so two hosts can be compared without showing a key) and every problem production refuses. `keys generate` prints
fresh SECRET_KEY and ENCRYPTION_KEYS lines in the format the settings take (`--rotate`: with the current keys kept
as the ones still accepted). `keys reencrypt` rewrites every stored credential with the first ENCRYPTION_KEYS key,
after which the old keys can be dropped (docs/operations.md#secrets).

A production configuration with problems refuses to build an app, so the flask CLI cannot load `wsgi`; wsgi.py then
hands the CLI `refused_cli_app()`, which has only `config` and `keys`, the two command groups that fix it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select, update
from sqlalchemy.orm import Session, scoped_session

from app.config import PRODUCTION, SECRET_SETTINGS, Config, ConfigError, production_problems

#: The commands wsgi.py still serves when the configuration is refused.
CONFIG_COMMANDS = ("config", "keys")
#: Secrets a person may have chosen: no fingerprint (a short hash would let a guess be checked offline).
_NO_FINGERPRINT = frozenset({"SMTP_PASSWORD"})
#: Generated into <INSTANCE_PATH>/dev-secrets.json in development when unset (app/config_defaults.py).
_GENERATED = frozenset({"SECRET_KEY", "ENCRYPTION_KEYS", "SHOPIFY_API_SECRET"})


@click.group("config", help="The effective configuration and its problems.")
def config_cli() -> None:
    pass


@config_cli.command("check")
@click.option("--production", is_flag=True, help="Check as production would, whatever APP_ENV and DATABASE_URL say.")
def check_command(production: bool) -> None:
    """Print every setting (secrets masked) and every problem; exit 1 when production would refuse to start."""
    try:
        config = Config(app_env=PRODUCTION if production else None, refuse=False)
    except ConfigError as error:  # a value that cannot be read at all (SMTP_SECURITY=tls, APP_ENV=prod, ...)
        _print_problems(error.problems, "the settings cannot be read")
        raise SystemExit(1) from None
    enforced = config.APP_ENV == PRODUCTION
    click.echo(f"APP_ENV = {config.APP_ENV} ({config.APP_ENV_REASON})")
    for name, value in vars(config).items():
        if name.isupper() and name not in ("APP_ENV", "APP_ENV_REASON") and not name.endswith("_CLOCK"):
            generated = name in _GENERATED and not enforced and not os.environ.get(name)
            click.echo(f"{name} = {shown(name, value)}" + (" (generated, dev-secrets.json)" if generated else ""))
    # In development the generated secrets stand in for unset ones; production would have none of them.
    problems = production_problems(config if enforced else Config(app_env=PRODUCTION, refuse=False))
    if not problems:
        click.echo("\nno problems")
        return
    _print_problems(problems, "production refuses to start" if enforced else "production would refuse to start")
    if enforced:
        raise SystemExit(1)


def _print_problems(problems: Sequence[str], heading: str) -> None:
    click.echo(f"\n{len(problems)} problem{'s' if len(problems) != 1 else ''} ({heading}):")
    for problem in problems:
        click.echo(f"  - {problem}")


def shown(name: str, value: Any) -> str:
    """A setting as `config check` prints it: secrets masked, passwords in URLs masked."""
    if value is None or value == "" or value == []:
        return "(unset)"
    if name in SECRET_SETTINGS:
        items = value if isinstance(value, list) else [k for k in str(value).split(",") if k.strip()]
        if name in _NO_FINGERPRINT:
            return "<set>"
        prints = ", ".join("sha256:" + hashlib.sha256(str(k).strip().encode()).hexdigest()[:8] for k in items)
        return f"<{len(items)} secret{'s' if len(items) != 1 else ''}: {prints}>"
    if isinstance(value, str) and "://" in value:
        return _without_password(value)
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@click.group("keys", help="Generate and rotate SECRET_KEY and ENCRYPTION_KEYS.")
def keys_cli() -> None:
    pass


@keys_cli.command("generate")
@click.option(
    "--rotate",
    is_flag=True,
    help="Keep the environment's current SECRET_KEY and ENCRYPTION_KEYS as the ones still accepted.",
)
def generate_command(rotate: bool) -> None:
    """Print NAME=value lines for the environment (an env file, a secret store, `export`)."""
    values = {"SECRET_KEY": secrets.token_urlsafe(32), "ENCRYPTION_KEYS": Fernet.generate_key().decode()}
    if rotate:
        current_secret = os.environ.get("SECRET_KEY", "").strip()
        current_keys = [k.strip() for k in os.environ.get("ENCRYPTION_KEYS", "").split(",") if k.strip()]
        if not current_secret or not current_keys:
            raise click.ClickException("--rotate needs the current SECRET_KEY and ENCRYPTION_KEYS in the environment")
        fallbacks = [k.strip() for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()]
        # Newest first in both lists: SECRET_KEY signs, every fallback still verifies (Flask's
        # SECRET_KEY_FALLBACKS); the first Fernet key encrypts, every key decrypts (MultiFernet).
        values["SECRET_KEY_FALLBACKS"] = ",".join([current_secret, *fallbacks])
        values["ENCRYPTION_KEYS"] = ",".join([values["ENCRYPTION_KEYS"], *current_keys])
    for name, value in values.items():
        click.echo(f"{name}={value}")


@keys_cli.command("reencrypt")
@with_appcontext
def reencrypt_command() -> None:
    """Rewrite every store's credentials with the first ENCRYPTION_KEYS key (once every process has the new list)."""
    if "secret_box" not in current_app.extensions:
        raise click.ClickException("the configuration is refused: see `flask config check`")
    from app.extensions import db
    from app.security import secret_box

    done, changed, unreadable = reencrypt_credentials(db.session, secret_box())
    click.echo(f"re-encrypted {done} store(s); {changed} changed meanwhile (written with the new keys already)")
    if unreadable:
        raise click.ClickException(f"stores whose credentials no key decrypts: {unreadable}")


def reencrypt_credentials(session: Session | scoped_session[Any], box: Any) -> tuple[int, int, list[int]]:
    """(re-encrypted, changed meanwhile, unreadable store ids). Each row is replaced only if it still holds the
    ciphertext that was read (compare-and-set), so a token refreshed meanwhile is never overwritten."""
    from app.stores.models import Store

    done, changed, unreadable = 0, 0, []
    rows = session.execute(select(Store.id, Store.credentials).where(Store.credentials.is_not(None))).all()
    for store_id, old in rows:
        try:
            new = box.rotate(bytes(old))
        except InvalidToken:
            unreadable.append(store_id)
            continue
        result = session.execute(
            update(Store).where(Store.id == store_id, Store.credentials == old).values(credentials=new)
        )
        session.commit()
        if result.rowcount:  # type: ignore[attr-defined]
            done += 1
        else:
            changed += 1
    return done, changed, unreadable


def cli_command(argv: Sequence[str]) -> str | None:
    """The command the flask CLI was asked to run (`flask --app wsgi config check`: "config"; "" for none), None
    outside the flask CLI (gunicorn, rq, python)."""
    if not argv or (Path(argv[0]).name != "flask" and not argv[0].endswith("flask/__main__.py")):
        return None
    args = iter(argv[1:])
    for arg in args:
        if arg in ("--app", "-A", "--env-file", "-e"):
            next(args, None)  # the option's value
        elif not arg.startswith("-"):
            return arg
    return ""


def refused_cli_app() -> Flask:
    """An app with only `config` and `keys`, for the flask CLI when the configuration is refused."""
    app = Flask("app")
    app.cli.add_command(config_cli)
    app.cli.add_command(keys_cli)
    return app


def app_or_config_commands(argv: list[str] | None = None) -> Flask:
    """create_app(); when production refuses the configuration, `flask config check` (every problem) and `flask
    keys` are how it gets fixed, so the flask CLI gets an app with just those. gunicorn gets the refusal (its
    worker does not boot, so gunicorn stops), any other command the refusal's message."""
    import sys

    from app import create_app

    try:
        return create_app()
    except ConfigError as refusal:
        command = cli_command(sys.argv if argv is None else argv)
        if command is None:
            raise
        if command not in CONFIG_COMMANDS:
            raise click.ClickException(str(refusal)) from None
        return refused_cli_app()
