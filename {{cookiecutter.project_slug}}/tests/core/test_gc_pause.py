"""`collector_paused`: no collection inside the block; afterwards as before, its objects frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.core.gc_pause import collector_paused


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Leave the collector as the test found it."""
    was_enabled = gc.isenabled()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


@pytest.mark.usefixtures("collector_restored")
def test_the_block_runs_without_the_collector_which_comes_back_on() -> None:
    gc.enable()
    frozen_before = gc.get_freeze_count()
    with collector_paused():
        assert not gc.isenabled()
        made = [[index] for index in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(made)


@pytest.mark.usefixtures("collector_restored")
def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector_restored")
def test_the_collector_comes_back_on_when_the_block_raises() -> None:
    gc.enable()
    with pytest.raises(ImportError), collector_paused():
        raise ImportError("a module failed to load")
    assert gc.isenabled()
