"""A stand-in's records made when asked for: a read-only list whose item i is `make(i)`, built on each access.

The bench's stand-ins hold a million orders this way (bench/history_import.py): built up front as Python objects
they took 6-16 GB (bench/README.md, "1,000,000 orders"), while a page, a slice or a file written line by line
needs only the items it shows. Items are in ascending order of their platform id (the generators number them so:
tests/inbox/history.py); `reversed()` is the same records newest first, as `order=desc` lists them. The stand-ins
take a `Generated` wherever they take a list of records, and page it without sorting or copying it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload


class Generated(Sequence[dict[str, Any]]):
    def __init__(self, count: int, make: Callable[[int], dict[str, Any]], *, positions: range | None = None) -> None:
        self.count, self.make = count, make
        self.positions = range(count) if positions is None else positions

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self.make(n) for n in self.positions[index]]
        return self.make(self.positions[index])  # range's own IndexError and negative indices

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self.make, self.positions)

    def reversed(self) -> Generated:
        """The same records, last first."""
        return Generated(self.count, self.make, positions=self.positions[::-1])


def by_id(items: Sequence[dict[str, Any]], *, descending: bool) -> Sequence[dict[str, Any]]:
    """Records ordered by their `id`: a Generated one is already ascending (a view, nothing built)."""
    if isinstance(items, Generated):
        return items.reversed() if descending else items
    return sorted(items, key=lambda item: item["id"], reverse=descending)
