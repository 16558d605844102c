"""The local runtime's settings: faster timings on one machine, unless the environment says."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from local.cli import app
from local.runtime import LOCAL_TIMINGS, LocalConfig, export_endpoint, local_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEARTBEAT_SECONDS", "STARTUP_LEASE_SECONDS", "SWEEP_SECONDS", "SLOTS"):
        monkeypatch.delenv(f"JOBSCHED_{name}", raising=False)
    monkeypatch.delenv("JOBSCHED_DATA_DIR", raising=False)


def test_local_timings_apply_where_the_environment_sets_none() -> None:
    settings = local_settings(LocalConfig(moto_port=5999))

    assert (settings.heartbeat_seconds, settings.startup_lease_seconds, settings.sweep_seconds) == (
        LOCAL_TIMINGS["heartbeat_seconds"],
        LOCAL_TIMINGS["startup_lease_seconds"],
        LOCAL_TIMINGS["sweep_seconds"],
    )
    assert settings.aws_endpoint_url is None  # the default store, SQLite, has no endpoint
    assert settings.slots == 1
    assert Path(settings.data_dir) == Path(".jobsched").resolve()


def test_the_dynamodb_store_reaches_the_embedded_emulator_or_the_given_endpoint() -> None:
    embedded = LocalConfig(moto_port=5999, store="dynamodb")
    given = LocalConfig(store="dynamodb", external_endpoint="http://localhost:4566")

    assert local_settings(embedded).aws_endpoint_url == "http://127.0.0.1:5999"
    assert embedded.embedded_emulator
    assert local_settings(given).aws_endpoint_url == "http://localhost:4566"
    assert not given.embedded_emulator


def test_the_runtime_reaches_its_store_where_its_workers_do_whatever_the_shell_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A per-service variable would win over AWS_ENDPOINT_URL in this process's clients, but
    the workers are given AWS_ENDPOINT_URL alone."""
    from jobsched.adapters.dynamodb import Dynamo

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localstack:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://dynalite:4567")
    config = LocalConfig(store="dynamodb", external_endpoint="http://localstack:4566")
    assert config.endpoint_url is not None

    export_endpoint(config.endpoint_url)

    assert Dynamo(local_settings(config)).client.meta.endpoint_url == "http://localstack:4566"


def test_local_refuses_an_unknown_store() -> None:
    result = CliRunner().invoke(app, ["local", "--store", "postgres"])

    assert result.exit_code == 2
    assert "--store must be sqlite or dynamodb" in result.output


def test_the_environment_wins_over_the_local_timings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBSCHED_HEARTBEAT_SECONDS", "0.5")

    settings = local_settings(LocalConfig())

    assert settings.heartbeat_seconds == 0.5
    assert settings.sweep_seconds == LOCAL_TIMINGS["sweep_seconds"]


def test_the_command_line_sets_slots_and_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JOBSCHED_SLOTS", "2")
    monkeypatch.chdir(tmp_path)

    assert local_settings(LocalConfig()).slots == 2
    settings = local_settings(LocalConfig(slots=4, data_dir="runs-here"))

    assert settings.slots == 4
    assert settings.data_dir == str(tmp_path.resolve() / "runs-here")


def test_local_rejects_zero_slots_before_starting_anything() -> None:
    result = CliRunner().invoke(app, ["local", "--slots", "0"])

    assert result.exit_code == 2
