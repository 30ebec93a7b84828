"""`@dashboard_page`: how a feature adds a page (and its navigation entry) to the merchant's dashboard.

    from app.dashboard.registry import dashboard_page, render_page

    @dashboard_page("/reviews", title="Reviews", nav="Reviews", order=30)
    def reviews_queue():
        return render_page("reviews/dashboard_queue.html", rows=...)

The view runs only for a known merchant (`current_merchant()`: the store, how it signed in); what it may not
see it never gets, because the store comes from the credential, never from the request. Every page is served
two ways from the same view: the whole document (the cookie session at our origin, or Shopify's first load
with `id_token`), or its main part only, for our script's authenticated fetch inside the Shopify admin
(`X-PPE-Fragment: 1`). A POST from a cookie session must carry the form's CSRF token; a session token in the
Authorization header is not ambient (the browser never adds it), so it needs none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import access, bp
from app.dashboard.i18n import merchant_locale
from app.dashboard.session import csrf_token, csrf_valid
from app.stores.shopify_auth import InstallRefused, valid_shop

FRAGMENT_HEADER = "X-PPE-Fragment"
CARRIED_ARGS = ("shop", "host", "embedded", "locale")  # Shopify's query, kept on our links inside the admin


@dataclass(frozen=True)
class Page:
    endpoint: str
    path: str
    title: str
    nav: str | None  # the navigation label; None: reached from another page only
    order: int


#: Every registered page, in registration order (`nav_pages()` sorts the navigation by `order`).
PAGES: list[Page] = []


def dashboard_page(
    path: str,
    *,
    title: str,
    nav: str | None = None,
    order: int = 100,
    methods: tuple[str, ...] = ("GET",),
    endpoint: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        name = endpoint or view.__name__
        page = Page(endpoint=name, path=path, title=title, nav=nav, order=order)
        PAGES.append(page)
        bp.add_url_rule(path, name, _guarded(view, page), methods=list(methods))
        return view

    return decorate


#: Template folders of the features' pages (name -> folder), added to Flask's loader by init_app: a feature keeps
#: its page's templates in its own package, in a subfolder named after it (`loyalty_dashboard/...`).
def add_template_folder(name: str, folder: Path) -> None:
    """A feature's page templates (`name` kept for the callers' readability): the dashboard's one loader
    (app/dashboard.add_template_folder) searches them."""
    from app.dashboard import add_template_folder as add

    add(folder)


def nav_pages() -> list[Page]:
    return sorted((p for p in PAGES if p.nav), key=lambda p: p.order)


def current_merchant() -> access.Merchant:
    merchant: access.Merchant = g.dashboard_merchant
    return merchant


def is_fragment() -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


def page_url(endpoint: str, **values: Any) -> str:
    """url_for a dashboard page, keeping Shopify's shop/host on links inside the admin."""
    for name in CARRIED_ARGS:
        if name in request.args and name not in values:
            values[name] = request.args[name]
    return url_for(endpoint if "." in endpoint else f"dashboard.{endpoint}", **values)


def after_action(endpoint: str, done: str, keep: tuple[str, ...] = ()) -> BaseResponse:
    """POST-redirect-GET: a 303 back to the page, with the query names in `keep` (its filters, carried on the
    form's action URL) and `done`, the code of what happened, which the page shows (no flash, no session)."""
    values = {name: request.args[name] for name in keep if request.args.get(name)}
    return redirect(page_url(endpoint, done=done, **values), 303)


def _shopify_shop() -> str | None:
    try:
        return valid_shop(request.args.get("shop"))
    except InstallRefused:
        return None


def _context(page: Page, merchant: access.Merchant | None, **extra: Any) -> dict[str, Any]:
    cfg = current_app.config
    embedded = merchant.via == "session_token" if merchant else True
    return {
        "page": page,
        "nav": nav_pages(),
        "merchant": merchant,
        "store": merchant.store if merchant else None,
        "embedded": embedded,
        "api_key": cfg.get("SHOPIFY_API_KEY", ""),
        "csrf_token": csrf_token(merchant.session) if merchant and merchant.session else "",
        "page_url": page_url,
        "lang": merchant_locale(),
        **extra,
    }


def render_page(template: str, **values: Any) -> str:
    """The page's template with its context; whole document or main part as the request asks."""
    page: Page = g.dashboard_page
    layout = "dashboard/fragment.html" if is_fragment() else "dashboard/layout.html"
    return render_template(template, layout=layout, frame_only=False, **_context(page, current_merchant(), **values))


def _refusal(status: int, code: str) -> Response:
    if is_fragment() or request.method != "GET":
        from flask import jsonify

        response = jsonify(error=code)
        response.status_code = status
        return response
    body = render_template("dashboard/signin.html", code=code)
    return Response(body, status=status, mimetype="text/html")


def _guarded(view: Callable[..., Any], page: Page) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        merchant = access.resolve()
        g.dashboard_page = page
        shop = _shopify_shop()
        if isinstance(merchant, access.Merchant):
            g.dashboard_merchant = merchant
            g.audit_actor = merchant.actor  # every audit row a page's action writes names this merchant
            g.frame_shop = merchant.store.domain if merchant.via == "session_token" else None
            if merchant.session is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
                given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
                if not csrf_valid(merchant.session, given):
                    abort(400, description="csrf")
            return view(**kwargs)
        if isinstance(merchant, access.NotInstalled):
            # Valid token, no offline token yet: the script runs the token exchange (/shopify/session) and asks
            # again; a document load gets the shell, whose script does exactly that.
            if is_fragment() or request.method != "GET":
                return _refusal(401, "store_not_installed")
            shop = merchant.shop
        if request.method == "GET" and not is_fragment() and shop is not None:
            # Inside the Shopify admin with no token in hand: the page's frame, filled by the script once App
            # Bridge gives it a session token (no OAuth redirect for an installed store).
            g.frame_shop = shop
            return render_template("dashboard/layout.html", layout=None, frame_only=True, **_context(page, None))
        return _refusal(401, "unauthorized")

    return wrapper


@bp.after_request
def _frame_policy(response: Response) -> Response:
    """Shopify's admin may frame the pages of its shop; nothing may frame a cookie session's pages.
    https://shopify.dev/docs/apps/build/security/set-up-iframe-protection"""
    if request.endpoint == "dashboard.static":
        return response
    shop = g.get("frame_shop")
    if shop:
        response.headers["Content-Security-Policy"] = f"frame-ancestors https://{shop} https://admin.shopify.com;"
    else:
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none';"
        response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Referrer-Policy"] = "same-origin"  # the login link's token never leaves in a Referer
    return response
