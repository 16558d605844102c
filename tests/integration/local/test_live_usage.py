"""A local worker's usage so far, read from its log's model_call events as they are written."""

import json
from pathlib import Path

from local.exec.live_usage import LiveUsage


def _call(prompt: int, completion: int, cost: float | None) -> str:
    event = {"event": "model_call", "prompt_tokens": prompt, "completion_tokens": completion}
    return json.dumps({**event, "cost_usd": cost}) + "\n"


def test_it_adds_up_the_calls_logged_so_far_reading_each_line_once(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(_call(10, 5, 0.25) + "Traceback: not an event\n" + _call(3, 2, None))
    live = LiveUsage(log)
    first = live()
    assert first is not None
    assert (first.calls, first.prompt_tokens, first.completion_tokens) == (2, 13, 7)
    assert (first.cost_usd, first.unpriced_calls) == (0.25, 1)

    with log.open("a") as more:
        more.write(_call(100, 1, 0.5) + '{"event": "model_call", "prompt_tok')  # half a line
    second = live()
    assert second is not None
    assert (second.calls, second.prompt_tokens, second.cost_usd) == (3, 113, 0.75)
    with log.open("a") as more:
        more.write('ens": 1, "completion_tokens": 1, "cost_usd": 0}\n')
    third = live()
    assert third is not None
    assert third.calls == 4


def test_a_log_not_there_yet_says_nothing(tmp_path: Path) -> None:
    assert LiveUsage(tmp_path / "missing.log")() is None
