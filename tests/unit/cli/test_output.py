"""The command's cells for people: relative times and run durations."""

from datetime import UTC, datetime, timedelta

from local.cli.output import ago, cell, took

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_ago_says_how_far_and_which_way() -> None:
    assert ago(NOW - timedelta(seconds=12), NOW) == "12s ago"
    assert ago(NOW + timedelta(minutes=4), NOW) == "in 4m"
    assert ago(NOW - timedelta(hours=3), NOW) == "3.0h ago"
    assert ago(None) == "-"


def test_took_is_a_duration_or_a_dash_while_it_runs() -> None:
    assert took(NOW, NOW + timedelta(seconds=5)) == "5s"
    assert took(NOW, NOW + timedelta(minutes=2, seconds=5)) == "2m05s"
    assert took(NOW, NOW + timedelta(hours=1, minutes=3)) == "1h03m"
    assert took(NOW, None) == "-"


def test_cells_of_each_kind() -> None:
    assert cell(None) == "-"
    assert cell(True) == "yes"
    assert cell({"a": 1}) == '{"a": 1}'
    assert cell(NOW) == "2026-12-03 12:00:00Z"
