"""The reference point: a bare Flask endpoint at the same path that returns 200.

It reads the body (gunicorn has to receive the ~13 KB either way, and Flask
would otherwise drain it later) and answers the same small JSON as the real
endpoint, so the difference measured is our verification, storage and kick,
not HTTP parsing or response size. Served with the same gunicorn.conf.py.
"""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)

_ACCEPTED = b'{"status": "accepted"}'


@app.post("/webhooks/shopify")
def shopify() -> Response:
    request.get_data(cache=False)
    return Response(_ACCEPTED, status=200, mimetype="application/json")


@app.get("/healthz")
def healthz() -> Response:
    return Response(b'{"status": "ok"}', status=200, mimetype="application/json")


_BALANCE = b'{"expires_at":null,"expiring_30d":0,"pending":120,"progress":null,"spendable":340,"tier":null}\n'


@app.get("/api/v1/bare")
def bare_json() -> Response:
    """The storefront benchmark's reference: a JSON answer of the balance's size, nothing looked up."""
    return Response(_BALANCE, status=200, mimetype="application/json")
