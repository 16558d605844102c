"""The functions' metrics: the Powertools sink prints CloudWatch embedded metric format (EMF) on
stdout, one blob per invocation, in the `jobsched` namespace with the service dimension the
alarms name; and the dispatch and sweeper handlers report through it."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from functions import dispatch, metrics, sweeper
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.ports import Stores
from jobsched.ports.metrics import NAMESPACE, QUEUE_DEPTH, QUEUE_WAIT, RUNS_RECOVERED

SERVICE = "jobsched-test"


@pytest.fixture(autouse=True)
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh sink that reads the service the stack sets; Powertools keeps recorded metrics in
    class attributes, so nothing is left for the next test."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", SERVICE)
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    metrics.sink.cache_clear()
    yield
    metrics.sink().metrics.clear_metrics()
    metrics.sink.cache_clear()


def _blobs(out: str) -> list[dict[str, Any]]:
    """Every EMF blob printed, each checked against the specification's required shape."""
    blobs = []
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert isinstance(blob["_aws"]["Timestamp"], int)
        for dimension_set in directive["Dimensions"]:
            for dimension in dimension_set:
                assert isinstance(blob[dimension], str)  # each named dimension has a value
        for metric in directive["Metrics"]:
            assert metric["Unit"] in {"Count", "Seconds"}
            assert "StorageResolution" not in metric  # standard resolution: no extra cost
            assert blob[metric["Name"]]  # each named metric has its value(s)
        blobs.append(blob)
    return blobs


def _metrics(blob: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    return {m["Name"]: (m["Unit"], blob[m["Name"]]) for m in directive["Metrics"]}


def test_one_blob_per_flush_in_the_namespace_with_the_service_dimension(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sink = metrics.sink()
    sink.count("RunsCompleted")
    sink.count("RunsCompleted")
    sink.seconds("RunDuration", 12.5)
    sink.flush()

    (blob,) = _blobs(capsys.readouterr().out)
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE == "jobsched"
    assert directive["Dimensions"] == [["service"]]
    assert blob["service"] == SERVICE
    assert _metrics(blob) == {
        "RunsCompleted": ("Count", [1.0, 1.0]),  # CloudWatch sums the values of a blob
        "RunDuration": ("Seconds", [12.5]),
    }


def test_a_flush_prints_nothing_when_nothing_was_recorded(
    capsys: pytest.CaptureFixture[str], recwarn: pytest.WarningsRecorder
) -> None:
    metrics.sink().flush()
    assert capsys.readouterr().out == ""
    assert len(recwarn) == 0  # Powertools' empty-flush warning is avoided, not printed


def test_recorded_metrics_are_flushed_once(capsys: pytest.CaptureFixture[str]) -> None:
    sink = metrics.sink()
    sink.count("RunsFailed")
    sink.flush()
    sink.flush()
    assert len(_blobs(capsys.readouterr().out)) == 1


def test_a_metric_with_dimensions_gets_a_blob_of_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sink = metrics.sink()
    sink.count("RunsFailed")
    sink.count("RunsEnded", outcome="failed")
    sink.flush()

    first, second = _blobs(capsys.readouterr().out)
    (directive,) = first["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service", "outcome"]]
    assert (first["service"], first["outcome"]) == (SERVICE, "failed")
    assert _metrics(first) == {"RunsEnded": ("Count", [1.0])}
    assert _metrics(second) == {"RunsFailed": ("Count", [1.0])}


def test_a_bad_metric_is_logged_never_raised(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    sink = metrics.sink()
    with caplog.at_level(logging.WARNING, logger="functions.metrics"):
        sink.seconds("RunDuration", "soon")  # type: ignore[arg-type]
        sink.count("")  # CloudWatch names have 1-255 characters
    assert "metric RunDuration not recorded" in caplog.text
    sink.flush()
    assert capsys.readouterr().out == ""


def test_flushed_prints_when_the_handler_raises(capsys: pytest.CaptureFixture[str]) -> None:
    @metrics.flushed
    def handler(event: dict[str, Any], context: object) -> None:
        metrics.sink().count("RunsFailed")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handler({}, None)
    (blob,) = _blobs(capsys.readouterr().out)
    assert "RunsFailed" in _metrics(blob)


# --- the handlers -----------------------------------------------------------------------------


@pytest.fixture
def echo(stores: Stores) -> str:
    create_template(stores, TemplateCreate(template_id="echo", name="Echo", workload="echo"))
    return "echo"


def test_the_sweeper_reports_queue_depth_and_recoveries_each_invocation(
    stores: Stores,
    echo: str,
    handler_settings: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    for _ in range(2):
        enqueue(stores, JobCreate(template_id=echo))

    sweeper.handler({}, None)

    (blob,) = _blobs(capsys.readouterr().out)
    assert blob["service"] == SERVICE
    assert _metrics(blob) == {RUNS_RECOVERED: ("Count", [0.0]), QUEUE_DEPTH: ("Count", [2.0])}


def test_a_claim_reports_the_queue_wait_and_an_idle_claim_nothing(
    stores: Stores,
    echo: str,
    handler_settings: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert dispatch.claim({}, None)["kind"] == "idle"
    assert _blobs(capsys.readouterr().out) == []

    enqueue(stores, JobCreate(template_id=echo))
    assert dispatch.claim({}, None)["kind"] == "job"

    (blob,) = _blobs(capsys.readouterr().out)
    unit, (wait,) = _metrics(blob)[QUEUE_WAIT]
    assert unit == "Seconds"
    assert 0 <= wait < 60
