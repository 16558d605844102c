"""story_generation and research through the worker's entrypoint, with the offline provider:
the files' exact shape, ids that a rerun repeats, bad params, and a stop between stories."""

import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from worker.config import EXIT_STOPPED
from worker.context import WorkloadContext
from worker.events import EventLog
from worker.providers import Completion, CompletionRequest, OfflineProvider
from worker.workloads import story_generation

from tests.support.file_contract import (
    DEFAULT_MODEL,
    check_card,
    check_story,
    expected_id,
    without_times,
    written,
)
from tests.support.texts import jaccard
from tests.support.worker_harness import UNIT_ID, Exited, run_worker, unit_env


def run(workload: str, out: Path, unit_id: str = UNIT_ID, **params: object) -> Exited:
    return run_worker({**unit_env(workload, out, **params), "JOBSCHED_UNIT_ID": unit_id})


# -- story_generation -----------------------------------------------------------------------


def test_stories_have_the_exact_shape_and_ids_from_the_unit(tmp_path: Path) -> None:
    card_id = "crd_0123456789abcdef"
    done = run(
        "story_generation", tmp_path, max_stories=3, topic="lighthouse keepers", genre="mystery",
        card_id=card_id,
    )  # fmt: skip

    assert done.code == 0, done.events
    assert done.stderr == ""
    stories = written(tmp_path, "stories")
    assert sorted(stories) == sorted(expected_id("sty_", UNIT_ID, i) for i in range(3))
    for story in stories.values():
        check_story(story)
        assert story["topic"] == "lighthouse keepers"
        assert story["genre"] == "mystery"
        assert story["card_id"] == card_id
        assert story["model"] == DEFAULT_MODEL
        assert story["provider"] == "offline"
        assert "lighthouse keepers" in story["text"].lower()
    generating = done.first("generating")
    assert generating["seed"] == UNIT_ID
    assert generating["enable_dedup"] is True
    assert generating["provider"] == "offline"
    progress = done.named("progress")
    assert [(e["done"], e["total"]) for e in progress] == [(1, 3), (2, 3), (3, 3)]
    assert [e["story_id"] for e in progress] == [expected_id("sty_", UNIT_ID, i) for i in range(3)]
    assert len(done.first("artifacts")["artifacts"]) == 3


def test_the_defaults_give_one_story_without_topic_genre_or_card(tmp_path: Path) -> None:
    done = run("story_generation", tmp_path)

    assert done.code == 0
    (story,) = written(tmp_path, "stories").values()
    check_story(story)
    assert story["story_id"] == expected_id("sty_", UNIT_ID, 0)
    assert (story["topic"], story["genre"], story["card_id"]) == (None, None, None)


def test_a_rerun_of_the_unit_repeats_its_stories_and_another_unit_differs(tmp_path: Path) -> None:
    params = {"max_stories": 2, "topic": "kelp forests"}
    first = run("story_generation", tmp_path / "a", **params)
    again = run("story_generation", tmp_path / "b", **params)
    other = run("story_generation", tmp_path / "c", unit_id="run-2", **params)

    assert first.code == again.code == other.code == 0
    stories = written(tmp_path / "a", "stories")
    assert without_times(written(tmp_path / "b", "stories")) == without_times(stories)
    others = written(tmp_path / "c", "stories")
    assert not set(others) & set(stories)
    texts = [story["text"] for story in [*stories.values(), *others.values()]]
    for i, text in enumerate(texts):  # stories of one topic stay far from near-duplicates
        assert all(jaccard(text, later) < 0.2 for later in texts[i + 1 :])


def test_a_seed_param_replaces_the_unit_id(tmp_path: Path) -> None:
    done = run("story_generation", tmp_path, seed="my-seed", enable_dedup=False)

    assert done.code == 0
    assert list(written(tmp_path, "stories")) == [expected_id("sty_", "my-seed", 0)]
    assert done.first("generating")["enable_dedup"] is False


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_stories": 0}, "max_stories must be between 1 and 50, not 0"),
        ({"max_stories": 51}, "max_stories must be between 1 and 50, not 51"),
        ({"max_stories": "3"}, "max_stories must be int, not str"),
        ({"max_stories": True}, "max_stories must be int, not a boolean"),
        ({"enable_dedup": "yes"}, "enable_dedup must be bool, not str"),
        ({"model": 5}, "model must be str, not int"),
        ({"model": "m" * 201}, "model must be at most 200 characters"),
        ({"topic": "t" * 501}, "topic must be at most 500 characters"),
        ({"genre": "g" * 61}, "genre must be at most 60 characters"),
        ({"card_id": "card-7"}, "card_id must be a research card's id: crd_ and 16 lowercase hex"),
        ({"seed": 7}, "seed must be str, not int"),
    ],
)
def test_bad_story_params_exit_2(tmp_path: Path, params: dict[str, Any], message: str) -> None:
    done = run("story_generation", tmp_path, **params)

    assert done.code == 2
    assert done.first("error")["message"] == f"invalid params: {message}"
    assert not (tmp_path / "stories").exists()


class StopAfter:
    """The offline provider, which sets the stop event after its n-th answer."""

    def __init__(self, calls: int, stop: threading.Event) -> None:
        self.calls = calls
        self.stop = stop
        self.offline = OfflineProvider()

    @property
    def name(self) -> str:
        return "offline"

    def complete(self, request: CompletionRequest) -> Completion:
        self.calls -= 1
        if self.calls == 0:
            self.stop.set()
        return self.offline.complete(request)


def test_a_stop_ends_the_run_between_stories_keeping_those_written(tmp_path: Path) -> None:
    stop = threading.Event()
    log = EventLog("run-1", "job-1", stream=io.StringIO())
    ctx = WorkloadContext(tmp_path, stop, log, unit_id="run-1", provider=StopAfter(2, stop))

    code = story_generation.run({"max_stories": 5}, ctx)

    assert code == EXIT_STOPPED
    assert sorted(written(tmp_path, "stories")) == sorted(
        expected_id("sty_", "run-1", i) for i in range(2)
    )


# -- research ---------------------------------------------------------------------------------


def test_cards_have_the_exact_shape_and_ids_from_the_unit(tmp_path: Path) -> None:
    done = run("research", tmp_path, topic="Octopus cognition", max_cards=3)

    assert done.code == 0, done.events
    cards = written(tmp_path, "cards")
    assert sorted(cards) == sorted(expected_id("crd_", UNIT_ID, i) for i in range(3))
    for card in cards.values():
        check_card(card)
        assert card["topic"] == "Octopus cognition"
        assert card["model"] == DEFAULT_MODEL
        assert card["provider"] == "offline"
        assert len(card["facts"]) >= 3
        assert card["sources"]
        assert "octopus cognition" in json.dumps(card).lower()
    assert [e["done"] for e in done.named("progress")] == [1, 2, 3]


def test_a_rerun_of_the_unit_repeats_its_cards(tmp_path: Path) -> None:
    first = run("research", tmp_path / "a", topic="kelp", max_cards=2)
    again = run("research", tmp_path / "b", topic="kelp", max_cards=2)

    assert first.code == again.code == 0
    cards = written(tmp_path / "a", "cards")
    assert without_times(written(tmp_path / "b", "cards")) == without_times(cards)


def test_research_takes_five_cards_by_default(tmp_path: Path) -> None:
    done = run("research", tmp_path, topic="kelp", seed="fixed", model="openai/gpt-4o-mini")

    assert done.code == 0
    cards = written(tmp_path, "cards")
    assert sorted(cards) == sorted(expected_id("crd_", "fixed", i) for i in range(5))
    assert {card["model"] for card in cards.values()} == {"openai/gpt-4o-mini"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "topic is required"),
        ({"topic": "  "}, "topic is required"),
        ({"topic": 3}, "topic must be str, not int"),
        ({"topic": "t" * 501}, "topic must be at most 500 characters"),
        ({"topic": "kelp", "max_cards": 0}, "max_cards must be between 1 and 50, not 0"),
        ({"topic": "kelp", "max_cards": 51}, "max_cards must be between 1 and 50, not 51"),
        ({"topic": "kelp", "max_cards": 2.5}, "max_cards must be int, not float"),
    ],
)
def test_bad_research_params_exit_2(tmp_path: Path, params: dict[str, Any], message: str) -> None:
    done = run("research", tmp_path, **params)

    assert done.code == 2
    assert done.first("error")["message"].startswith(f"invalid params: {message}")
    assert not (tmp_path / "cards").exists()


@pytest.mark.parametrize("workload", ["story_generation", "research", "echo"])
def test_an_unknown_model_provider_exits_2(tmp_path: Path, workload: str) -> None:
    env = {**unit_env(workload, tmp_path, topic="kelp"), "JOBSCHED_MODEL_PROVIDER": "openai"}

    done = run_worker(env)

    assert done.code == 2
    message = "JOBSCHED_MODEL_PROVIDER must be offline or litellm, not 'openai'"
    assert done.first("error")["message"] == message
