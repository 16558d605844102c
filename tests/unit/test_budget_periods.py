"""Budget periods: a day or a month in the budget's time zone, its key and when it turns."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from jobsched.dispatch.budgets import template_holds
from jobsched.models import JobTemplate
from jobsched.models.budgets import Budget, BudgetPeriod, BudgetSpend, period_of

PARIS = ZoneInfo("Europe/Paris")


def test_a_day_turns_at_local_midnight() -> None:
    key, turn = period_of(BudgetPeriod.DAY, PARIS, datetime(2026, 12, 4, 23, 30, tzinfo=UTC))
    assert key == "2026-12-05"  # 00:30 in Paris
    assert turn == datetime(2026, 12, 5, 23, tzinfo=UTC)


def test_a_day_that_loses_an_hour_to_daylight_saving_lasts_23_hours() -> None:
    start = datetime(2026, 3, 28, 23, tzinfo=UTC)  # midnight in Paris, 29 March
    key, turn = period_of(BudgetPeriod.DAY, PARIS, start)
    assert key == "2026-03-29"
    assert turn - start == timedelta(hours=23)


def test_a_month_turns_at_the_first_of_the_next_even_in_december() -> None:
    key, turn = period_of(
        BudgetPeriod.MONTH, ZoneInfo("UTC"), datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    )
    assert (key, turn) == ("2026-12", datetime(2027, 1, 1, tzinfo=UTC))
    key, turn = period_of(BudgetPeriod.MONTH, PARIS, datetime(2027, 2, 28, 23, 30, tzinfo=UTC))
    assert (key, turn) == ("2027-03", datetime(2027, 3, 31, 22, tzinfo=UTC))  # summer time by then


def test_periods_and_zones_make_distinct_counters() -> None:
    budgets = [
        Budget(period=BudgetPeriod.DAY, tokens=1),
        Budget(period=BudgetPeriod.DAY, tokens=1, timezone="Asia/Tokyo"),
        Budget(period=BudgetPeriod.MONTH, usd=5),
    ]
    now = datetime(2027, 1, 31, 20, tzinfo=UTC)
    template = JobTemplate(template_id="t", name="T", workload="echo", budgets=budgets)
    holds = template_holds(template, now)
    assert [hold.period_key for hold in holds] == ["2027-01-31", "2027-02-01", "2027-01"]
    assert len({hold.counter for hold in holds}) == 3
    assert holds[1].resets_at == datetime(2027, 2, 1, 15, tzinfo=UTC)  # Tokyo's midnight
    assert holds[2].micro_usd == 5_000_000


def test_a_budget_limits_something_and_takes_numbers_as_numbers() -> None:
    with pytest.raises(ValidationError, match="limits tokens, usd or both"):
        Budget(period=BudgetPeriod.DAY)
    with pytest.raises(ValidationError):
        Budget.model_validate_json('{"period": "day", "tokens": "100"}')
    assert Budget.model_validate_json('{"period": "month", "usd": 2}').micro_usd == 2_000_000


def test_a_budget_is_spent_at_its_limit_not_before() -> None:
    [hold] = template_holds(
        JobTemplate(
            template_id="t",
            name="T",
            workload="echo",
            budgets=[Budget(period=BudgetPeriod.DAY, tokens=100, usd=1)],
        ),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert not BudgetSpend(tokens=99, micro_usd=999_999).spent(hold)
    assert BudgetSpend(tokens=100).spent(hold)
    assert BudgetSpend(micro_usd=1_000_000).spent(hold)
