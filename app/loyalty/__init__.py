"""The loyalty programme: the points ledger, tiers, redemptions, the balance write-back and the storefront balance.

Other features call `app.loyalty.api`.
"""
