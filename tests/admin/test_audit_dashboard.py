"""The dashboard's Audit log page: the store's rows only, newest first, who/what/when, filtered by action and by
who, paged by id; inside the Shopify admin as at our origin."""

from __future__ import annotations

import re

from app.admin.models import AuditEntry
from app.extensions import db
from tests.dashboard.conftest import bearer, dash, signed_in  # noqa: F401  (dash: the fixture)
from tests.helpers import SHOP, add_store

ENTRY = re.compile(r'data-entry="(\d+)" data-action="([^"]+)"')


def _rows(store, count: int, action: str, kind: str = "admin_token", diff=None) -> None:
    for n in range(count):
        db.session.add(
            AuditEntry(
                store_id=store.id, actor_kind=kind, actor_id="abc", action=action, target=f"x:{n}", diff=diff or {}
            )
        )
    db.session.commit()


def test_the_stores_rows_filtered_and_paged(dash, ctx):  # noqa: F811
    mine = add_store("woocommerce", domain="https://mine.example")
    other = add_store("woocommerce", domain="https://other.example")
    _rows(mine, 28, "review.publish", diff={"status": ["held", "published"]})
    _rows(mine, 3, "settings.update", kind="shopify_user")
    _rows(other, 2, "referral.reject")
    client, _ = signed_in(dash, mine, "/app/audit")  # the link's issue is a row too (cli)
    page = client.get("/app/audit").text
    shown = ENTRY.findall(page)
    assert len(shown) == 25 and [int(i) for i, _ in shown] == sorted((int(i) for i, _ in shown), reverse=True)
    assert shown[0][1] == "dashboard_link.issue" and "referral.reject" not in {a for _, a in shown}
    assert "Dashboard sign-in link issued" in page and "Command line" in page and "held → published" in page
    older = re.search(r'href="([^"]+)" rel="next">Older', page).group(1).replace("&amp;", "&")
    rest = ENTRY.findall(client.get(older).text)
    assert len(rest) == 7 and int(rest[0][0]) < int(shown[-1][0])
    assert 'rel="prev">Newest' in client.get(older).text
    settings = ENTRY.findall(client.get("/app/audit?action=settings.update").text)
    assert len(settings) == 3 and {a for _, a in settings} == {"settings.update"}
    by_cli = ENTRY.findall(client.get("/app/audit?who=cli").text)
    assert [a for _, a in by_cli] == ["dashboard_link.issue"]
    # Another store's action name is not a choice here, so it filters nothing away (no rows of theirs either).
    assert len(ENTRY.findall(client.get("/app/audit?action=referral.reject").text)) == 25
    assert len(ENTRY.findall(client.get(f"/app/audit?before={2**63}").text)) == 25  # past BIGINT: the newest


def test_inside_the_shopify_admin(dash, ctx):  # noqa: F811
    store = add_store("shopify")
    _rows(store, 2, "referral.approve", kind="shopify_user")
    part = dash.test_client().get("/app/audit", headers=bearer(SHOP))
    assert part.status_code == 200 and part.text.startswith('<div data-title="Audit log">')
    assert len(ENTRY.findall(part.text)) == 2 and "Shopify staff member" in part.text
