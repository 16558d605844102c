"""Runs made by the real dispatcher for the dashboard's run and group pages: stores whose logs
are files under a data folder (as the local runtime's), a clock the test moves, and helpers that
run a job to an outcome with the log lines its worker would have written."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from jobsched.constants import MAX_ARTIFACT_DOWNLOAD_BYTES
from jobsched.content.indexing import ArtifactReaders, FileArtifactReader
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobTemplate, RetryPolicy
from jobsched.models.gates import GateVerdict
from jobsched.models.units import Claim, Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from local.exec.logs import RUNS_DIR, FileLogReader, log_file
from tests.support.dispatch import Clock, Edges


@dataclass
class RunWorld:
    stores: Stores
    dispatcher: Dispatcher
    clock: Clock
    edges: Edges
    data_dir: Path

    def submit(self, template_id: str = "work", **params: object) -> str:
        job, _ = enqueue(self.stores, JobCreate(template_id=template_id, params=params))
        return job.job_id

    def start(self) -> Claim:
        claim = self.dispatcher.claim()
        assert claim is not None, "nothing to claim"
        return claim

    def log(self, claim: Claim, lines: list[str]) -> Path:
        path = log_file(self.data_dir, claim.unit_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:
            out.write("".join(line + "\n" for line in lines))
        return path

    def output(self, claim: Claim, name: str, data: bytes) -> str:
        """A file the claim's worker wrote under its outputs; its artifact URI."""
        path = self.data_dir / RUNS_DIR / claim.unit_id / "outputs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path.as_uri()

    def finish(
        self,
        claim: Claim,
        exit_code: int,
        error: str | None = None,
        artifacts: list[str] | None = None,
        usage: Usage | None = None,
        verdict: GateVerdict | None = None,
    ) -> None:
        """End the claim's run as its executor saw it; with a failed `verdict`, its outputs
        failed its checks (rejected)."""
        path = log_file(self.data_dir, claim.unit_id)
        outcome = Outcome(exit_code, error, artifacts or [], log_path=str(path), usage=usage)
        if verdict is not None:
            outcome = outcome.rejected(verdict)
        self.dispatcher.finish(claim, outcome, claim_next=False)
        self.clock.advance(5)


def make_world(stores: Stores, data_dir: Path, slots: int = 1) -> RunWorld:
    edges = Edges()
    # Artifacts download as the local runtime's do: files inside its runs folder only.
    downloads = FileArtifactReader(root=data_dir / RUNS_DIR, limit=MAX_ARTIFACT_DOWNLOAD_BYTES)
    wired = stores.with_edges(
        kicker=edges, tasks=edges, logs=FileLogReader(data_dir)
    ).with_artifacts(ArtifactReaders({"file": downloads}))
    for template_id, name in (("work", "Work"), ("other", "Other")):
        wired.templates.create(
            JobTemplate(
                template_id=template_id,
                name=name,
                workload="echo",
                retry=RetryPolicy(max_attempts=2, backoff_seconds=30, backoff_multiplier=2),
            )
        )
    clock = Clock()
    dispatcher = Dispatcher(wired, wired.dispatch, DispatchConfig(slots=slots), clock=clock)
    return RunWorld(wired, dispatcher, clock, edges, data_dir)


@pytest.fixture
def run_world(stores: Stores, tmp_path: Path) -> RunWorld:
    return make_world(stores, tmp_path / "data")
