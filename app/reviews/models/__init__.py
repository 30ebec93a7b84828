"""The review tables: requests timed to delivery, the reviews left, and the write-back outbox."""

from app.reviews.models.publication import ReviewPublication
from app.reviews.models.review import Review, ReviewRequest

__all__ = ["Review", "ReviewPublication", "ReviewRequest"]
