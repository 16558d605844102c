"""Short in-process caches of templates for the hot paths (enqueue, dispatch), shared by both
store adapters. The current template's is safe: every job write re-checks the template's version
and archived flag in its own transaction, so a stale entry makes the write fail and the caller
read the template again."""

import time

from jobsched.errors import NotFoundError
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


VERSIONS_KEPT = 256  # snapshots are small; a process meets few versions


class VersionCache:
    """Template versions never change once written, so they are kept without expiry (the
    oldest are dropped past VERSIONS_KEPT)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], JobTemplate] = {}

    def get(self, template_id: str, version: int) -> JobTemplate | None:
        return self._entries.get((template_id, version))

    def keep(self, template: JobTemplate) -> None:
        if len(self._entries) >= VERSIONS_KEPT:
            self._entries.pop(next(iter(self._entries)))
        self._entries[(template.template_id, template.version)] = template


def unversioned(current: JobTemplate, version: int) -> JobTemplate:
    """A template saved before versions were kept has one known version, its current one."""
    if current.version == version:
        return current
    raise NotFoundError(f"template {current.template_id!r} has no version {version}")
