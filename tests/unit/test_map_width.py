"""A parallel group's Map concurrency: its own max_parallel, never above the deployment's
width (what the step Lambdas can serve at once)."""

import pytest

from jobsched.adapters.aws.state_machine import map_width


@pytest.mark.parametrize(
    ("max_parallel", "group_width", "width"),
    [
        (None, 10, 10),  # no max_parallel: the deployment's width, not "no limit"
        (40, 10, 10),
        (3, 10, 3),
        (3, None, 3),
        (None, None, 0),  # neither set (outside the CDK app): Step Functions' "no limit"
    ],
)
def test_the_width_of_a_groups_map(
    max_parallel: int | None, group_width: int | None, width: int
) -> None:
    assert map_width(max_parallel, group_width) == width
