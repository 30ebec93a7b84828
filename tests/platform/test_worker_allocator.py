"""platform/jobs.fix_mmap_threshold: with it, a freed large block does not move the next ones into the heap."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# After an 8 MiB block is freed, glibc's dynamic threshold is 8 MiB: the next 1 MiB block comes from the heap
# (mmapped bytes unchanged) unless the threshold was fixed, in which case it is mmapped (and munmapped when freed).
SCRIPT = """
import ctypes, sys
from app.platform.jobs import fix_mmap_threshold

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                     "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
big = bytearray(8 << 20)
del big
before = libc.mallinfo2().hblkhd
block = bytearray(1 << 20)
print(libc.mallinfo2().hblkhd - before)
"""


def _mmapped_growth(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return int(out.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's M_MMAP_THRESHOLD is glibc's")
def test_a_fixed_threshold_keeps_large_blocks_out_of_the_heap():
    assert _mmapped_growth("default") < 1 << 20  # the dynamic threshold put the 1 MiB block in the heap
    assert _mmapped_growth("fixed") >= 1 << 20


def test_the_worker_fixes_it_when_it_builds_its_app(monkeypatch):
    from app.platform import jobs

    called: list[int] = []
    monkeypatch.setattr(jobs, "_app", None)
    monkeypatch.setattr(jobs, "fix_mmap_threshold", lambda: called.append(1) or True)
    monkeypatch.setattr(jobs, "_tune_gc", lambda: None)
    monkeypatch.setattr("app.create_app", lambda: object())
    jobs.job_app()
    assert called == [1]
