"""The history runner eases Python's garbage collector while it runs (inbox/history_import.collector_eased) and
gives it back as it found it, also when the import raises; 0 leaves it alone."""

from __future__ import annotations

import gc

import pytest

from app.inbox.history_import import collector_eased


def test_the_collector_is_eased_during_the_import_and_restored_after_it():
    before = gc.get_threshold()
    with collector_eased(50_000):
        assert gc.get_threshold() == (50_000, *before[1:])
        assert gc.get_freeze_count() > 0  # what existed before is out of the collections
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # a cycle made during the import is still collectable
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_collector_is_restored_when_the_import_raises():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector_eased(50_000):
        raise RuntimeError("chunk failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_zero_leaves_the_collector_as_it_is():
    before = gc.get_threshold()
    with collector_eased(0):
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
