"""The loyalty tables: the points ledger and its per-customer cache, tiers, redemptions, the balance write-back."""

from app.loyalty.models.ledger import LoyaltyAccount, LoyaltyStoreState, LoyaltyTierChange, PointsDay, PointsLedger
from app.loyalty.models.redemption import LoyaltyWriteback, Redemption

__all__ = [
    "LoyaltyAccount",
    "LoyaltyStoreState",
    "LoyaltyTierChange",
    "LoyaltyWriteback",
    "PointsDay",
    "PointsLedger",
    "Redemption",
]
