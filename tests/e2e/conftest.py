"""The end-to-end tier: `jobsched local` started as a real process
(tests/support/local_process.py), and a webhook receiver it can call (tests/support/hooks.py)."""

from tests.support.hooks import hook_server
from tests.support.local_process import local, local_server

__all__ = ["hook_server", "local", "local_server"]
