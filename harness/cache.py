"""Execution cache in SQLite, keyed by a content hash of (job, limits, image digest)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


def connect_wal(path: str | Path) -> sqlite3.Connection:
    """An SQLite connection in WAL mode, shareable between threads (callers lock) and processes."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, timeout=60)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class ExecCache:
    """A thread-safe key -> JSON store; safe to share between processes (WAL)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = connect_wal(self.path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS exec_cache (key TEXT PRIMARY KEY, schema INTEGER NOT NULL, "
            "created REAL NOT NULL, result TEXT NOT NULL)"
        )
        self._db.commit()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        with self._lock:
            row = self._db.execute(
                "SELECT result FROM exec_cache WHERE key = ? AND schema = ?", (key, SCHEMA_VERSION)
            ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return json.loads(row[0])

    def put_many(self, items: list[tuple[str, Any]]) -> None:
        now = time.time()
        rows = [(k, SCHEMA_VERSION, now, json.dumps(v, allow_nan=False)) for k, v in items]
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO exec_cache VALUES (?, ?, ?, ?)", rows)
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM exec_cache").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
