"""The surprises' section of the dashboard's Programmes page: a threshold row saved through the admin API's own
code (the start stamped), a refused row answered beside its field with the admin API's message."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.stores.models import Store
from app.surprises.settings import get_settings
from tests.dashboard.test_programmes import _signed_in


def test_a_threshold_row_is_saved_and_a_bad_one_refused_beside_its_field(dash, ctx):
    store, client, token = _signed_in(dash)
    page = client.get("/app/programmes").text
    assert 'id="programme-surprises"' in page
    row = {"surprises-thresholds[]": "", "surprises-thresholds[0].order": "2",
           "surprises-thresholds[0].kind": "percentage", "surprises-thresholds[0].value": "15",
           "surprises-thresholds[0].segment": ""}  # fmt: skip
    answer = client.post("/app/programmes/surprises", data={"csrf_token": token, "surprises-enabled": "1", **row})
    assert answer.status_code == 303, answer.text[:500]
    db.session.expire_all()
    saved = get_settings(db.session.scalars(select(Store)).one())
    assert saved.enabled and saved.started_at is not None
    assert [(t.order, t.kind, str(t.value)) for t in saved.thresholds] == [(2, "percentage", "15")]
    bad = {**row, "surprises-thresholds[0].kind": "points"}  # points without their number
    answer = client.post("/app/programmes/surprises", data={"csrf_token": token, "surprises-enabled": "1", **bad})
    assert answer.status_code == 422
    beside = re.search(
        r'data-field="surprises-thresholds\[0\]\.points".*?<p class="ppe-field-error" id="[^"]+">([^<]*)</p>',
        answer.text,
        re.S,
    )
    assert beside is not None and "whole number" in beside[1]
