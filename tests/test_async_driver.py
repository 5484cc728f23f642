"""The shared asyncio driver of the ``openai:`` and ``inspect:`` backends (:func:`bench.models.drive_generations`)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bench.models import Generation, drive_generations


def _alive(name: str) -> bool:
    return any(t.name == f"{name}-generate" for t in threading.enumerate())


@pytest.mark.timeout(30)
def test_a_crash_after_one_item_yields_it_then_names_the_backend():
    async def crash(results):
        results.put((0, Generation(text="first")))
        await asyncio.sleep(0)
        raise ZeroDivisionError("boom")

    it = drive_generations(2, crash, name="demo", poll_s=0.05)
    assert next(it) == (0, Generation(text="first"))
    with pytest.raises(RuntimeError, match=r"^demo backend crashed: ZeroDivisionError\('boom'\)") as info:
        next(it)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert not _alive("demo")


@pytest.mark.timeout(30)
def test_a_coroutine_that_returns_short_is_reported():
    async def short(results):
        results.put((1, Generation(text="only")))

    it = drive_generations(2, short, name="demo", poll_s=0.05)
    assert next(it)[0] == 1
    with pytest.raises(RuntimeError, match=r"^demo backend thread ended without finishing$"):
        next(it)


@pytest.mark.timeout(30)
def test_early_close_cancels_the_coroutine_and_joins_the_thread():
    cancelled = threading.Event()

    async def forever(results):
        results.put((0, Generation(text="first")))
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    it = drive_generations(5, forever, name="demo")
    assert next(it)[0] == 0
    assert _alive("demo")
    it.close()
    assert cancelled.is_set()
    assert not _alive("demo")
