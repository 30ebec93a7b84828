"""What other features use of surveys: one import point (.importlinter's public_api contract).

- results(session, store, start, end) -> dict: the period's NPS, CSAT, response rate, comments, recoveries
"""

from __future__ import annotations

from app.surveys.results import results

__all__ = ["results"]
