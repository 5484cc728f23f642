"""`bench.runs.evaluate.ReviewWriter`: reviews reach the run store soon after they arrive, even when a burst is
followed by minutes of silence (a protocol's chunk), so a killed run loses only what is in flight."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from bench.reviewing.parse import parse_review
from bench.runs.evaluate import ReviewWriter, RunClock
from bench.runs.store import RunStore


def _review(i: int):
    return parse_review(f'{{"verdict": "buggy", "p_buggy": 0.{i % 10}, "lines": [{i}], "explanation": "e", '
                        '"witness": null}')


def test_a_bursts_tail_is_written_without_waiting_for_the_next_review(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store.sqlite")
    writer = ReviewWriter(store, interval=0.05)
    keys = [f"k{i}" for i in range(16)]
    for i, k in enumerate(keys):  # a protocol chunk: 16 reviews at once, then nothing for minutes
        writer.put(k, f"c{i}", _review(i))
    other = RunStore(tmp_path / "store.sqlite")  # another connection: what a resumed process would read
    deadline = time.monotonic() + 120  # a stall guard, not a speed bound
    while len(other.reviews(keys)) < 16 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(other.reviews(keys)) == 16  # written while the writer is still open and no review followed
    writer.put("late", "c-late", _review(99))
    writer.close()
    assert set(other.reviews([*keys, "late"])) == {*keys, "late"}
    other.close()
    store.close()


class _FailingStore:
    """A store whose first write fails (a full disk); later writes succeed."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def put_reviews(self, rows) -> None:
        rows = list(rows)
        self.calls.append([k for k, _, _ in rows])
        if len(self.calls) == 1:
            raise OSError("disk full")


def test_a_failed_write_is_raised_by_close_after_the_rest_is_written() -> None:
    store = _FailingStore()
    writer = ReviewWriter(store, interval=0.01)  # type: ignore[arg-type]
    writer.put("a", "ca", _review(1))
    deadline = time.monotonic() + 120
    while not store.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    writer.put("b", "cb", _review(2))  # arrives after the thread stopped on the error
    with pytest.raises(OSError, match="disk full"):
        writer.close()
    assert store.calls[0] == ["a"] and store.calls[-1] == ["b"]


def test_run_clock_sums_invocations_and_leaves_out_the_gaps_between_them(tmp_path: Path, monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(sys.modules[RunClock.__module__].time, "time", lambda: now[0])
    store = RunStore(tmp_path / "store.sqlite")
    first = RunClock(store, "run", found_reviews=False)
    now[0] = 1060.0
    first.touch()  # a review stored at +60 s; then the process is killed (no end recorded)
    now[0] = 5000.0  # a new session, an hour later
    again = RunStore(tmp_path / "store.sqlite")
    second = RunClock(again, "run", found_reviews=True)  # its reviews are there now: they were counted
    now[0] = 5030.0
    second.touch()
    assert second.active_seconds() == 90.0
    assert len(second.segments) == 2
    other = RunClock(again, "another run", found_reviews=False)  # runs sharing a store keep their own clocks
    assert other.active_seconds() == 0.0
    store.close()
    again.close()


def test_run_clock_is_unknown_when_its_first_invocation_finds_reviews_from_unrecorded_work(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "store.sqlite")
    assert RunClock(store, "old run", found_reviews=True).active_seconds() is None
    assert RunClock(store, "old run", found_reviews=False).active_seconds() is None  # and stays unknown
    store.set_meta("clock:mangled", {"segments": "not a list"})
    assert RunClock(store, "mangled", found_reviews=False).active_seconds() == 0.0
    store.close()
