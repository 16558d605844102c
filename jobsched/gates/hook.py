"""The dispatcher's OutputGate: a finished job's outputs checked against the quality gates of
the template version it ran with (jobsched/models/gates.py), before its end is recorded."""

import logging
from collections.abc import Callable

from jobsched.gates.evaluate import evaluate
from jobsched.models import UnitKind
from jobsched.models.gates import GateVerdict
from jobsched.models.units import Claim, Outcome
from jobsched.ports.artifacts import ArtifactReader
from jobsched.ports.content import StoredSketches

logger = logging.getLogger(__name__)


class QualityGate:
    def __init__(
        self,
        reader: ArtifactReader,
        content: StoredSketches,
        output_root: Callable[[str], str],
    ) -> None:
        self.reader = reader
        self.content = content
        self.output_root = output_root  # a unit id -> the URI of its outputs folder

    def check(self, claim: Claim, outcome: Outcome) -> GateVerdict | None:
        """None unless a job's run exited 0 and its template version has checks: a failed
        run is a failure already, and a direct call's reservation has no gate."""
        template = claim.template
        if claim.kind != UnitKind.JOB or template is None or not template.checks:
            return None
        if not outcome.succeeded:
            return None
        verdict = evaluate(
            template.checks,
            outcome.artifacts,
            self.reader,
            self.content,
            output_root=self.output_root(claim.unit_id),
        )
        if not verdict.passed:
            logger.info("the outputs of %s failed %d checks", claim.unit_id, len(verdict.failed))
        return verdict
