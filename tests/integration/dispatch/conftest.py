"""A dispatcher over the moto stores with a clock the test moves (tests/support/dispatch.py)."""

from tests.support.dispatch import clock, dispatcher, edges, template, wired

__all__ = ["clock", "dispatcher", "edges", "template", "wired"]
