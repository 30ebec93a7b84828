"""Starting due runs and walking their audience into batches (docs/campaigns.md, "Runs").

start_due: a campaign whose next_run_at passed gets run N+1, inserted under the unique (campaign_id, run) so two
schedulers start it once; the campaign's next time moves on (every_days) or it is finished (one-off).
fan_out: walks the segment's members at the run's as_of by customer id, BATCH_SIZE at a time; each step advances
the run's cursor with a compare-and-set and writes the batch in the same transaction, so a duplicated or retried
fan-out job never writes a batch twice, and a killed one resumes from the cursor. It does PAGES_PER_JOB steps and
hands over to a fresh job, so a million-customer segment is 2,000 batches over 10 fan-out jobs, not one job.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.campaigns.models import ACTIVE, FANNED, FANNING, FINISHED, Campaign, CampaignBatch, CampaignRun
from app.platform.sql import get_in_store, get_one_in_store, insert_row
from app.records.models import Customer
from app.segments import api as segments
from app.stores.models import Store

log = logging.getLogger(__name__)
BATCH_SIZE = 500
PAGES_PER_JOB = 200
DUE_PER_TICK = 50


def start_due(session: Session, now: datetime) -> list[int]:
    """Start every due run (at most DUE_PER_TICK); the new runs' ids. The caller commits."""
    due = select(Campaign).where(Campaign.status == ACTIVE, Campaign.next_run_at <= now)
    started = []
    for campaign in session.scalars(due.order_by(Campaign.next_run_at).limit(DUE_PER_TICK).with_for_update(
            skip_locked=True)).all():  # fmt: skip
        number = campaign.runs + 1
        run = CampaignRun(store_id=campaign.store_id, campaign_id=campaign.id, run=number, as_of=now, status=FANNING,
                          cursor=0, batches=0, attempts=0)  # fmt: skip
        if insert_row(session, run):
            started.append(run.id)
            log.info("campaigns.run_started", extra={"store_id": campaign.store_id, "campaign_id": campaign.id,
                                                     "run": number})  # fmt: skip
        campaign.runs = number
        if campaign.every_days is None:
            campaign.status, campaign.next_run_at = FINISHED, None
        else:
            step = timedelta(days=campaign.every_days)
            following = (campaign.next_run_at or now) + step
            while following <= now:  # the scheduler was down for a while: no burst of catch-up runs
                following += step
            campaign.next_run_at = following
    return started


def fan_out_step(session: Session, run_id: int, store_id: int) -> tuple[str, int | None]:
    """One page of the run's audience into a batch: ("batch", its id), ("done", None) when no member is left,
    ("stop", None) when the run is not fanning (cancelled, finished) or another job moved the cursor first.
    Commits."""
    run = get_in_store(session, CampaignRun, run_id, store_id)
    if run is None or run.status != FANNING:
        session.commit()
        return "stop", None
    store = session.get_one(Store, run.store_id)
    campaign = get_one_in_store(session, Campaign, run.campaign_id, store.id)
    definition = segments.find(session, store, campaign.segment_key)
    cursor = run.cursor
    ids: list[int] = []
    if campaign.status != "cancelled" and definition is not None:
        page = segments.member_ids(session, store, definition, run.as_of).where(Customer.id > cursor)
        ids = list(session.scalars(page.order_by(Customer.id).limit(BATCH_SIZE)))
    result = session.execute(
        update(CampaignRun)
        .where(
            CampaignRun.store_id == store.id,
            CampaignRun.id == run.id,
            CampaignRun.status == FANNING,
            CampaignRun.cursor == cursor,
        )
        .values(
            cursor=ids[-1] if ids else cursor,
            batches=CampaignRun.batches + (1 if ids else 0),
            status=FANNING if ids else FANNED,
        )  # fmt: skip
        .execution_options(synchronize_session=False)
    )
    # A twin of this job moved the cursor first (DML answers a CursorResult; execute() is typed Result).
    if cast("CursorResult[Any]", result).rowcount != 1:
        session.rollback()
        return "stop", None
    if not ids:
        session.commit()
        return "done", None
    batch = CampaignBatch(store_id=store.id, run_id=run.id, first_id=ids[0], last_id=ids[-1], status="pending",
                          attempts=0, next_attempt_at=run.as_of)  # fmt: skip
    if not insert_row(session, batch):  # (run_id, first_id) unique: written already, by a twin
        session.rollback()
        return "stop", None
    session.commit()
    return "batch", batch.id
