"""The synthesised stack on moto: state machine executions, ECS, the Lambda handlers
(tests/support/aws_world.py), in process or in moto's server (tests/support/emulator.py)."""

import os

from tests.support.aws_world import handler_settings, stack, world
from tests.support.emulator import moto_endpoint, served_world

# jsii starts its Node kernel on the first aws_cdk import and prints a red banner on Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

__all__ = ["handler_settings", "moto_endpoint", "served_world", "stack", "world"]
