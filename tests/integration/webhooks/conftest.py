"""A webhook receiver on 127.0.0.1 and ended groups (tests/support/hooks.py)."""

from tests.support.hooks import ended_group, hook_server, hook_settings

__all__ = ["ended_group", "hook_server", "hook_settings"]
