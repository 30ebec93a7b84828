"""The friend's invite (and with it the single-use discount code a job creates at the store), made only when the
friend asks for it.

Why on a POST and not on the share link's GET: link previewers (chat apps, social networks), mail scanners and
bots open every link they see, and each GET without our cookie used to leave one more coupon in the merchant's
store. A GET of `/ref/<code>` now reads only (it shows the friend's code when their cookie names one); the
page's button POSTs, and that press makes the invite. We keep one code per friend rather than one shared code
per referrer (see service.py: a shared code leaks to coupon sites, cannot be single-use and attributes nothing).

The presses are capped, both counted under the referrer's lock (app/platform/guards.lock_customer: the counts
and the insert are one critical section, so two concurrent presses cannot both see room):
- per visitor (the keyed hash of the IP): at most FRIEND_CODES_PER_VISITOR new codes per link in CAP_WINDOW;
  past it, the visitor's newest invite is shown again (a script or a cookie-less browser gets its code back);
- per link: at most the `friend_codes_per_day` setting (0: no cap) in CAP_WINDOW; past it, LinkBusy (429).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import AppError
from app.platform.guards import lock_customer
from app.platform.sql import insert_row
from app.platform.types import utcnow
from app.records.models.customer import normalise_email
from app.referrals.models import ReferralCode, ReferralInvite
from app.referrals.service import invite_by_token, new_code, read_landing_token
from app.referrals.settings import get_settings
from app.stores.models import Store

FRIEND_CODES_PER_VISITOR = 3  # a household or an office shares an address; a script gets its code back
CAP_WINDOW = timedelta(days=1)


class LinkBusy(AppError):
    """The link made its daily number of friend codes: the friend tries again later."""

    status, code = 429, "link_busy"


def _friend_key(email: str | None) -> str | None:
    key = normalise_email(email)
    return hashlib.sha256(key.encode()).hexdigest() if key else None


def find_invite(session: Session, store: Store, code: ReferralCode, landing_token: str | None) -> ReferralInvite | None:
    """The invite the friend's cookie names, if it came through this link (read only: the GET's lookup)."""
    nonce = read_landing_token(store, landing_token)
    found = invite_by_token(session, store, nonce) if nonce else None
    return found if found is not None and found.referral_code_id == code.id else None


def _by_email(session: Session, store: Store, code: ReferralCode, friend_key: str) -> ReferralInvite | None:
    stmt = select(ReferralInvite).where(
        ReferralInvite.store_id == store.id,
        ReferralInvite.referral_code_id == code.id,
        ReferralInvite.friend_key == friend_key,
    )
    return session.scalar(stmt)


def _within_caps(
    session: Session, store: Store, code: ReferralCode, ip_hash: str | None, now: datetime
) -> ReferralInvite | None:
    """Under the referrer's lock: the visitor's newest invite when they are at their cap, else None (room for
    one more); LinkBusy when the link is at its daily cap."""
    lock_customer(session, store.id, code.customer_id)
    recent = (
        ReferralInvite.store_id == store.id,
        ReferralInvite.referral_code_id == code.id,
        ReferralInvite.created_at >= now - CAP_WINDOW,
    )
    if ip_hash:
        stmt = select(ReferralInvite).where(*recent, ReferralInvite.ip_hash == ip_hash)
        mine = session.scalars(stmt.order_by(ReferralInvite.id.desc()).limit(FRIEND_CODES_PER_VISITOR)).all()
        if len(mine) >= FRIEND_CODES_PER_VISITOR:
            return mine[0]
    cap = get_settings(store).friend_codes_per_day
    if cap and (session.scalar(select(func.count(ReferralInvite.id)).where(*recent)) or 0) >= cap:
        raise LinkBusy("this link has made all its friend codes for today; try again tomorrow")
    return None


def record_landing(
    session: Session,
    store: Store,
    code: ReferralCode,
    *,
    landing_token: str | None = None,
    email: str | None = None,
    ip_hash: str | None = None,
    ua_hash: str | None = None,
    now: datetime | None = None,
) -> tuple[ReferralInvite, bool]:
    """The friend's invite and whether it is new: found by their landing token (a return visit) or e-mail,
    else the visitor's newest when they are at their cap, else created (LinkBusy when the link is at its)."""
    friend_key = _friend_key(email)
    found = find_invite(session, store, code, landing_token)
    if found is None and friend_key:
        found = _by_email(session, store, code, friend_key)
    if found is None:
        found = _within_caps(session, store, code, ip_hash, now or utcnow())
    if found is not None:
        if friend_key and found.friend_key is None:
            found.friend_key = friend_key
            session.flush()
        return found, False
    invite = ReferralInvite(
        store_id=store.id,
        referral_code_id=code.id,
        token=secrets.token_urlsafe(18),
        friend_key=friend_key,
        ip_hash=ip_hash,
        ua_hash=ua_hash,
        discount_code=f"FRIEND-{new_code(10)}",
        discount_status="pending",
        attempts=0,
    )
    if not insert_row(session, invite):  # the same e-mail landed concurrently: theirs wins
        theirs = _by_email(session, store, code, friend_key) if friend_key else None
        if theirs is None:  # a random token and code do not collide; only the e-mail can
            raise RuntimeError("a friend's invite collided and cannot be found")
        return theirs, False
    return invite, True
