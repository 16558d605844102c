"""What changed between two runs' outputs: a unified diff of one text artifact, or which of the
runs' artifacts differ, are the same, or are in one run only.

The diff reads from `against` (the earlier run, as a rerun's original) to `run`, as `git diff
against run` does. An artifact is named by its path under its run's outputs (`story.json`,
`cards/1.json`), which is the same in two runs of one template whatever folder or bucket each
wrote to; a bare file name that is unique in its run names it too.
"""

import difflib
import posixpath
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from jobsched.constants import MAX_DIFF_LINES, MAX_DIFF_READ_BYTES, MAX_DIFF_TEXT_BYTES
from jobsched.errors import (
    ContentTooLargeError,
    NotFoundError,
    NotTextError,
    PermissionDeniedError,
    ValidationFailedError,
)
from jobsched.jobs.runs import read_artifact
from jobsched.models import JobRun
from jobsched.ports import Stores

NO_FILE = "/dev/null"  # the side of a diff an artifact is missing from, as git writes it
NO_NEWLINE = "\\ No newline at end of file"


class ArtifactChange(StrEnum):
    IDENTICAL = "identical"
    CHANGED = "changed"
    ADDED = "added"  # in `run` only
    REMOVED = "removed"  # in `against` only
    UNREADABLE = "unreadable"  # one side could not be read (its detail says why)
    NOT_COMPARED = "not_compared"  # past the bound of bytes one comparison reads


@dataclass(frozen=True)
class ArtifactComparison:
    name: str
    change: ArtifactChange
    detail: str | None = None


@dataclass(frozen=True)
class RunsDiff:
    run: JobRun
    against: JobRun
    name: str | None  # the artifact asked for; None for the whole runs
    identical: bool
    artifacts: list[ArtifactComparison]
    diff: list[str] = field(default_factory=list)  # unified diff lines, without line ends
    truncated: bool = False  # the diff had more than MAX_DIFF_LINES lines


def diff_runs(stores: Stores, run_id: str, against_id: str, name: str | None = None) -> RunsDiff:
    """Both runs must exist (404). With `name`, that artifact's text diff (it must be in one
    run at least); without, every artifact of either run and how it changed."""
    run = stores.runs.get(run_id)
    against = stores.runs.get(against_id)
    if name is None:
        return _whole(stores, run, against)
    return _named(stores, run, against, name)


def artifact_path(run: JobRun, uri: str) -> str:
    """The artifact's path under its run's outputs: what follows `runs/<unit id>/` (and, for a
    local file, its `outputs/` folder); else its file name."""
    parts = urlsplit(uri)
    local = parts.scheme == "file"
    path = unquote(parts.path) if local else uri.partition("://")[2]
    segments = [segment for segment in path.split("/") if segment]
    units = [unit for unit in (run.run_id, run.group_id) if unit]
    for at in range(len(segments) - 2):
        if segments[at] == "runs" and segments[at + 1] in units:
            rest = segments[at + 2 :]
            if local and rest[0] == "outputs" and len(rest) > 1:
                rest = rest[1:]
            return "/".join(rest)
    return segments[-1] if segments else uri


def _paths(run: JobRun) -> dict[str, str]:
    """Each artifact's path and URI (the first of two that share a path)."""
    found: dict[str, str] = {}
    for uri in run.artifacts:
        found.setdefault(artifact_path(run, uri), uri)
    return found


def _find(run: JobRun, name: str) -> tuple[str, str] | None:
    """The (path, URI) `name` names in `run`: its path, or a file name no other shares."""
    paths = _paths(run)
    if name in paths:
        return name, paths[name]
    named = [path for path in paths if posixpath.basename(path) == name]
    if len(named) > 1:
        raise ValidationFailedError.on(
            "name", f"{name!r} names {len(named)} artifacts of run {run.run_id}: {named}; give one"
        )
    return (named[0], paths[named[0]]) if named else None


def _named(stores: Stores, run: JobRun, against: JobRun, name: str) -> RunsDiff:
    new, old = _find(run, name), _find(against, name)
    if new is None and old is None:
        listed = sorted(_paths(run) | _paths(against))
        raise NotFoundError(
            f"neither run {run.run_id} nor run {against.run_id} has an artifact {name!r}"
            f" (they have: {', '.join(listed) or 'none'})"
        )
    new_text = _text(stores, run, *new) if new else None
    old_text = _text(stores, against, *old) if old else None
    if new_text == old_text:
        change = ArtifactComparison(name, ArtifactChange.IDENTICAL)
        return RunsDiff(run, against, name, True, [change])
    from_file = f"{against.run_id}/{old[0]}" if old else NO_FILE
    to_file = f"{run.run_id}/{new[0]}" if new else NO_FILE
    lines = _unified(_lines(old_text or ""), _lines(new_text or ""), from_file, to_file)
    kind = ArtifactChange.ADDED if old is None else ArtifactChange.REMOVED
    if new and old:
        kind = ArtifactChange.CHANGED
    return RunsDiff(
        run,
        against,
        name,
        identical=False,
        artifacts=[ArtifactComparison(name, kind)],
        diff=lines[:MAX_DIFF_LINES],
        truncated=len(lines) > MAX_DIFF_LINES,
    )


def _text(stores: Stores, run: JobRun, path: str, uri: str) -> str:
    label = f"artifact {path!r} of run {run.run_id}"
    data = read_artifact(stores, uri, label)
    if len(data) > MAX_DIFF_TEXT_BYTES:
        raise ContentTooLargeError.on(
            "name",
            f"{label} has {len(data)} bytes; a diff compares at most {MAX_DIFF_TEXT_BYTES}"
            " a side (download it to compare it whole)",
        )
    try:
        if b"\0" in data:  # UTF-8 text has no NUL; a binary file may well decode without one
            raise UnicodeError("it holds NUL bytes")
        return data.decode("utf-8")
    except UnicodeError as exc:
        message = f"{label} is not UTF-8 text ({exc}): only text artifacts are compared"
        raise NotTextError.on("name", message) from exc


def _lines(text: str) -> list[str]:
    """The text's lines with their ends; only "\\n" ends one (str.splitlines also breaks at
    form feeds and other separators a file may hold inside a line)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _unified(old: list[str], new: list[str], from_file: str, to_file: str) -> list[str]:
    shown: list[str] = []
    for line in difflib.unified_diff(old, new, from_file, to_file):
        shown.append(line.removesuffix("\n"))
        if not line.endswith("\n"):  # a last line without its end: say so, as diff(1) does
            shown.append(NO_NEWLINE)
    return shown


def _whole(stores: Stores, run: JobRun, against: JobRun) -> RunsDiff:
    new, old = _paths(run), _paths(against)
    budget = MAX_DIFF_READ_BYTES
    changes: list[ArtifactComparison] = []
    for path in sorted(new | old):
        if path not in old:
            changes.append(ArtifactComparison(path, ArtifactChange.ADDED))
        elif path not in new:
            changes.append(ArtifactComparison(path, ArtifactChange.REMOVED))
        elif budget <= 0:
            unread = f"not read: a comparison reads at most {MAX_DIFF_READ_BYTES} bytes in all"
            changes.append(ArtifactComparison(path, ArtifactChange.NOT_COMPARED, unread))
        else:
            try:
                ours = read_artifact(stores, new[path], f"artifact {path!r} of run {run.run_id}")
                theirs = read_artifact(
                    stores, old[path], f"artifact {path!r} of run {against.run_id}"
                )
            except (NotFoundError, PermissionDeniedError, ContentTooLargeError) as exc:
                changes.append(ArtifactComparison(path, ArtifactChange.UNREADABLE, exc.detail))
                continue
            budget -= len(ours) + len(theirs)
            same = ArtifactChange.IDENTICAL if ours == theirs else ArtifactChange.CHANGED
            changes.append(ArtifactComparison(path, same))
    identical = all(c.change is ArtifactChange.IDENTICAL for c in changes)
    return RunsDiff(run, against, None, identical, changes)
