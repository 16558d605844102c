"""Reads of the queue order and the pause state (dynamodb/queue.py's SQLite twin).

Every read of `queue` is a range of its rank index (the UNIQUE constraint's), so a read costs
the rows it returns, and a position is an index count, whatever the queue length.
"""

import sqlite3
from collections.abc import Iterator, Sequence

from jobsched.adapters.cursors import foreign_cursor
from jobsched.adapters.sqlite.codec import decode_cursor, dump, encode_cursor, load
from jobsched.adapters.sqlite.db import Database
from jobsched.models import QueueEntry, QueueState
from jobsched.ports import Direction, QueuePage
from jobsched.ranks import JOBS_START, QueueRank

QUEUE_START = ""  # below every rank: a range from here reads the index from its first unit
ENTRIES_PAGE = 500
LIST_NAME = "queue.rank"  # in the cursor: the list that issued it (pages.list_name)


def band_end(band: str) -> str:
    """The least string above every rank in `band` (begins_with as a range)."""
    return band[:-1] + chr(ord(band[-1]) + 1)


def put_state(conn: sqlite3.Connection, state: QueueState) -> None:
    conn.execute("INSERT OR REPLACE INTO queue_state (id, doc) VALUES (1, ?)", (dump(state),))


def find_state(conn: sqlite3.Connection) -> QueueState:
    row = conn.execute("SELECT doc FROM queue_state WHERE id = 1").fetchone()
    return load(QueueState, row["doc"]) if row else QueueState()


COUNT_FROM_JOBS_START = "SELECT count(*) FROM queue WHERE rank BETWEEN ? AND ?"
COUNT_AFTER = "SELECT count(*) FROM queue WHERE rank > ? AND rank <= ?"


class SqliteQueueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _ranks(self, where: str, params: tuple[str, ...], order: str, limit: int) -> list[str]:
        with self.db.read("queue_ranks") as conn:
            rows = conn.execute(
                f"SELECT rank FROM queue WHERE {where} ORDER BY rank {order} LIMIT ?",  # noqa: S608 - clauses are ours
                (*params, limit),
            ).fetchall()
        return [row["rank"] for row in rows]

    def last_in_band(self, band: str) -> QueueRank | None:
        found = self._ranks("rank >= ? AND rank < ?", (band, band_end(band)), "DESC", 1)
        return QueueRank.parse(found[0]) if found else None

    def first_in_band(self, band: str) -> QueueRank | None:
        found = self._ranks("rank >= ? AND rank < ?", (band, band_end(band)), "ASC", 1)
        return QueueRank.parse(found[0]) if found else None

    def head(self, limit: int) -> list[QueueRank]:
        """The first jobs (pending reservations, ahead of them, are not counted)."""
        return [QueueRank.parse(r) for r in self._ranks("rank >= ?", (JOBS_START,), "ASC", limit)]

    def dispatch_head(self, limit: int) -> list[QueueEntry]:
        """The first units to dispatch, reservations first, with what the dispatcher needs."""
        with self.db.read("dispatch_head") as conn:
            rows = conn.execute(
                # The partial index holds no held row: held jobs cost this read nothing.
                "SELECT doc FROM queue INDEXED BY queue_dispatch "
                "WHERE rank >= ? AND held = 0 ORDER BY rank LIMIT ?",
                (QUEUE_START, limit),
            ).fetchall()
        return [load(QueueEntry, row["doc"]) for row in rows]

    def reservations(self) -> list[QueueEntry]:
        with self.db.read("reservations") as conn:
            rows = conn.execute(
                "SELECT doc FROM queue WHERE rank >= ? AND rank < ? ORDER BY rank",
                (QUEUE_START, JOBS_START),
            ).fetchall()
        return [load(QueueEntry, row["doc"]) for row in rows]

    def neighbour(self, rank: QueueRank, direction: Direction, skip: str) -> QueueRank | None:
        """The job just before or after `rank`, ignoring the job `skip` (the one being moved)."""
        if direction == "previous":
            found = self._ranks("rank < ?", (rank.key,), "DESC", 2)
        else:
            found = self._ranks("rank > ?", (rank.key,), "ASC", 2)
        ranks = [r for r in map(QueueRank.parse, found) if r.job_id != skip]
        if not ranks or ranks[0].is_reservation:
            return None  # reservations are not jobs: there is no job on that side
        return ranks[0]

    def rank_of(self, job_id: str) -> QueueRank | None:
        with self.db.read("rank_of") as conn:
            row = conn.execute("SELECT rank FROM queue WHERE unit_id = ?", (job_id,)).fetchone()
        return QueueRank.parse(row["rank"]) if row else None

    def position_of(self, rank: QueueRank) -> int:
        """1-based: the queued jobs up to this rank, itself included (BETWEEN is inclusive)."""
        with self.db.read("position_of") as conn:
            row = conn.execute(COUNT_FROM_JOBS_START, (JOBS_START, rank.key)).fetchone()
        return int(row[0])

    def positions_of(self, ranks: Sequence[QueueRank]) -> list[int]:
        """The positions of several jobs in one snapshot, in the order given: each count covers
        only the stretch after the previous rank, so a page costs about one count of the
        deepest job, not one per job."""
        keys = sorted({rank.key for rank in ranks})
        found: dict[str, int] = {}
        position, after = 0, None
        with self.db.read("positions_of") as conn:
            for key in keys:
                if after is None:
                    row = conn.execute(COUNT_FROM_JOBS_START, (JOBS_START, key)).fetchone()
                else:
                    row = conn.execute(COUNT_AFTER, (after, key)).fetchone()
                position += int(row[0])
                found[key], after = position, key
        return [found[rank.key] for rank in ranks]

    def page(self, limit: int, cursor: str | None) -> QueuePage:
        """The jobs in order; the cursor holds the last rank returned and its position."""
        key, offset = decode_cursor(cursor)
        clause, after = "rank >= ?", JOBS_START
        if key is not None:
            if len(key) != 2 or key[1] != LIST_NAME or not isinstance(key[0], str):
                raise foreign_cursor()
            clause, after = "rank > ?", max(key[0], JOBS_START)
        with self.db.read("queue_page") as conn:
            rows = conn.execute(
                f"SELECT rank, doc FROM queue WHERE {clause} ORDER BY rank LIMIT ?",  # noqa: S608 - clauses are ours
                (after, limit + 1),
            ).fetchall()
        page = rows[:limit]
        items = [(offset + i + 1, load(QueueEntry, row["doc"])) for i, row in enumerate(page)]
        next_cursor = None
        if len(rows) > limit and page:
            next_cursor = encode_cursor([page[-1]["rank"], LIST_NAME], offset + len(page))
        return items, next_cursor

    def entries(self) -> Iterator[QueueEntry]:
        cursor: str | None = None
        while True:
            items, cursor = self.page(ENTRIES_PAGE, cursor)
            yield from (entry for _, entry in items)
            if cursor is None:
                return

    def state(self) -> QueueState:
        with self.db.read("queue_state") as conn:
            return find_state(conn)

    def set_state(self, state: QueueState) -> QueueState:
        with self.db.write("set_queue_state") as conn:
            put_state(conn, state)
        return state
