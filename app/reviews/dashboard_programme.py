"""Review requests' section of the dashboard's Programmes page (app/dashboard/programmes.py): timing, the
reminder, the incentive and the moderation threshold, checked and saved by the admin API's own code
(settings.check_update, admin.save_review_settings). The widget shows a sample product's reviews as they would
be published: ratings below the threshold are held for moderation, so they leave the summary and the list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from app.dashboard.forms import BOOL, CHOICE, INT, TEXT
from app.dashboard.i18n import N_, gettext
from app.dashboard.programmes import Preview, Programme, register_programme
from app.dashboard.registry import add_template_folder
from app.reviews.admin import save_review_settings
from app.reviews.settings import ReviewSettings, as_json, check_update, review_settings
from app.stores.models import Store

#: The sample product's reviews: (rating, title, text, days ago).
SAMPLES = (
    (5, "Love it", "Fits perfectly and arrived early.", 3),
    (4, "Very good", "Nice quality, the colour is a little darker than on the photo.", 9),
    (5, "Second one already", "Bought another for my sister.", 15),
    (3, "It's fine", "Does the job.", 21),
    (2, "Too small", "Runs a size small.", 30),
)
KINDS = {
    "enabled": BOOL,
    "mode": CHOICE,
    "delay_days": INT,
    "fallback_days": INT,
    "reminder_days": INT,
    "max_per_customer_30d": INT,
    "incentive": TEXT,
    "auto_publish_threshold": INT,
    "max_photos": INT,
}


def _current(store: Store) -> dict[str, Any]:
    return as_json(review_settings(store))


def _preview(store: Store, settings: ReviewSettings, preview: Preview) -> None:
    now = datetime.now(UTC)
    shown = [s for s in SAMPLES if s[0] >= settings.auto_publish_threshold]
    preview.reviews = [
        {"id": i + 1, "rating": rating, "title": title, "body": body, "display_name": "Sample shopper",
         "verified": True, "published_at": (now - timedelta(days=age)).isoformat(), "photo_urls": [],
         "merchant_reply": None}
        for i, (rating, title, body, age) in enumerate(shown)
    ]  # fmt: skip
    if shown:
        average = (Decimal(sum(s[0] for s in shown)) / len(shown)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        distribution = {str(n): sum(1 for s in shown if s[0] == n) for n in range(1, 6)}
        preview.summary = {"count": len(shown), "average": str(average), "distribution": distribution}
    if not settings.enabled:
        preview.notes.append(gettext("Review requests are off: no e-mail asks for a review."))
        return
    preview.notes.append(
        gettext(
            "A review request goes out %(delay)s days after delivery, a reminder %(reminder)s days later if no "
            "review came.",
            delay=settings.delay_days,
            reminder=settings.reminder_days,
        )  # fmt: skip
    )
    if settings.auto_publish_threshold > 5:
        preview.notes.append(gettext("Every review waits for your approval."))
    else:
        preview.notes.append(
            gettext(
                "Reviews of %(stars)s stars and more are published at once; the others wait for your approval.",
                stars=settings.auto_publish_threshold,
            )  # fmt: skip
        )
    if settings.incentive:
        preview.notes.append(gettext("The review form offers: %(incentive)s", incentive=settings.incentive))


def register() -> None:
    add_template_folder("reviews", Path(__file__).resolve().parent / "templates")
    register_programme(
        Programme(
            key="reviews",
            title=N_("Review requests"),
            order=30,
            template="reviews_dashboard/programme.html",
            kinds=KINDS,
            current=_current,
            check=check_update,
            save=save_review_settings,
            preview=_preview,
        )
    )
