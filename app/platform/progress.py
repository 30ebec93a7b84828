"""The progress of a long command: a bar on a terminal, a plain line every few seconds anywhere else.

One class for every command (`flask demo`, `flask inbox retry`, `flask loyalty tiers apply`), so they all read the
same. On a terminal it is a rich progress bar (https://rich.readthedocs.io/en/stable/progress.html) redrawn in
place; piped into a log, a file or CI, a redrawn bar is either nothing or a wall of carriage returns, so it
prints a line at the start, every `every` seconds and at the end:

    demo: 1200/13000 sent (9%), accepted 1150, processed 900; 240/s, about 49 s left

Always on standard error, so a command's standard output (JSON) stays parseable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as Bar

#: Seconds between two lines when standard error is not a terminal.
EVERY_SECONDS = 10.0


class Progress:
    """`with Progress("demo", total, unit="sent", counts={"accepted": 0}) as p: p.update(done, accepted=n)`."""

    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        unit: str = "done",
        counts: dict[str, int] | None = None,
        every: float | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.every = EVERY_SECONDS if every is None else every
        self.stream = stream or sys.stderr
        self.clock = clock
        self.done = 0
        self.counts: dict[str, int] = dict(counts or {})
        self._bar: Bar | None = None
        self._task: TaskID | None = None
        self._started = self._last_line = 0.0

    def __enter__(self) -> Progress:
        self._started = self.clock()
        if self.stream.isatty():
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit + "{task.fields[counts]}"),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
            )
            self._bar = Bar(*columns, console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, counts=self._counts_text(), rate="")
        else:
            self._print()
        return self

    def update(self, done: int | None = None, *, advance: int = 0, total: int | None = None, **counts: int) -> None:
        """Set the count done (or add `advance` to it), the total if it changed, and named counts shown beside."""
        self.done = (self.done if done is None else done) + advance
        if total is not None:
            self.total = total
        self.counts.update(counts)
        if self._bar is not None and self._task is not None:
            text = self._counts_text()
            self._bar.update(self._task, completed=self.done, total=self.total, counts=text, rate=self._rate_text())
        elif self.clock() - self._last_line >= self.every:
            self._print()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        else:
            self._print(final=True)

    def line(self, final: bool = False) -> str:
        """The plain line: what is done of the total, the named counts, the rate and an estimate of what is left."""
        of = f"/{self.total}" if self.total is not None else ""
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        text = f"{self.label}: {self.done}{of} {self.unit}{share}{self._counts_text()}"
        elapsed = self.clock() - self._started
        if final:
            return f"{text}; {self._rate_text()} in {elapsed:.1f} s"
        left = self._seconds_left()
        return f"{text}; {self._rate_text()}" + (f", about {left:.0f} s left" if left is not None else "")

    def _counts_text(self) -> str:
        return "".join(f", {name} {value}" for name, value in self.counts.items())

    def _print(self, final: bool = False) -> None:
        self._last_line = self.clock()
        print(self.line(final), file=self.stream, flush=True)

    def _rate(self) -> float:
        elapsed = self.clock() - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    def _rate_text(self) -> str:
        return f"{self._rate():.0f}/s" if self._rate() >= 10 else f"{self._rate():.1f}/s"

    def _seconds_left(self) -> float | None:
        rate = self._rate()
        if self.total is None or rate <= 0:
            return None
        return max(0, self.total - self.done) / rate
