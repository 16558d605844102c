"""Which template a job runs with: the version it was enqueued against, whose rules its params
were checked by, not whatever the template has become since."""

from jobsched.models import JobTemplate
from jobsched.ports import Stores


def template_of(stores: Stores, template_id: str, version: int | None) -> JobTemplate:
    """That version (immutable, cached); the current template for a job enqueued before
    versions were recorded."""
    if version is None:
        return stores.templates.get_cached(template_id)
    return stores.templates.get_version(template_id, version)
