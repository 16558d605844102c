"""Run logs kept as files, `<data_dir>/runs/<unit id>/log.jsonl`, read from a byte offset.

The local executor writes each worker's stdout and stderr there. A run's `log_path` is recorded
only when the run ends, so while it runs the reader is given the run's id instead and derives
the path from it: that is why the layout depends on nothing but the id.
"""

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from jobsched.errors import ValidationFailedError

logger = logging.getLogger(__name__)

RUNS_DIR = "runs"
LOG_FILE = "log.jsonl"
OUTPUTS_DIR = "outputs"
WORKER_FILE = "worker.json"  # which process runs the unit, to find it again after a restart
# One read returns at most this many bytes of lines, so a response stays small however long
# the log is; a client follows with the next cursor.
MAX_READ_BYTES = 1024 * 1024
# A unit id names a folder: nothing that could step out of the runs folder.
UNIT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def run_dir(data_dir: Path, unit_id: str) -> Path:
    return data_dir / RUNS_DIR / unit_id


def log_file(data_dir: Path, unit_id: str) -> Path:
    return run_dir(data_dir, unit_id) / LOG_FILE


PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600  # params, logs and outputs are the owner's to read


def prepare_run_dir(data_dir: Path, unit_id: str) -> Path:
    """The unit's folder, its log and its outputs folder, made for their owner only (a log
    holds the job's params and whatever the workload prints); returns the outputs folder."""
    Path(data_dir).mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    unit = run_dir(Path(data_dir), unit_id)
    outputs = unit / OUTPUTS_DIR
    for folder in (unit.parent, unit, outputs):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        folder.chmod(PRIVATE_DIR)  # made before this rule, or under a looser umask
    fd = os.open(unit / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    os.close(fd)
    return outputs


class FileLogReader:
    """The LogReader of the local runtime. It never reads outside `<data_dir>/runs`."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._root = self.data_dir / RUNS_DIR

    def read(
        self, log_path: str | None, cursor: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """Up to `limit` whole lines from `cursor` on, and the cursor after them.

        `log_path` is a path the executor recorded, or a unit's id while its run is going. An
        unknown or absent log reads as empty, with the cursor unchanged so a client can keep
        following a run whose worker has not written yet.
        """
        offset = parse_cursor(cursor)
        path = self._locate(log_path)
        if path is None:
            return [], cursor
        try:
            with path.open("rb") as log:
                log.seek(offset)
                data = log.read(MAX_READ_BYTES)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return [], cursor
        lines, consumed = _whole_lines(data, limit)
        return lines, str(offset + consumed)

    def _locate(self, log_path: str | None) -> Path | None:
        if not log_path:
            return None
        if UNIT_ID.fullmatch(log_path):
            return log_file(self.data_dir, log_path)
        path = Path(log_path).resolve()
        return path if path.is_relative_to(self._root) else None


def parse_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValidationFailedError.on("cursor", "is not a cursor this log handed out")
    return int(cursor)


def _whole_lines(data: bytes, limit: int) -> tuple[list[str], int]:
    """Complete lines only (a line being written is returned once it ends), and bytes used."""
    lines: list[str] = []
    position = 0
    while len(lines) < limit:
        end = data.find(b"\n", position)
        if end < 0:
            break
        lines.append(_text(data[position:end]))
        position = end + 1
    if not lines and len(data) == MAX_READ_BYTES:
        # One line longer than a whole read: hand it out in pieces rather than never.
        return [_text(data)], len(data)
    return lines, position


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")


@dataclass(frozen=True)
class WorkerNote:
    pid: int
    created: float  # the process's start time: a pid reused by another process differs


def note_worker(unit_dir: Path, pid: int) -> None:
    """Record the worker's pid and start time beside its log (best effort: a worker whose
    note is missing is declared lost at the next start, never adopted by mistake)."""
    import psutil

    try:
        created = psutil.Process(pid).create_time()
        note = {"pid": pid, "created": created}
        (unit_dir / WORKER_FILE).write_text(json.dumps(note), encoding="utf-8")
    except psutil.NoSuchProcess:
        pass  # it has ended already: its log says how, and there is nothing left to adopt
    except (OSError, psutil.Error) as exc:
        logger.warning("cannot note worker pid %d in %s: %s", pid, unit_dir, exc)


def read_worker_note(unit_dir: Path) -> WorkerNote | None:
    try:
        data = json.loads((unit_dir / WORKER_FILE).read_text(encoding="utf-8"))
        return WorkerNote(int(data["pid"]), float(data["created"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
