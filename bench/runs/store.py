"""The run store: every review and every witness execution, recorded as it completes.

SQLite in WAL mode, keyed by content hash, so a run that is killed at any point
and started again with the same command asks nothing twice. Keys:

- review: ``sha256(reviewer fingerprint, request content hash)``, where the
  fingerprint covers the model identity, prompt template hash and decoding settings;
- witness check: ``sha256(task, reference, candidate code, witness, image digest)``.

Failed requests (no reply after retries) and infrastructure failures are not
stored, so a re-run asks for them again.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.reviewing.parse import Review
from harness.cache import connect_wal

SCHEMA_VERSION = 1
JSON_TABLES = ("generations", "labels")


def digest(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj``."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class RunStore:
    """Thread-safe, process-safe (WAL) store of reviews and witness checks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = connect_wal(self.path)
        self._db.executescript(
            "CREATE TABLE IF NOT EXISTS reviews (key TEXT PRIMARY KEY, candidate_id TEXT NOT NULL, "
            "  schema INTEGER NOT NULL, created REAL NOT NULL, review TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS witness_checks (key TEXT PRIMARY KEY, schema INTEGER NOT NULL, "
            "  created REAL NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, schema INTEGER NOT NULL, "
            "  created REAL NOT NULL, value TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS labels (key TEXT PRIMARY KEY, schema INTEGER NOT NULL, "
            "  created REAL NOT NULL, value TEXT NOT NULL);"
        )
        self._db.commit()

    def _get(self, sql: str, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows += self._db.execute(sql.format(marks=marks), (*chunk, SCHEMA_VERSION)).fetchall()
        return rows

    def reviews(self, keys: Sequence[str]) -> dict[str, Review]:
        """Stored reviews among ``keys``."""
        rows = self._get("SELECT key, review FROM reviews WHERE key IN ({marks}) AND schema = ?", keys)
        return {k: Review.model_validate_json(v) for k, v in rows}

    def put_reviews(self, rows: Iterable[tuple[str, str, Review]]) -> None:
        """Record ``(key, candidate_id, review)`` rows; reviews with a request error are skipped."""
        now = time.time()
        data = [(k, cid, SCHEMA_VERSION, now, r.model_dump_json()) for k, cid, r in rows if r.error is None]
        if data:
            with self._lock:
                self._db.executemany("INSERT OR IGNORE INTO reviews VALUES (?, ?, ?, ?, ?)", data)
                self._db.commit()

    def checks(self, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Stored witness checks among ``keys``: key -> (status, detail)."""
        rows = self._get("SELECT key, status, detail FROM witness_checks WHERE key IN ({marks}) AND schema = ?", keys)
        return {k: (s, d) for k, s, d in rows}

    def put_checks(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Record ``(key, status, detail)`` rows; ``infra`` outcomes are skipped."""
        now = time.time()
        data = [(k, SCHEMA_VERSION, now, s, d) for k, s, d in rows if s != "infra"]
        if data:
            with self._lock:
                self._db.executemany("INSERT OR IGNORE INTO witness_checks VALUES (?, ?, ?, ?, ?)", data)
                self._db.commit()

    def get_json(self, table: str, keys: Sequence[str]) -> dict[str, Any]:
        """Stored JSON values among ``keys`` in ``generations`` or ``labels``."""
        if table not in JSON_TABLES:
            raise ValueError(f"unknown table {table!r}; one of {JSON_TABLES}")
        rows = self._get(f"SELECT key, value FROM {table} WHERE key IN ({{marks}}) AND schema = ?", keys)
        return {k: json.loads(v) for k, v in rows}

    def put_json(self, table: str, rows: Iterable[tuple[str, Any]]) -> None:
        """Record ``(key, value)`` rows in ``generations`` or ``labels`` (first write wins)."""
        if table not in JSON_TABLES:
            raise ValueError(f"unknown table {table!r}; one of {JSON_TABLES}")
        now = time.time()
        data = [(k, SCHEMA_VERSION, now, json.dumps(v, sort_keys=True)) for k, v in rows]
        if data:
            with self._lock:
                self._db.executemany(f"INSERT OR IGNORE INTO {table} VALUES (?, ?, ?, ?)", data)
                self._db.commit()

    def get_meta(self, key: str) -> Any | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, sort_keys=True)))
            self._db.commit()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {t: int(self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
                    for t in ("reviews", "witness_checks", *JSON_TABLES)}

    def close(self) -> None:
        with self._lock:
            self._db.close()
