"""What other features use of reviews besides its __init__ (init_app, photo_storage): one import point (.importlinter's
public_api contract).

- order_review_url(store_id, order_platform_id, locale): the signed link to the order's review page (what the
  parcel card's QR code holds, app/inserts); valid for reviews/links.CARD_TTL_DAYS.
"""

from __future__ import annotations

from app.reviews.links import order_review_url

__all__ = ["order_review_url"]
