"""A small product catalogue: what the messages need to show a product (title, image, link), per store.

Neither platform's order webhook carries product images (Shopify line items have product_id and title only),
so the review request job fetches the products of an order that are missing here or older than a TTL,
through the store's connector, and keeps them in this cache. A product the store no longer knows is kept as
a row with `found` false, so it is not asked again until the TTL passes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.platform.store_keys import StoreRow
from app.platform.types import BigId, UTCDateTime


class Product(StoreRow, Model):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("store_id", "product_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64))
    found: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str | None] = mapped_column(String(512))
    image_url: Mapped[str | None] = mapped_column(Text)  # https only (checked before it is stored)
    url: Mapped[str | None] = mapped_column(Text)  # the storefront page; None when unpublished
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
