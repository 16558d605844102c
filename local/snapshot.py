"""The local runtime's state across restarts: the emulator's tables saved to one JSON file.

The tables are read and put back by the DynamoDB adapter (jobsched/adapters/dynamodb/dump.py),
as DynamoDB JSON, so loading puts back exactly what the stores wrote. A save is atomic (a
temporary file in the same folder, fsync, rename): a crash mid-save leaves the last file whole.
A save is written only when two passes in a row read the same items (no torn transaction), and
otherwise waits for the next period.
"""

import json
import logging
import os
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from jobsched.adapters.dynamodb.client import Dynamo
from jobsched.adapters.dynamodb.dump import (
    SCAN_PASSES,
    ItemsRefusedError,
    Tables,
    TablesBusyError,
    entities,
    on_write,
    put_tables,
    scan_tables,
)

logger = logging.getLogger(__name__)

STATE_FILE = "state.json"  # in the data dir
FORMAT = 1
STOP_SAVE_ATTEMPTS = 3


class SnapshotError(Exception):
    """The saved state cannot be read or written; the message names the file."""


def write_snapshot(tables: Tables, path: Path) -> int:
    """Write the items atomically; returns how many."""
    document = {"format": FORMAT, "saved_at": datetime.now(UTC).isoformat(), "tables": tables}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed and renamed below
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            json.dump(document, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return sum(len(items) for items in tables.values())


def save_snapshot(dynamo: Dynamo, path: Path) -> int:
    """Save every table to `path`; returns the item count."""
    return write_snapshot(scan_tables(dynamo), path)


def read_snapshot(path: Path) -> Tables | None:
    """The saved tables, None when there is no file, or SnapshotError saying how to start
    afresh."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unreadable(path, exc.strerror or str(exc)) from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise _unreadable(path, f"not JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise _unreadable(path, f"format {found!r}, expected {FORMAT}")
    tables = document.get("tables")
    if not isinstance(tables, dict) or not all(
        isinstance(items, list) and all(isinstance(item, dict) for item in items)
        for items in tables.values()
    ):
        raise _unreadable(path, '"tables" is not a map of item lists')
    if unknown := sorted(set(tables) - entities()):
        raise _unreadable(path, f"unknown tables {', '.join(unknown)}")
    return tables


def _unreadable(path: Path, reason: str) -> SnapshotError:
    return SnapshotError(
        f"cannot load the saved local state {path}: {reason}. Move the file away, or start "
        "afresh with `jobsched local --reset` (which deletes it)."
    )


def load_snapshot(dynamo: Dynamo, path: Path) -> int:
    """Put the saved items back into the (fresh, empty) tables; returns how many (0 when
    there is no file)."""
    tables = read_snapshot(path)
    if tables is None:
        return 0
    try:
        return put_tables(dynamo, tables)
    except (ItemsRefusedError, TablesBusyError) as exc:
        raise _unreadable(path, str(exc)) from exc


class Snapshotter:
    """Saves the tables every `every_seconds` from a thread, and once more at stop. A period
    in which the runtime wrote nothing reads nothing (an idle runtime stays quiet); one whose
    tables equal the last save's writes no file."""

    def __init__(self, dynamo: Dynamo, path: Path, every_seconds: float) -> None:
        self.dynamo = dynamo
        self.path = path
        self.every_seconds = every_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved: Tables | None = None
        self.writes = 0  # the runtime's write calls so far
        self._saved_after = -1  # `writes` when the last save read the tables
        # The runtime's own writes all go through this client; a worker's heartbeats (its own
        # client) are not counted: a lease saved a period late is harmless.
        on_write(dynamo, self._count_write)

    def _count_write(self) -> None:
        self.writes += 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="snapshotter", daemon=True)
        self._thread.start()

    def save(self, passes: int = SCAN_PASSES) -> int:
        """Save now unless nothing changed since the last save; returns the item count."""
        tables = scan_tables(self.dynamo, passes)
        if tables != self._saved:
            write_snapshot(tables, self.path)
            self._saved = tables
        return sum(len(items) for items in tables.values())

    def _run(self) -> None:
        while not self._stopping.wait(self.every_seconds):
            writes = self.writes
            if writes == self._saved_after:
                continue  # nothing written since the last save
            try:
                self.save()
                self._saved_after = writes
            except TablesBusyError:
                logger.debug("state not saved: the tables kept changing; next time")
            except Exception:
                logger.exception("could not save the local state to %s", self.path)

    def stop(self) -> int | None:
        """Stop the thread and save one last time (the caller has stopped the writers);
        returns the item count, or None when the save failed (logged)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        for _ in range(STOP_SAVE_ATTEMPTS):
            try:
                count = self.save()
            except TablesBusyError:
                continue
            except Exception:
                logger.exception("could not save the local state to %s", self.path)
                return None
            logger.info("saved the local state (%d items) to %s", count, self.path)
            return count
        logger.error("could not save the local state to %s: the tables kept changing", self.path)
        return None
