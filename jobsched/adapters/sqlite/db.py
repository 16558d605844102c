"""The SQLite database of the embedded default: one file, WAL, one connection per thread.

Every write is one `BEGIN IMMEDIATE` transaction, committed before the caller returns: the
write lock is taken at its start, so what a transaction reads it may rely on until it commits
(conditions are checked inside it, never before it). Readers never wait for a writer (WAL).

Durability: `synchronous=FULL` by default, so a committed transaction survives a power loss as
well as a crash of the process (docs/decisions.md, "The embedded store").
"""

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from jobsched.errors import UnavailableError

Synchronous = Literal["FULL", "NORMAL"]
BUSY_TIMEOUT_MS = 10_000  # another process (the CLI) may hold the write lock briefly
DB_FILE = "jobsched.db"


class Database:
    """The database file and this process's connections to it (one per thread)."""

    def __init__(self, path: Path | str, synchronous: Synchronous = "FULL") -> None:
        self.path = str(path)
        self.synchronous = synchronous
        self._local = threading.local()
        self._lock = threading.Lock()
        # This process's writers queue here, in turn, rather than in SQLite's busy handler,
        # which sleeps in growing steps (up to 100 ms) and so gave writes tails of a second.
        self._writer = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        # Transactions and reads by kind: store calls per operation are a budget, as on AWS.
        self.calls: Counter[str] = Counter()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        try:
            # Autocommit mode (isolation_level=None): transactions are begun explicitly.
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=0
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            conn.execute("PRAGMA foreign_keys = OFF")
        except sqlite3.Error as exc:
            raise UnavailableError(f"cannot open the database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        return conn

    @contextmanager
    def write(self, kind: str = "write") -> Iterator[sqlite3.Connection]:
        """One transaction holding the write lock: committed when the block ends, rolled back
        when it raises (whatever it raises)."""
        conn = self.connection()
        self.calls[kind] += 1
        with self._writer:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise UnavailableError("the database is busy; retry shortly") from exc
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                conn.rollback()
                raise UnavailableError("the database could not commit; retry") from exc

    @contextmanager
    def read(self, kind: str = "read") -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several statements (a deferred transaction)."""
        conn = self.connection()
        self.calls[kind] += 1
        if conn.in_transaction:  # nested in a write: it sees the write's own changes
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
