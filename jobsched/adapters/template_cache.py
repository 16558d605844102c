"""A short in-process cache of templates for the hot path (enqueue), shared by both store
adapters. It is safe: every job write re-checks the template's version and archived flag in its
own transaction, so a stale entry makes the write fail and the caller read the template again."""

import time

from jobsched.models import JobTemplate

CACHE_SECONDS = 60.0


class TemplateCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, JobTemplate]] = {}

    def fresh(self, template_id: str) -> JobTemplate | None:
        hit = self._entries.get(template_id)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        return None

    def keep(self, template: JobTemplate) -> None:
        self._entries[template.template_id] = (time.monotonic(), template)

    def forget(self, template_id: str) -> None:
        self._entries.pop(template_id, None)
