"""The send journal: one SQLite file in the issue's build folder, so nobody gets it twice.

A *distribution* is one PDF sent to a list; its id is the PDF's SHA-256. Each recipient of
a distribution has one row and one state:

``pending``  not sent yet (also: a temporary failure that will be retried)
``sending``  written, durably, just *before* the DATA command; the message may now reach
             the server. A row still ``sending`` when a run starts is left over from a
             crash (SIGKILL, power loss) and becomes ``unknown``.
``sent``     written right after the server's 250 to the message.
``failed``   the server refused it (``last_code`` 5xx: permanent; 4xx: temporary, retries
             exhausted — a rerun tries those again).
``unknown``  the connection was lost after the message was handed over: the server may
             have accepted it. Retried only when the user says so (``--retry-unknown``).

Every change is its own committed transaction with ``synchronous=FULL``: a state that was
written survives a killed process and a power cut. A lock file stops two sends from
sharing one journal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .errors import NewsletterError, display_path

JOURNAL_NAME = "send-journal.sqlite"
STATES = ("pending", "sending", "sent", "failed", "unknown")

SCHEMA = """
CREATE TABLE IF NOT EXISTS distributions (
    id          TEXT PRIMARY KEY,         -- SHA-256 of the PDF
    pdf_name    TEXT NOT NULL,
    pdf_size    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    last_run_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS recipients (
    distribution TEXT NOT NULL REFERENCES distributions(id),
    email        TEXT NOT NULL,           -- lower-cased: the identity
    name         TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL CHECK (state IN
                     ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    message_id   TEXT,
    last_code    INTEGER,
    last_error   TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (distribution, email)
);
CREATE INDEX IF NOT EXISTS recipients_state ON recipients (distribution, state);
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Row:
    email: str
    name: str
    state: str
    attempts: int
    message_id: str | None
    last_code: int | None
    last_error: str | None


@dataclass(frozen=True)
class DistributionInfo:
    id: str
    pdf_name: str
    pdf_size: int
    created_at: str
    counts: dict[str, int]

    @property
    def started(self) -> bool:
        """Has anything possibly reached anyone?"""
        return any(self.counts.get(s, 0) for s in ("sent", "sending", "unknown"))


class JournalBusy(NewsletterError):
    """Another ``newsletter send`` holds the journal."""


class Journal:
    """The SQLite send journal (see the module documentation for the states)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = None
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)

    # -- locking ---------------------------------------------------------------------
    def lock(self) -> None:
        """Take the journal for this process; refuse if another send holds it."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        handle = open(lock_path, "a+")
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
            self._lock_file = handle
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise JournalBusy(f"another 'newsletter send' is using {display_path(self.path)}; "
                              "wait for it to finish (or stop it) and run again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.db.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- distributions ---------------------------------------------------------------
    def recover(self) -> int:
        """Rows left ``sending`` by a crash become ``unknown``; returns how many."""
        cur = self.db.execute(
            "UPDATE recipients SET state='unknown', updated_at=?, "
            "last_error=coalesce(last_error, 'interrupted while sending (crash or kill)') "
            "WHERE state='sending'", (_now(),))
        return cur.rowcount

    def info(self, dist_id: str) -> DistributionInfo | None:
        row = self.db.execute("SELECT id, pdf_name, pdf_size, created_at FROM distributions "
                              "WHERE id=?", (dist_id,)).fetchone()
        if row is None:
            return None
        counts = dict(self.db.execute("SELECT state, count(*) FROM recipients WHERE "
                                      "distribution=? GROUP BY state", (dist_id,)).fetchall())
        return DistributionInfo(*row, counts=counts)

    def latest(self) -> DistributionInfo | None:
        row = self.db.execute("SELECT id FROM distributions ORDER BY last_run_at DESC, "
                              "created_at DESC LIMIT 1").fetchone()
        return self.info(row[0]) if row else None

    def create(self, dist_id: str, pdf_name: str, pdf_size: int) -> None:
        now = _now()
        self.db.execute("INSERT INTO distributions VALUES (?, ?, ?, ?, ?)",
                        (dist_id, pdf_name, pdf_size, now, now))

    def touch(self, dist_id: str) -> None:
        self.db.execute("UPDATE distributions SET last_run_at=? WHERE id=?", (_now(), dist_id))

    # -- recipients ------------------------------------------------------------------
    def register(self, dist_id: str, recipients) -> None:
        """Add recipients not yet in the distribution as ``pending`` (one transaction)."""
        now = _now()
        with self._transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO recipients (distribution, email, name, state, updated_at) "
                "VALUES (?, ?, ?, 'pending', ?)",
                [(dist_id, r.key, r.name, now) for r in recipients])

    def rows(self, dist_id: str) -> dict[str, Row]:
        cur = self.db.execute("SELECT email, name, state, attempts, message_id, last_code, "
                              "last_error FROM recipients WHERE distribution=?", (dist_id,))
        return {r[0]: Row(*r) for r in cur}

    def mark_sending(self, dist_id: str, email: str, message_id: str) -> None:
        """Durably record that the message is about to be handed over (before DATA)."""
        self._set(dist_id, email, "sending", message_id=message_id, attempt=True)

    def mark(self, dist_id: str, email: str, state: str, code: int | None = None,
             error: str | None = None) -> None:
        if state not in STATES:
            raise ValueError(state)
        self._set(dist_id, email, state, code=code, error=error)

    def _set(self, dist_id, email, state, *, code=None, error=None, message_id=None,
             attempt=False) -> None:
        cur = self.db.execute(
            "UPDATE recipients SET state=?, updated_at=?, attempts=attempts+?, "
            "message_id=coalesce(?, message_id), last_code=coalesce(?, last_code), "
            "last_error=CASE WHEN ? = 'sent' THEN NULL ELSE coalesce(?, last_error) END "
            "WHERE distribution=? AND email=?",
            (state, _now(), 1 if attempt else 0, message_id, code, state, error, dist_id,
             email))
        if cur.rowcount != 1:
            raise RuntimeError(f"journal has no row for {email} in {dist_id[:12]}")

    @contextlib.contextmanager
    def _transaction(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")


def journal_path(out_dir: Path) -> Path:
    return Path(out_dir) / JOURNAL_NAME
