"""Shell completion: typer's `--show-completion` / `--install-completion` on the root."""

import pytest
from typer.testing import CliRunner

from local.cli import app


@pytest.mark.parametrize(
    ("shell", "marks"),
    [
        ("bash", ["complete -o default -F", "_JOBSCHED_COMPLETE=complete_bash"]),
        ("zsh", ["#compdef jobsched", "_JOBSCHED_COMPLETE=complete_zsh"]),
        ("fish", ["complete --command jobsched", "_JOBSCHED_COMPLETE=complete_fish"]),
    ],
)
def test_show_completion_prints_the_shells_script(
    shell: str, marks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Typer detects the shell from the process tree (shellingham) unless told not to; then
    # `--show-completion` takes the shell's name, as a user may give it too.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")

    result = CliRunner().invoke(app, ["--show-completion", shell], prog_name="jobsched")

    assert result.exit_code == 0, result.output
    for mark in marks:
        assert mark in result.stdout
