"""The dispatcher's OutputIndexer: a finished unit's story and card files become stored items
(jobsched.content.indexing) and a direct call's reservation gets their ids as its result."""

import logging
from typing import Any

from jobsched.content.indexing import ArtifactReader, content_artifacts, index_outputs
from jobsched.models import UnitKind
from jobsched.models.content import SourceKind
from jobsched.models.units import Claim, Outcome
from jobsched.ports.content import ContentStore

logger = logging.getLogger(__name__)


class ContentIndexer:
    def __init__(self, store: ContentStore, reader: ArtifactReader, threshold: float) -> None:
        self.store = store
        self.reader = reader
        self.threshold = threshold

    def index(self, claim: Claim, outcome: Outcome) -> dict[str, Any] | None:
        if not content_artifacts(outcome.artifacts):
            return None
        reservation = claim.kind == UnitKind.RESERVATION
        result = index_outputs(
            self.store,
            self.reader,
            source_kind=SourceKind.RESERVATION if reservation else SourceKind.RUN,
            source_id=claim.unit_id,
            job_id=claim.job.job_id if claim.job else None,
            params=claim.params,
            artifacts=outcome.artifacts,
            threshold=self.threshold,
        )
        logger.info(
            "indexed the outputs of %s: %d stories, %d cards, %d duplicates, %d invalid",
            claim.unit_id,
            len(result.stories),
            len(result.cards),
            len(result.duplicates),
            len(result.invalid),
        )
        return result.to_result()
