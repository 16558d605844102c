"""Settings: table names, region and endpoint come from the environment."""

import pytest

from jobsched.adapters.dynamodb import Dynamo
from jobsched.settings import Settings


def test_table_names_follow_the_prefix_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBSCHED_TABLE_PREFIX", "prod")
    monkeypatch.setenv("JOBSCHED_RUNS_TABLE", "history")
    settings = Settings()
    assert settings.table("jobs") == "prod-jobs"
    assert settings.table("runs") == "history"


def test_aws_endpoint_url_reaches_the_dynamodb_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    settings = Settings()
    assert settings.aws_endpoint_url == "http://127.0.0.1:4566"
    client = Dynamo(settings).client
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "eu-west-1"


def test_slots_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBSCHED_SLOTS", "0")
    with pytest.raises(ValueError, match="slots"):
        Settings()
