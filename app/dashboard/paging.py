"""Pages of rows for the dashboard's lists: `?page=N` over a store-scoped statement, with its count.

Offset paging: the lists it serves (a store's reviews waiting, its referrals of one status) are read a page or
two deep by a person, and "page 3 of 7" is what they need to see; the audit log pages by id instead
(app/admin/audit.page). The caller's statement carries the store filter and the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

PER_PAGE = 20
MAX_PAGE_NUMBER = 10_000  # a bigger number in the URL is the last page, not a slow query


@dataclass(frozen=True)
class Paged:
    rows: list[Any]
    number: int  # 1-based
    pages: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_number() -> int:
    value = request.args.get("page", "1")
    return min(int(value), MAX_PAGE_NUMBER) if value.isdigit() and int(value) > 0 else 1


def paginate(session: Session, stmt: Select[Any], *, per_page: int = PER_PAGE) -> Paged:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    number = min(page_number(), pages)
    rows = list(session.scalars(stmt.limit(per_page).offset((number - 1) * per_page)))
    return Paged(rows, number, pages, total)
