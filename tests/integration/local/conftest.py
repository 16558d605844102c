"""The local runtime's parts on moto's server, as `jobsched local` runs them
(tests/support/local.py)."""

from tests.support.local import base_stores, executor, local_dynamo, local_settings, logs, moto_url

__all__ = ["base_stores", "executor", "local_dynamo", "local_settings", "logs", "moto_url"]
