"""POST /app/plugin-link: a fresh dashboard sign-in link for our WordPress plugin's "Open the dashboard" button.

The merchant presses the button on the plugin's settings page (a WordPress admin-post form: the
`manage_woocommerce` capability and a nonce, extensions/woocommerce/ppe-rewards/includes/class-ppe-rewards-admin.php);
the plugin's server then calls this route, signed with the storefront secret it keeps (the signed plugin calls of
app/stores/woo_plugin.py: `X-PPE-Store` + `X-PPE-Signature`, 300 s of clock skew at most), and sends the merchant's
browser to the link we answer. The link is the one `flask stores admin-link` prints (dashboard/session.py:
single use, DASHBOARD_LINK_TTL_SECONDS), so the credential never reaches a page and a link that leaks through a
log or a Referer has been spent or has expired. docs/wordpress-plugin.md, "Into the dashboard".
"""

from __future__ import annotations

import json
import logging

from flask import Response, request

from app.dashboard import bp
from app.dashboard.session import link_ttl, login_url
from app.extensions import db
from app.stores.woo_plugin import verified_store

log = logging.getLogger(__name__)


def _answer(status: int, body: dict[str, object]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})


@bp.post("/plugin-link")
def plugin_link() -> Response:
    store = verified_store(request.headers, "POST", request.path, request.get_data())
    if store is None:
        db.session.rollback()
        return _answer(401, {"status": "unauthenticated"})
    if store.status != "active":
        db.session.rollback()
        return _answer(410, {"status": "store_not_connected"})
    (url, _fingerprint), store_id = login_url(store), store.id
    db.session.rollback()
    log.info("dashboard.plugin_link", extra={"store_id": store_id})
    return _answer(200, {"status": "ok", "url": url, "expires_in": link_ttl()})
