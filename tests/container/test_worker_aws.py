"""The worker against AWS APIs (moto server over HTTP): S3 artifacts, heartbeat, result, cancel.

The worker is a separate process, so it reaches moto the way it reaches AWS: AWS_ENDPOINT_URL.
"""

import json
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.usage_contract import NO_USAGE, the_usage
from tests.support.worker_harness import UNIT_ID, StartWorker, aws_client, run_worker, unit_env

HEARTBEAT_SECONDS = 0.3
RUN_KEY = {"pk": {"S": "RUN"}, "sk": {"S": "x"}}


def _conditional_update(table: str, update: str, values: dict[str, Any]) -> dict[str, Any]:
    """A TransactItems template as the dispatcher prepares it: write only while still started."""
    return {
        "TransactItems": [
            {
                "Update": {
                    "TableName": table,
                    "Key": RUN_KEY,
                    "UpdateExpression": update,
                    "ConditionExpression": "#s = :started",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":started": {"S": "started"}, **values},
                }
            }
        ]
    }


def heartbeat_template(table: str) -> str:
    values = {":now": {"N": "__NOW__"}, ":lease": {"N": "__LEASE_UNTIL__"}}
    update = "SET heartbeat_at = :now, lease_until = :lease"
    return json.dumps(_conditional_update(table, update, values))


def result_template(table: str) -> str:
    values = {
        ":now": {"N": "__NOW__"},
        ":code": {"N": "__EXIT_CODE__"},
        ":artifacts": {"S": "__ARTIFACTS__"},
        ":usage": {"S": "__USAGE__"},
    }
    update = (
        "SET finished_at = :now, exit_code = :code, artifacts = :artifacts, model_usage = :usage"
    )
    return json.dumps(_conditional_update(table, update, values))


@dataclass
class Aws:
    endpoint: str
    table: str
    bucket: str
    dynamodb: Any
    s3: Any
    out: Path

    def env(self, **params: object) -> dict[str, str]:
        return {
            **unit_env("echo", self.out, **params),
            "AWS_ENDPOINT_URL": self.endpoint,
            "JOBSCHED_ARTIFACTS_BUCKET": self.bucket,
            "JOBSCHED_ARTIFACTS_PREFIX": f"runs/{UNIT_ID}/",
            "JOBSCHED_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "JOBSCHED_HEARTBEAT": heartbeat_template(self.table),
            "JOBSCHED_RESULT": result_template(self.table),
        }

    def run_item(self) -> dict[str, Any]:
        item: dict[str, Any] = self.dynamodb.get_item(
            TableName=self.table, Key=RUN_KEY, ConsistentRead=True
        )["Item"]
        return item

    def set_status(self, status: str) -> None:
        self.dynamodb.update_item(
            TableName=self.table,
            Key=RUN_KEY,
            UpdateExpression="SET #s = :status",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":status": {"S": status}},
        )


@pytest.fixture
def aws(endpoint: str, tmp_path: Path) -> Aws:
    """A fresh bucket and runs table (one started run) on the shared moto server."""
    dynamodb, s3 = aws_client("dynamodb", endpoint), aws_client("s3", endpoint)
    suffix = uuid.uuid4().hex[:12]
    table, bucket = f"runs-{suffix}", f"artifacts-{suffix}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={**RUN_KEY, "status": {"S": "started"}})
    s3.create_bucket(Bucket=bucket)
    return Aws(endpoint, table, bucket, dynamodb, s3, out=tmp_path)


def test_outputs_go_to_s3_and_heartbeat_and_result_reach_the_run(aws: Aws) -> None:
    before = int(time.time())
    env = aws.env(message="to s3", sleep_seconds=2 * HEARTBEAT_SECONDS)
    del env["JOBSCHED_OUTPUT_DIR"]  # a temporary one, removed once its files are in S3

    done = run_worker(env)

    assert done.code == 0, done.events
    uri = f"s3://{aws.bucket}/runs/{UNIT_ID}/echo.txt"
    assert done.first("artifacts")["artifacts"] == [uri]
    assert "heartbeat_failed" not in done.names()
    assert done.first("result_recorded")["exit_code"] == 0
    stored = aws.s3.get_object(Bucket=aws.bucket, Key=f"runs/{UNIT_ID}/echo.txt")
    assert stored["Body"].read() == b"to s3\n"
    assert stored["ContentType"] == "text/plain"
    assert not Path(done.first("started")["output_dir"]).exists()

    item = aws.run_item()
    heartbeat_at, lease_until = int(item["heartbeat_at"]["N"]), int(item["lease_until"]["N"])
    assert before <= heartbeat_at <= int(time.time())
    assert heartbeat_at < lease_until <= heartbeat_at + 2  # three 0.3 s periods, rounded up
    assert item["exit_code"] == {"N": "0"}
    assert json.loads(item["artifacts"]["S"]) == [uri]
    assert json.loads(item["model_usage"]["S"]) == the_usage(done) == NO_USAGE  # echo calls none
    assert int(item["finished_at"]["N"]) >= heartbeat_at


def test_the_result_records_the_runs_model_usage(aws: Aws) -> None:
    env = {**aws.env(max_stories=2), "JOBSCHED_WORKLOAD": "story_generation"}

    done = run_worker(env)

    assert done.code == 0, done.events
    usage = the_usage(done)
    assert usage["calls"] == 2
    assert json.loads(aws.run_item()["model_usage"]["S"]) == usage


def test_a_run_ended_elsewhere_stops_the_worker_at_its_next_heartbeat(
    aws: Aws, start_worker: StartWorker
) -> None:
    # The workload would sleep far beyond the wait's bound: the worker can only end in time
    # because a heartbeat found the run ended, whatever the machine's speed.
    worker = start_worker(aws.env(sleep_seconds=3600))
    worker.wait_for("echo")  # the first heartbeat went out before the workload started

    aws.set_status("cancelled")
    done = worker.wait()

    assert done.code == 143
    assert "ConditionalCheckFailed" in done.first("cancelled")["error"]
    assert done.first("stopped")["signal"] is None
    assert done.first("finished")["exit_code"] == 143
    # Outputs are still kept, but the run's record belongs to whoever ended it.
    assert done.first("artifacts")["artifacts"] == [f"s3://{aws.bucket}/runs/{UNIT_ID}/echo.txt"]
    assert "result_recorded" not in done.names()
    assert "exit_code" not in aws.run_item()


def test_a_run_ended_before_the_worker_started_runs_nothing(aws: Aws) -> None:
    aws.set_status("cancelled")

    done = run_worker(aws.env())

    assert done.code == 143
    assert done.names() == ["started", "cancelled", "usage", "finished"]
    assert the_usage(done) == NO_USAGE


def test_sigterm_records_exit_code_143_as_the_result(aws: Aws, start_worker: StartWorker) -> None:
    worker = start_worker(aws.env(sleep_seconds=30))
    worker.wait_for("echo")

    worker.signal(signal.SIGTERM)
    done = worker.wait()

    assert done.code == 143
    assert done.first("stopped")["signal"] == "SIGTERM"
    assert aws.run_item()["exit_code"] == {"N": "143"}


def test_a_unit_started_wrongly_still_records_its_result(aws: Aws) -> None:
    env = aws.env()
    env["JOBSCHED_WORKLOAD"] = "no_such_workload"

    done = run_worker(env)

    assert done.code == 2
    item = aws.run_item()
    assert item["exit_code"] == {"N": "2"}
    assert json.loads(item["artifacts"]["S"]) == []
    assert json.loads(item["model_usage"]["S"]) == NO_USAGE


def test_heartbeat_and_result_failures_are_logged_not_fatal(aws: Aws) -> None:
    env = aws.env(sleep_seconds=2 * HEARTBEAT_SECONDS)
    env["JOBSCHED_HEARTBEAT"] = heartbeat_template("no-such-table")
    env["JOBSCHED_RESULT"] = result_template("no-such-table")

    done = run_worker(env)

    assert done.code == 0
    assert done.names().count("heartbeat_failed") >= 2  # at start, and again each period
    assert "ResourceNotFoundException" in done.first("result_failed")["error"]


def test_outputs_that_cannot_be_uploaded_fail_the_run(aws: Aws) -> None:
    env = aws.env()
    env["JOBSCHED_ARTIFACTS_BUCKET"] = "no-such-bucket"

    done = run_worker(env)

    assert done.code == 1
    assert "runs/run-1/echo.txt" in done.first("artifact_upload_failed")["error"]
    assert done.first("artifacts")["artifacts"] == []
    assert aws.run_item()["exit_code"] == {"N": "1"}
