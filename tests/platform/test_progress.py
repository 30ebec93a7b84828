"""app/platform/progress.py: plain lines with counts, a rate and an estimate when not on a terminal; a bar on one."""

from __future__ import annotations

import io

from app.platform.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_at_start_every_interval_and_at_the_end():
    out, clock = io.StringIO(), Clock()
    with Progress("retry", 1000, unit="requeued", counts={"failed": 0}, every=5, stream=out, clock=clock) as progress:
        clock.now += 2
        progress.update(100, failed=1)  # 2 s after the first line: none
        clock.now += 3
        progress.update(advance=150, failed=2)  # 5 s: a line
        clock.now += 1
        progress.update(advance=50)
        clock.now += 5
        progress.update(advance=200)
    assert out.getvalue().splitlines() == [
        "retry: 0/1000 requeued (0%), failed 0; 0.0/s",
        "retry: 250/1000 requeued (25%), failed 2; 50/s, about 15 s left",
        "retry: 500/1000 requeued (50%), failed 2; 45/s, about 11 s left",
        "retry: 500/1000 requeued (50%), failed 2; 45/s in 11.0 s",
    ]


def test_without_a_total_no_share_and_no_estimate():
    out, clock = io.StringIO(), Clock()
    with Progress("scan", None, stream=out, every=0, clock=clock) as progress:
        clock.now += 4
        progress.update(20)
    assert out.getvalue().splitlines()[1:] == ["scan: 20 done; 5.0/s", "scan: 20 done; 5.0/s in 4.0 s"]


def test_a_terminal_gets_a_bar_not_lines():
    out = Terminal()
    with Progress("demo", 10, unit="sent", counts={"accepted": 0}, stream=out) as progress:
        progress.update(10, accepted=9)
    shown = out.getvalue()
    assert "demo" in shown and "10/10" in shown and "accepted 9" in shown
    assert "demo: " not in shown  # not the plain line
