"""Indexing of a run's outputs: the story and card files a workload wrote become stored items.

A workload writes `stories/<story_id>.json` and `cards/<card_id>.json` under its output dir;
they reach us as the run's artifact URIs (s3:// on AWS, file:// locally). Indexing reads each,
validates it against the file contract, sketches its text and stores it, reporting what it
could not read instead of raising, so one bad file spares the others. With the job's
`enable_dedup` param on, an item too similar to a stored one of its kind, or to one accepted
earlier in the same call, is dropped and reported.

Re-indexing a run is idempotent: its items are already stored, so they are neither compared
with themselves nor written again.
"""

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit
from urllib.request import url2pathname

from pydantic import ValidationError

from jobsched.constants import MAX_CONTENT_FILE_BYTES
from jobsched.content.schemas import problems_of
from jobsched.content.similarity import Sketch, most_similar, sketch
from jobsched.errors import ValidationFailedError
from jobsched.models.content import (
    ContentKind,
    ResearchCard,
    SourceKind,
    StoredCard,
    StoredStory,
    Story,
    compared_text,
)
from jobsched.ports.artifacts import (
    ArtifactReader,
    ArtifactRefusedError,
    ArtifactTooLargeError,
    UnreadableArtifactError,
)
from jobsched.ports.content import ContentStore

# .../stories/<id>.json or .../cards/<id>.json, at any depth under the output dir
CONTENT_PATH = re.compile(r"/(?P<folder>stories|cards)/(?P<name>[^/]+)\.json$")
FOLDERS = {"stories": ContentKind.STORY, "cards": ContentKind.CARD}

__all__ = [
    "ArtifactReader",
    "ArtifactReaders",
    "FileArtifactReader",
    "UnreadableArtifactError",
    "checked_size",
    "index_outputs",
]


class FileArtifactReader:
    """file:// URIs: the local runtime's outputs. With a `root`, only files inside it are read
    (the path resolved, symlinks followed first): a worker wrote the URI."""

    def __init__(self, root: Path | None = None, limit: int = MAX_CONTENT_FILE_BYTES) -> None:
        self.root = root.resolve() if root is not None else None
        self.limit = limit

    def read(self, uri: str) -> bytes:
        parts = urlsplit(uri)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise UnreadableArtifactError(f"not a local file URI: {uri}")
        path = Path(url2pathname(parts.path))
        try:
            if self.root is not None:
                # Refused before it is looked for: whether a file outside exists is not said.
                path = path.resolve()
                if not path.is_relative_to(self.root):
                    raise ArtifactRefusedError(f"{uri} is outside this runtime's runs folder")
            # No following a link put in the resolved path's place since (where the OS can).
            flags = os.O_RDONLY | (getattr(os, "O_NOFOLLOW", 0) if self.root is not None else 0)
            with os.fdopen(os.open(path, flags), "rb") as file:
                data = file.read(self.limit + 1)
        except OSError as exc:
            raise UnreadableArtifactError(f"cannot read {uri}: {exc.strerror}") from exc
        return checked_size(uri, data, self.limit)


def checked_size(uri: str, data: bytes, limit: int = MAX_CONTENT_FILE_BYTES) -> bytes:
    if len(data) > limit:
        raise ArtifactTooLargeError(f"{uri} is larger than {limit} bytes")
    return data


class ArtifactReaders:
    """One reader per URI scheme (file, s3): a run's artifacts are all of one kind, but which
    one depends on where it ran."""

    def __init__(self, readers: Mapping[str, ArtifactReader]) -> None:
        self.readers = dict(readers)

    def read(self, uri: str) -> bytes:
        reader = self.readers.get(urlsplit(uri).scheme)
        if reader is None:
            raise UnreadableArtifactError(f"no reader for {uri}")
        return reader.read(uri)


class Duplicate(TypedDict):
    id: str
    duplicate_of: str
    similarity: float


class Invalid(TypedDict):
    uri: str
    error: str


@dataclass
class IndexResult:
    stories: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)

    def to_result(self) -> dict[str, Any]:
        """JSON-able: what a reservation's `result` holds."""
        return {
            "stories": list(self.stories),
            "cards": list(self.cards),
            "duplicates": [dict(duplicate) for duplicate in self.duplicates],
            "invalid": [dict(invalid) for invalid in self.invalid],
        }

    def ids(self, kind: ContentKind) -> list[str]:
        return self.stories if kind is ContentKind.STORY else self.cards


def content_artifacts(artifacts: Iterable[str]) -> list[tuple[str, ContentKind, str]]:
    """(uri, kind, file stem) of each artifact that is a story or card file."""
    found = []
    for uri in artifacts:
        match = CONTENT_PATH.search(urlsplit(uri).path)
        if match:
            found.append((uri, FOLDERS[match["folder"]], match["name"]))
    return found


def describe(error: ValidationError) -> str:
    return "; ".join(
        f"{problem.field}: {problem.message}" if problem.field else problem.message
        for problem in problems_of(error)
    )


def parse(data: bytes, kind: ContentKind, stem: str) -> Story | ResearchCard:
    """The item in a file, or ValueError saying why it is not a valid one."""
    model = Story if kind is ContentKind.STORY else ResearchCard
    try:
        item: Story | ResearchCard = model.model_validate_json(data)
    except ValidationError as exc:
        raise ValueError(describe(exc)) from exc
    ident = item.story_id if isinstance(item, Story) else item.card_id
    if ident != stem:
        raise ValueError(f"the file is named {stem!r} but holds {ident!r}")
    return item


@dataclass
class Known:
    """The sketches an item is compared with: the stored ones of its kind, read once per call,
    and the ones accepted earlier in this call."""

    store: ContentStore
    sketches: dict[ContentKind, dict[str, Sketch]] = field(default_factory=dict)

    def of(self, kind: ContentKind) -> dict[str, Sketch]:
        if kind not in self.sketches:
            self.sketches[kind] = dict(self.store.sketches(kind))
        return self.sketches[kind]

    def duplicate(
        self, kind: ContentKind, ident: str, item: Sketch, threshold: float
    ) -> Duplicate | None:
        known = self.of(kind)
        if ident in known:  # stored already (a re-index): it stays, and is not its own duplicate
            return None
        best = most_similar(item, known.items())
        if best is None or best[1] < threshold:
            return None
        return Duplicate(id=ident, duplicate_of=best[0], similarity=round(best[1], 4))

    def accept(self, kind: ContentKind, ident: str, item: Sketch) -> None:
        self.of(kind)[ident] = item


def store_item(store: ContentStore, item: Story | ResearchCard, indexed: dict[str, Any]) -> None:
    if isinstance(item, Story):
        store.put_story(StoredStory.model_validate({**item.model_dump(), **indexed}))
    else:
        store.put_card(StoredCard.model_validate({**item.model_dump(), **indexed}))


def index_outputs(
    store: ContentStore,
    reader: ArtifactReader,
    *,
    source_kind: SourceKind,
    source_id: str,
    job_id: str | None,
    params: Mapping[str, Any],
    artifacts: Iterable[str],
    threshold: float,
) -> IndexResult:
    result = IndexResult()
    known = Known(store) if params.get("enable_dedup") else None
    for uri, kind, stem in content_artifacts(artifacts):
        try:
            item = parse(reader.read(uri), kind, stem)
        except (UnreadableArtifactError, ValueError) as exc:
            result.invalid.append(Invalid(uri=uri, error=str(exc)))
            continue
        if stem in result.ids(kind):
            continue  # the same file twice in the list
        item_sketch = sketch(compared_text(item))
        if known is not None:
            duplicate = known.duplicate(kind, stem, item_sketch, threshold)
            if duplicate is not None:
                result.duplicates.append(duplicate)
                continue
        indexed = {"source_kind": source_kind, "source_id": source_id, "job_id": job_id}
        try:
            store_item(store, item, {**indexed, "sketch": item_sketch})
        except ValidationFailedError as exc:  # too large for the store
            result.invalid.append(Invalid(uri=uri, error=exc.detail))
            continue
        if known is not None:
            known.accept(kind, stem, item_sketch)
        result.ids(kind).append(stem)
    return result
