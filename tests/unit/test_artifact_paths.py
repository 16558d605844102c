"""An artifact is named by its path under its run's outputs, the same in two runs of one
template wherever each wrote (a local runs folder, an S3 bucket); else by its file name."""

import pytest

from jobsched.jobs.artifact_diff import artifact_path
from jobsched.models import JobRun

RUN = JobRun(run_id="run_1", job_id="job_1", template_id="echo", group_id="grp_1")


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("file:///data/runs/run_1/outputs/story.json", "story.json"),
        ("file:///data/runs/run_1/outputs/cards/1%20a.json", "cards/1 a.json"),
        ("file:///srv/runs/x/runs/run_1/outputs/runs/run_1/y.txt", "runs/run_1/y.txt"),
        ("s3://bucket/runs/run_1/story.json", "story.json"),
        ("s3://bucket/runs/run_1/outputs/story.json", "outputs/story.json"),
        ("s3://bucket/runs/grp_1/cards/2.json", "cards/2.json"),  # a parallel group's unit
        ("file:///elsewhere/report.txt", "report.txt"),
        ("s3://bucket/runs/run_2/story.json", "story.json"),
    ],
)
def test_the_path_under_the_runs_outputs(uri: str, path: str) -> None:
    assert artifact_path(RUN, uri) == path
