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


def test_every_aws_client_of_the_app_honours_aws_endpoint_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """So the same code talks to AWS, moto or LocalStack (README, "LocalStack")."""
    from jobsched.adapters.aws import CloudWatchLogReader, EcsTaskStopper, StepFunctionsKicker
    from jobsched.adapters.aws.artifacts import S3ArtifactReader
    from jobsched.adapters.aws.launcher import EcsLauncher
    from jobsched.adapters.aws.notifier import LambdaNotifier
    from jobsched.adapters.aws.scheduler import EventBridgeScheduleSync

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localstack:4566")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    settings = Settings(cluster="c", state_machine_arn="arn:sm")
    dynamo = Dynamo(settings)
    clients = {
        "dynamodb": dynamo.client,
        "stepfunctions": StepFunctionsKicker(settings).client,
        "ecs (stop)": EcsTaskStopper(settings).client,
        "ecs (run)": EcsLauncher(settings, object()).client,  # type: ignore[arg-type]
        "logs": CloudWatchLogReader(settings).client,
        "scheduler": EventBridgeScheduleSync(settings).client,
        "s3": S3ArtifactReader(settings).client,
        "lambda": LambdaNotifier(settings).client,
    }
    for name, client in clients.items():
        assert client.meta.endpoint_url == "http://localstack:4566", name  # type: ignore[attr-defined]


def test_a_per_service_endpoint_wins_over_aws_endpoint_url_as_boto3_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """E.g. Step Functions on LocalStack and DynamoDB on moto's server (README, "LocalStack")."""
    from jobsched.adapters.aws import StepFunctionsKicker
    from jobsched.adapters.aws.scheduler import EventBridgeScheduleSync

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localstack:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://moto:5000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SCHEDULER", "http://moto:5000")
    settings = Settings(state_machine_arn="arn:sm")

    assert Dynamo(settings).client.meta.endpoint_url == "http://moto:5000"
    assert EventBridgeScheduleSync(settings).client.meta.endpoint_url == "http://moto:5000"
    assert StepFunctionsKicker(settings).client.meta.endpoint_url == "http://localstack:4566"


def test_an_endpoint_given_in_code_wins_over_every_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The local runtime's and the tests' own emulator, whatever the shell says."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localstack:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://dynalite:4567")
    settings = Settings(aws_endpoint_url="http://127.0.0.1:5566")

    assert Dynamo(settings).client.meta.endpoint_url == "http://127.0.0.1:5566"
