"""Run an asyncio backend from a synchronous caller: one loop in a background thread, results through a queue."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.models import Generation


class _Stop:
    """Sentinel: the background loop crashed with ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def drive_generations(n: int, start: Callable[[queue.SimpleQueue[Any]], Coroutine[Any, Any, None]], *, name: str,
                      poll_s: float = 0.5) -> Iterator[tuple[int, Generation]]:
    """Run ``start(results)`` on a fresh event loop in a background thread; yield what it puts in ``results``.

    Args:
        n: how many ``(index, generation)`` items the coroutine delivers; exactly that many are yielded.
        start: builds the coroutine, which puts ``(index, generation)`` tuples into the queue it is given.
        name: the backend, in the thread's name (``<name>-generate``) and in error messages.
        poll_s: how often to check, while waiting, that the thread is still alive.

    Yields:
        ``(index, generation)`` in completion order. Closing the iterator early cancels the coroutine
        and joins the thread.

    Raises:
        RuntimeError: the coroutine raised (chained from its error), or the thread ended before
            delivering ``n`` items.
    """
    results: queue.SimpleQueue[Any] = queue.SimpleQueue()
    loop = asyncio.new_event_loop()
    main = loop.create_task(start(results))
    thread = threading.Thread(target=_drive, args=(loop, main, results), name=f"{name}-generate", daemon=True)
    thread.start()
    try:
        remaining = n
        while remaining:
            try:
                item = results.get(timeout=poll_s)
            except queue.Empty:
                if not thread.is_alive() and results.empty():
                    raise RuntimeError(f"{name} backend thread ended without finishing") from None
                continue
            if isinstance(item, _Stop):
                raise RuntimeError(f"{name} backend crashed: {item.error!r}") from item.error
            remaining -= 1
            yield item
    finally:
        if thread.is_alive():
            try:
                loop.call_soon_threadsafe(main.cancel)
            except RuntimeError:  # loop already closed: the thread is finishing
                pass
        thread.join()


def _drive(loop: asyncio.AbstractEventLoop, main: asyncio.Task[None], results: queue.SimpleQueue[Any]) -> None:
    """Thread body: run ``main`` to completion (or cancellation), cancel what is left, then close the loop."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main)
    except asyncio.CancelledError:
        pass
    except BaseException as exc:  # noqa: BLE001 - reported to the consumer, which re-raises
        results.put(_Stop(exc))
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
