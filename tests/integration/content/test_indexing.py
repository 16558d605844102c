"""Indexing a run's outputs: story and card files from file:// and s3:// artifacts, bad files
reported, near duplicates dropped under enable_dedup, and re-indexing idempotent."""

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from jobsched.adapters.aws.artifacts import S3ArtifactReader
from jobsched.constants import MAX_CONTENT_FILE_BYTES
from jobsched.content.indexing import (
    ArtifactReaders,
    FileArtifactReader,
    IndexResult,
    UnreadableArtifactError,
    index_outputs,
)
from jobsched.content.usecases import dedup_check
from jobsched.errors import ValidationFailedError
from jobsched.models.content import ContentKind, SourceKind
from jobsched.ports import Stores
from jobsched.ports.content import ContentStore
from jobsched.settings import Settings
from tests.support.content_samples import (
    LIGHTHOUSE,
    LIGHTHOUSE_AUTOMATED,
    OCTOPUS_HUNTING,
    card_data,
    card_from,
    story_data,
)

THRESHOLD = 0.5
BUCKET = "jobsched-artifacts-test"


@pytest.fixture
def store(stores: Stores) -> ContentStore:
    return stores.content


def write(directory: Path, relative: str, data: Any) -> str:
    path = directory / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path.resolve().as_uri()


def outputs(directory: Path, *items: dict[str, Any]) -> list[str]:
    uris = []
    for item in items:
        folder, ident = (
            ("stories", item["story_id"]) if "story_id" in item else ("cards", item["card_id"])
        )
        uris.append(write(directory, f"{folder}/{ident}.json", item))
    return uris


def index(
    store: ContentStore, artifacts: list[str], source_id: str = "run_1", **params: Any
) -> IndexResult:
    return index_outputs(
        store,
        FileArtifactReader(),
        source_kind=SourceKind.RUN,
        source_id=source_id,
        job_id="job_1",
        params=params,
        artifacts=artifacts,
        threshold=THRESHOLD,
    )


def test_story_and_card_files_are_stored_with_where_they_came_from(
    store: ContentStore, tmp_path: Path
) -> None:
    story, card = story_data("s"), card_data("c")
    log = write(tmp_path, "run.log", "not content")
    other_json = write(tmp_path, "meta/summary.json", {"x": 1})

    result = index(store, [*outputs(tmp_path, story, card), log, other_json])

    assert result.to_result() == {
        "stories": [story["story_id"]],
        "cards": [card["card_id"]],
        "duplicates": [],
        "invalid": [],
    }
    stored = store.get_story(story["story_id"])
    assert (stored.source_kind, stored.source_id, stored.job_id) == (
        SourceKind.RUN,
        "run_1",
        "job_1",
    )
    assert stored.title == story["title"]
    assert len(stored.sketch) == 64
    assert {item_id for item_id, _ in store.sketches(ContentKind.CARD)} == {card["card_id"]}
    assert len(store.by_source("run_1")) == 2


def test_files_in_nested_folders_count(store: ContentStore, tmp_path: Path) -> None:
    story = story_data("s")
    uri = write(tmp_path, f"out/topic a/stories/{story['story_id']}.json", story)  # a blank: %20

    assert index(store, [uri]).stories == [story["story_id"]]


def test_bad_files_are_reported_and_spare_the_others(store: ContentStore, tmp_path: Path) -> None:
    good = story_data("good")
    bad_json = write(tmp_path, "stories/sty_0000000000000001.json", "{not json")
    bad_card = write(
        tmp_path,
        "cards/crd_0000000000000002.json",
        {**card_data(), "card_id": "crd_0000000000000002", "facts": []},
    )
    misnamed = write(tmp_path, "stories/sty_0000000000000003.json", story_data("other"))
    missing = (tmp_path / "stories" / "sty_0000000000000004.json").as_uri()

    result = index(store, [bad_json, bad_card, misnamed, missing, *outputs(tmp_path, good)])

    assert result.stories == [good["story_id"]]
    errors = {entry["uri"]: entry["error"] for entry in result.invalid}
    assert list(errors) == [bad_json, bad_card, misnamed, missing]
    assert "Invalid JSON" in errors[bad_json]
    assert errors[bad_card].startswith("facts:")
    assert "is named 'sty_0000000000000003'" in errors[misnamed]
    assert "cannot read" in errors[missing]
    json.dumps(result.to_result())  # JSON-able


def test_a_story_file_holding_a_card_is_invalid(store: ContentStore, tmp_path: Path) -> None:
    card = card_data("c")
    uri = write(tmp_path, f"stories/{card['card_id']}.json", card)

    result = index(store, [uri])

    assert result.stories == result.cards == []
    assert "story_id: Field required" in result.invalid[0]["error"]


def test_without_enable_dedup_near_duplicates_are_kept(store: ContentStore, tmp_path: Path) -> None:
    first = story_data("a")
    near = story_data("b", text=LIGHTHOUSE.replace("winters", "years"))

    result = index(store, outputs(tmp_path, first, near))

    assert result.stories == [first["story_id"], near["story_id"]]
    assert result.duplicates == []


def test_enable_dedup_drops_a_near_duplicate_of_a_stored_item(
    store: ContentStore, tmp_path: Path
) -> None:
    original = story_data("a")
    index(store, outputs(tmp_path / "run1", original), source_id="run_1")
    near = story_data("b", text=LIGHTHOUSE.replace("winters", "years"))
    different = story_data("c", text=LIGHTHOUSE_AUTOMATED)

    result = index(
        store, outputs(tmp_path / "run2", near, different), source_id="run_2", enable_dedup=True
    )

    assert result.stories == [different["story_id"]]
    [duplicate] = result.duplicates
    assert duplicate["id"] == near["story_id"]
    assert duplicate["duplicate_of"] == original["story_id"]
    assert 0.9 < duplicate["similarity"] <= 1.0
    with pytest.raises(Exception, match="no story"):
        store.get_story(near["story_id"])


def test_enable_dedup_drops_a_near_duplicate_within_the_same_run(
    store: ContentStore, tmp_path: Path
) -> None:
    first = card_data("a")
    near = card_data("b", title="Eight arms and three hearts")
    other = card_from(OCTOPUS_HUNTING, "c")

    result = index(store, outputs(tmp_path, first, near, other), enable_dedup=True)

    assert result.cards == [first["card_id"], other["card_id"]]
    assert [(d["id"], d["duplicate_of"]) for d in result.duplicates] == [
        (near["card_id"], first["card_id"])
    ]


def test_dedup_compares_items_of_one_kind(store: ContentStore, tmp_path: Path) -> None:
    card = card_data("c")
    same_words = story_data("s", text="\n".join([card["title"], card["summary"], *card["facts"]]))

    result = index(store, outputs(tmp_path, card, same_words), enable_dedup=True)

    assert (result.cards, result.stories, result.duplicates) == (
        [card["card_id"]],
        [same_words["story_id"]],
        [],
    )


def test_reindexing_a_run_is_idempotent(store: ContentStore, tmp_path: Path) -> None:
    story, card = story_data("s"), card_data("c")
    artifacts = outputs(tmp_path, story, card)
    first = index(store, artifacts, enable_dedup=True)
    stored = store.get_story(story["story_id"])

    again = index(store, artifacts, enable_dedup=True)

    assert again.to_result() == first.to_result()
    assert again.duplicates == []  # not duplicates of themselves
    assert store.get_story(story["story_id"]) == stored  # indexed_at unchanged: not rewritten
    assert len(store.by_source("run_1")) == 2
    assert len(list(store.sketches(ContentKind.STORY))) == 1


def test_the_same_file_twice_in_the_list_counts_once(store: ContentStore, tmp_path: Path) -> None:
    uris = outputs(tmp_path, story_data("s"))

    assert len(index(store, uris * 2, enable_dedup=True).stories) == 1
    assert len(index(store, uris * 2, source_id="run_2").stories) == 1


def test_the_file_reader_refuses_other_schemes_and_big_files(tmp_path: Path) -> None:
    reader = FileArtifactReader()
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_CONTENT_FILE_BYTES + 1))

    for uri in ("s3://bucket/key.json", "file://elsewhere/x.json", big.as_uri()):
        with pytest.raises(UnreadableArtifactError):
            reader.read(uri)


# --- S3 ---------------------------------------------------------------------------------------


@pytest.fixture
def s3(dynamo: object) -> Any:
    """moto's S3 inside the same mock as the tables (the dynamo fixture's)."""
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def put_outputs(s3: Any, prefix: str, *items: dict[str, Any]) -> list[str]:
    uris = []
    for item in items:
        folder, ident = (
            ("stories", item["story_id"]) if "story_id" in item else ("cards", item["card_id"])
        )
        key = f"{prefix}/{folder}/{ident}.json"
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(item).encode())
        uris.append(f"s3://{BUCKET}/{key}")
    return uris


def test_s3_artifacts_are_indexed(store: ContentStore, s3: Any, settings: Settings) -> None:
    story, card = story_data("s"), card_data("c")
    uris = put_outputs(s3, "runs/run_1", story, card)
    missing = f"s3://{BUCKET}/runs/run_1/stories/sty_0000000000000009.json"
    no_bucket = "s3://no-such-bucket-here/stories/sty_000000000000000a.json"

    result = index_outputs(
        store,
        S3ArtifactReader(settings, s3),
        source_kind=SourceKind.RESERVATION,
        source_id="res_1",
        job_id=None,
        params={},
        artifacts=[*uris, missing, no_bucket],
        threshold=THRESHOLD,
    )

    assert (result.stories, result.cards) == ([story["story_id"]], [card["card_id"]])
    assert [entry["uri"] for entry in result.invalid] == [missing, no_bucket]
    assert "NoSuchKey" in result.invalid[0]["error"]
    stored = store.get_card(card["card_id"])
    assert (stored.source_kind, stored.source_id, stored.job_id) == (
        SourceKind.RESERVATION,
        "res_1",
        None,
    )


def test_s3_reader_makes_its_client_lazily_and_dedups(
    store: ContentStore, s3: Any, settings: Settings
) -> None:
    original, near = story_data("a"), story_data("b", text=LIGHTHOUSE.replace("storm", "gale"))
    reader = S3ArtifactReader(settings)  # no client given: made at the first read
    kwargs: dict[str, Any] = {
        "source_kind": SourceKind.RUN,
        "job_id": "job_2",
        "threshold": THRESHOLD,
    }

    index_outputs(
        store,
        reader,
        source_id="run_1",
        params={},
        artifacts=put_outputs(s3, "a", original),
        **kwargs,
    )
    result = index_outputs(
        store,
        reader,
        source_id="run_2",
        params={"enable_dedup": True},
        artifacts=put_outputs(s3, "b", near),
        **kwargs,
    )

    assert result.stories == []
    assert result.duplicates[0]["duplicate_of"] == original["story_id"]


def test_readers_by_scheme(
    store: ContentStore, s3: Any, settings: Settings, tmp_path: Path
) -> None:
    local, remote = story_data("local"), story_data("remote", text=LIGHTHOUSE_AUTOMATED)
    reader = ArtifactReaders({"file": FileArtifactReader(), "s3": S3ArtifactReader(settings, s3)})
    artifacts = [
        *outputs(tmp_path, local),
        *put_outputs(s3, "x", remote),
        "https://example.org/stories/sty_1.json",
    ]

    result = index_outputs(
        store,
        reader,
        source_kind=SourceKind.RUN,
        source_id="run_1",
        job_id=None,
        params={},
        artifacts=artifacts,
        threshold=THRESHOLD,
    )

    assert result.stories == [local["story_id"], remote["story_id"]]
    assert result.invalid[0]["error"].startswith("no reader for")


# --- the dedup check of one run's items -------------------------------------------------------


def test_dedup_check_compares_a_runs_items_with_every_other_stored_item(
    store: ContentStore, tmp_path: Path
) -> None:
    original, card = story_data("a"), card_data("c")
    near, other_card = (
        story_data("b", text=LIGHTHOUSE.replace("winters", "years")),
        card_from(OCTOPUS_HUNTING, "d"),
    )
    index(store, outputs(tmp_path / "1", original, card), source_id="run_1")
    index(store, outputs(tmp_path / "2", near, other_card), source_id="run_2")  # dedup off: kept

    check = dedup_check(store, "run_2", THRESHOLD)

    assert check["checked"] == 2
    assert check["threshold"] == THRESHOLD
    [duplicate] = check["duplicates"]
    assert (duplicate["id"], duplicate["duplicate_of"]) == (near["story_id"], original["story_id"])
    assert duplicate["similarity"] > 0.9
    back = dedup_check(store, "run_1", THRESHOLD)["duplicates"]
    assert [(d["id"], d["duplicate_of"]) for d in back] == [
        (original["story_id"], near["story_id"])
    ]
    assert dedup_check(store, "run_1", 1.0)["duplicates"] == []
    assert dedup_check(store, "run_404", THRESHOLD) == {
        "checked": 0,
        "duplicates": [],
        "threshold": THRESHOLD,
    }


def test_dedup_check_of_a_lone_item_finds_nothing(store: ContentStore, tmp_path: Path) -> None:
    index(store, outputs(tmp_path, story_data("a")))

    assert dedup_check(store, "run_1", THRESHOLD)["duplicates"] == []


def test_an_item_the_store_refuses_is_reported(store: ContentStore, tmp_path: Path) -> None:
    class Refusing:
        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        def put_story(self, story: Any) -> bool:
            raise ValidationFailedError(f"{story.story_id} is too large to store")

    story, card = story_data("s"), card_data("c")
    uris = outputs(tmp_path, story, card)

    result = index_outputs(
        Refusing(),  # type: ignore[arg-type]
        FileArtifactReader(),
        source_kind=SourceKind.RUN,
        source_id="run_1",
        job_id=None,
        params={"enable_dedup": True},
        artifacts=uris,
        threshold=THRESHOLD,
    )

    assert result.cards == [card["card_id"]]
    assert result.invalid == [
        {"uri": uris[0], "error": f"{story['story_id']} is too large to store"}
    ]
