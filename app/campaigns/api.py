"""What other packages use of campaigns (one import point, .importlinter's public_api contract).

- Campaign, CampaignSend: the tables (a dashboard page reads them).
- preview(session, store, segment_key, now) -> {"audience", "eligible"} | None
- run_counts(session, store, campaign) -> per run: sent, held_quiet_hours, skipped_consent, capped, failed, pending
"""

from __future__ import annotations

from app.campaigns.models import Campaign, CampaignSend
from app.campaigns.service import preview, run_counts

__all__ = ["Campaign", "CampaignSend", "preview", "run_counts"]
