"""Lambda entry point of the default templates' seed: a CloudFormation trigger runs it after the
tables exist, on the first deployment and on every deployment that changes the function's code
(which holds the defaults), and it creates the default templates that are missing
(jobsched.jobs.seed.seed_default_templates).

Idempotent: a template that exists is left as it is, even edited or archived. An error raises,
so the trigger fails the deployment rather than leave a fresh install without templates.
"""

from typing import Any

from jobsched.settings import get_settings


def handler(event: dict[str, Any] | None, context: object) -> dict[str, Any]:
    from jobsched.adapters.aws.wiring import table_stores
    from jobsched.jobs.seed import DEFAULT_TEMPLATES, seed_default_templates

    created = seed_default_templates(table_stores(get_settings()))
    kept = [t.template_id for t in DEFAULT_TEMPLATES if t.template_id not in created]
    return {"created": created, "kept": kept}
