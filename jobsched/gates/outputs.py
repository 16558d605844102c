"""A run's output files as its checks see them: named by their path relative to the run's
output folder, read at most once each within the evaluation's bounds, as bytes, text or JSON."""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from jobsched.constants import GATE_MAX_BYTES, GATE_MAX_FILE_BYTES, GATE_MAX_FILES
from jobsched.errors import NotFoundError
from jobsched.ports.artifacts import ArtifactReader, UnreadableArtifactError


class NotMeasurableError(Exception):
    """The file cannot be checked (unreadable, too large, not text, not JSON, no such field);
    the message says why, in words that fit after the file's name."""


@dataclass(frozen=True)
class Output:
    uri: str
    path: str  # relative to the run's output folder, with / between folders


def relative_path(uri: str, root: str) -> str | None:
    """The artifact's path below `root` (the URI of the run's output folder), or None when it
    is not below it. A file:// URI is percent-encoded (Path.as_uri); an s3:// one holds its key
    as the worker wrote it, so only the former is decoded."""
    root = root if root.endswith("/") else root + "/"
    if not uri.startswith(root):
        return None
    rest = uri[len(root) :]
    path = unquote(rest) if urlsplit(root).scheme == "file" else rest
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        return None  # not a plain file below the folder: no glob names it
    return path


def run_outputs(artifacts: Iterable[str], root: str) -> list[Output]:
    """The run's artifacts below its output folder, each path once, in the order given."""
    found: dict[str, Output] = {}
    for uri in artifacts:
        path = relative_path(uri, root)
        if path is not None and path not in found:
            found[path] = Output(uri, path)
    return list(found.values())


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def field_value(document: Any, path: str) -> Any:
    """The value at a dotted path (a number indexes an array); NotMeasurableError if absent."""
    value = document
    for segment in path.split("."):
        if isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            raise NotMeasurableError(f"has no field {path}")
    return value


def field_text(document: Any, path: str) -> str:
    value = field_value(document, path)
    if not isinstance(value, str):
        raise NotMeasurableError(f"has {_json_type(value)} at {path}, not text")
    return value


@dataclass
class OutputFiles:
    """Reads each output once, within the bounds: the files past them are not read, and fail
    the checks that needed them (a gate passes only what it saw). A read that may succeed if
    tried again (a store hiccup) is raised, for the caller to retry the evaluation."""

    reader: ArtifactReader
    max_files: int = GATE_MAX_FILES
    max_file_bytes: int = GATE_MAX_FILE_BYTES
    max_bytes: int = GATE_MAX_BYTES
    files_read: int = 0
    bytes_read: int = 0
    _data: dict[str, bytes | NotMeasurableError] = field(default_factory=dict)
    _json: dict[str, Any] = field(default_factory=dict)

    def data(self, output: Output) -> bytes:
        if output.uri not in self._data:
            self._data[output.uri] = self._read(output.uri)
        found = self._data[output.uri]
        if isinstance(found, NotMeasurableError):
            raise found
        return found

    def _read(self, uri: str) -> bytes | NotMeasurableError:
        if self.files_read >= self.max_files:
            return NotMeasurableError(f"was not read: checks read at most {self.max_files} files")
        if self.bytes_read >= self.max_bytes:
            return NotMeasurableError(
                f"was not read: checks read at most {self.max_bytes} bytes of a run's outputs"
            )
        self.files_read += 1
        try:
            data = self.reader.read(uri)
        except (UnreadableArtifactError, NotFoundError) as exc:
            return NotMeasurableError(f"cannot be read: {exc}")
        self.bytes_read += len(data)
        if len(data) > self.max_file_bytes:
            return NotMeasurableError(f"is larger than the {self.max_file_bytes} bytes checks read")
        return data

    def text(self, output: Output) -> str:
        try:
            return self.data(output).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise NotMeasurableError(f"is not UTF-8 text (byte {exc.start})") from None

    def json(self, output: Output) -> Any:
        if output.uri not in self._json:
            try:
                self._json[output.uri] = json.loads(self.text(output))
            except NotMeasurableError as exc:
                self._json[output.uri] = exc
            except ValueError as exc:
                self._json[output.uri] = NotMeasurableError(f"is not JSON: {exc}")
            except RecursionError:
                self._json[output.uri] = NotMeasurableError("is JSON nested too deep to read")
        found = self._json[output.uri]
        if isinstance(found, NotMeasurableError):
            raise found
        return found
