"""Every failed unit says why in words a person reads: the executor's own error, else what
its exit code means."""

import pytest

from jobsched.models.units import Outcome


@pytest.mark.parametrize(
    ("outcome", "reason"),
    [
        (Outcome(exit_code=0), None),
        (Outcome(exit_code=1), "exit code 1"),
        (Outcome(exit_code=2), "exit code 2"),
        (Outcome(exit_code=137), "killed by SIGKILL (out of memory, or stopped) (exit code 137)"),
        (Outcome(exit_code=143), "killed by SIGTERM (exit code 143)"),
        (Outcome(exit_code=128), "exit code 128"),
        (Outcome(exit_code=255), "exit code 255"),  # 128 + 127: no such signal
        (Outcome(exit_code=None), "ended without an exit code"),
        (Outcome(exit_code=0, error="timeout"), "timeout"),
        (
            Outcome(exit_code=137, error="OutOfMemoryError: Container killed"),
            "OutOfMemoryError: Container killed",
        ),
        (Outcome.lost(), "lost"),
    ],
)
def test_a_failure_reads_as_its_cause(outcome: Outcome, reason: str | None) -> None:
    assert outcome.reason == reason
