"""GET /runs/{id}/artifacts/{index}: a run's artifact as a download (always an attachment, never
shown inline), read through the artifacts port: locally only files inside the runs folder, on
AWS only objects under runs/ in the artifacts bucket."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from jobsched.adapters.aws.wiring import api_stores
from jobsched.constants import MAX_ARTIFACT_DOWNLOAD_BYTES
from jobsched.content.indexing import ArtifactReaders, FileArtifactReader
from jobsched.jobs.keys import mint_key
from jobsched.models import JobRun, RunStatus, Scope
from jobsched.ports import Stores
from jobsched.settings import Settings
from tests.support.api import V2, assert_problem

T0 = datetime(2026, 1, 18, 8, 0, tzinfo=UTC)
BUCKET = "jobsched-artifacts-test"
PAGE = b"<html><script>alert('not on our origin')</script></html>"


def record_run(stores: Stores, run_id: str, artifacts: list[str]) -> None:
    stores.runs.put(
        JobRun(
            run_id=run_id,
            job_id="job_a",
            template_id="echo",
            status=RunStatus.COMPLETED,
            started_at=T0,
            finished_at=T0 + timedelta(minutes=1),
            exit_code=0,
            artifacts=artifacts,
        )
    )


def api_client(stores: Stores, scopes: list[Scope] | None = None) -> TestClient:
    from api.app import create_app

    client = TestClient(create_app(stores), raise_server_exceptions=False)
    if scopes is not None:
        minted = mint_key(stores.keys, "artifacts", scopes)
        client.headers["Authorization"] = f"Bearer {minted.secret}"
    return client


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "runs"
    outputs = folder / "run_1" / "outputs"
    outputs.mkdir(parents=True)
    (outputs / "report.html").write_bytes(PAGE)
    (outputs / "data.bin").write_bytes(bytes(range(256)))
    (outputs / 'we"ird name.txt').write_bytes(b"odd")
    (outputs / "big.txt").write_bytes(b"x" * (MAX_ARTIFACT_DOWNLOAD_BYTES + 1))
    return folder


@pytest.fixture
def local(stores: Stores, runs_dir: Path, tmp_path: Path) -> Stores:
    """The stores as the local runtime wires them, with a run whose artifacts are its outputs,
    a missing file, and files outside the runs folder (one by path, one through a symlink)."""
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not a run's")
    outputs = runs_dir / "run_1" / "outputs"
    (outputs / "link.txt").symlink_to(secret)
    wired = stores.with_artifacts(
        ArtifactReaders(
            {"file": FileArtifactReader(root=runs_dir, limit=MAX_ARTIFACT_DOWNLOAD_BYTES)}
        )
    )
    record_run(
        wired,
        "run_1",
        [
            (outputs / "report.html").as_uri(),
            (outputs / "data.bin").as_uri(),
            (outputs / 'we"ird name.txt').as_uri(),
            (outputs / "gone.txt").as_uri(),
            secret.as_uri(),
            (outputs / "link.txt").as_uri(),
            (outputs / ".." / ".." / ".." / ".." / "secret.txt").as_uri(),
            (outputs / "big.txt").as_uri(),
            "s3://bucket/runs/run_1/x.txt",
        ],
    )
    return wired


def assert_download(response: Any, filename: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-store"


def test_a_runs_artifact_downloads_as_an_attachment(local: Stores) -> None:
    reader = api_client(local, [Scope.READ])

    page = reader.get(f"{V2}/runs/run_1/artifacts/0")
    assert_download(page, "report.html")
    assert page.content == PAGE
    assert page.headers["content-type"].startswith("text/html")  # named, but never inline

    binary = reader.get(f"{V2}/runs/run_1/artifacts/1")
    assert_download(binary, "data.bin")
    assert binary.content == bytes(range(256))
    assert binary.headers["content-type"] == "application/octet-stream"

    odd = reader.get(f"{V2}/runs/run_1/artifacts/2")
    assert_download(odd, "we_ird_name.txt")  # no quote or space reaches the header
    assert odd.content == b"odd"
    # The scheduler's alias serves the same route.
    assert reader.get("/scheduler/runs/run_1/artifacts/1").content == bytes(range(256))


def test_unknown_runs_indexes_and_missing_files_are_404s(local: Stores) -> None:
    reader = api_client(local, [Scope.READ])

    assert (
        "no artifact 9" in assert_problem(reader.get(f"{V2}/runs/run_1/artifacts/9"), 404)["detail"]
    )
    assert_problem(reader.get(f"{V2}/runs/run_1/artifacts/-1"), 404)
    assert_problem(reader.get(f"{V2}/runs/run_missing/artifacts/0"), 404)
    assert_problem(reader.get(f"{V2}/runs/run_1/artifacts/gone.txt"), 422, "path.index")
    assert "gone.txt" in assert_problem(reader.get(f"{V2}/runs/run_1/artifacts/3"), 404)["detail"]
    # An s3:// URI has no reader in the local runtime.
    assert_problem(reader.get(f"{V2}/runs/run_1/artifacts/8"), 404)


def test_files_outside_the_runs_folder_are_refused(local: Stores) -> None:
    reader = api_client(local, [Scope.READ])

    for index in (4, 5, 6):  # by path, through a symlink, by dot segments
        refused = reader.get(f"{V2}/runs/run_1/artifacts/{index}")
        body = assert_problem(refused, 403)
        assert "outside this runtime's runs folder" in body["detail"]
        assert b"not a run's" not in refused.content


def test_an_artifact_over_the_bound_is_a_413(local: Stores) -> None:
    reader = api_client(local, [Scope.READ])

    body = assert_problem(reader.get(f"{V2}/runs/run_1/artifacts/7"), 413)

    assert str(MAX_ARTIFACT_DOWNLOAD_BYTES) in body["detail"]


def test_a_key_is_needed(local: Stores) -> None:
    anonymous = api_client(local)

    refused = anonymous.get(f"{V2}/runs/run_1/artifacts/0")

    assert_problem(refused, 401)
    assert PAGE not in refused.content


def test_stores_without_a_reader_say_so(stores: Stores) -> None:
    record_run(stores, "run_1", ["file:///data/runs/run_1/outputs/x.txt"])
    reader = api_client(stores, [Scope.READ])

    body = assert_problem(reader.get(f"{V2}/runs/run_1/artifacts/0"), 404)

    assert body["detail"] == "artifacts cannot be read here"


# --- on AWS -----------------------------------------------------------------------------------


def test_the_aws_api_reads_its_artifacts_bucket_only(dynamo: object, settings: Settings) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket="someone-elses")
    s3.put_object(Bucket=BUCKET, Key="runs/run_1/outputs/story.json", Body=b'{"a": 1}')
    s3.put_object(Bucket=BUCKET, Key="config/secret.txt", Body=b"not a run's")
    s3.put_object(Bucket="someone-elses", Key="runs/run_1/x.txt", Body=b"not a run's")
    stores = api_stores(settings.model_copy(update={"artifacts_bucket": BUCKET}))
    record_run(
        stores,
        "run_1",
        [
            f"s3://{BUCKET}/runs/run_1/outputs/story.json",
            f"s3://{BUCKET}/runs/run_1/outputs/missing.json",
            f"s3://{BUCKET}/config/secret.txt",
            "s3://someone-elses/runs/run_1/x.txt",
            "file:///etc/hostname",
        ],
    )
    reader = api_client(stores, [Scope.READ])

    story = reader.get(f"{V2}/runs/run_1/artifacts/0")
    assert_download(story, "story.json")
    assert story.content == b'{"a": 1}'
    assert story.headers["content-type"] == "application/json"
    assert "NoSuchKey" in assert_problem(reader.get(f"{V2}/runs/run_1/artifacts/1"), 404)["detail"]
    for index in (2, 3):
        refused = reader.get(f"{V2}/runs/run_1/artifacts/{index}")
        assert "not in this deployment's artifacts" in assert_problem(refused, 403)["detail"]
    assert_problem(reader.get(f"{V2}/runs/run_1/artifacts/4"), 404)  # no file reader on AWS
