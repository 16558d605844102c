"""One construct per capability; `infra.stack.SchedulerStack` composes them."""

from infra.constructs.data import Data

__all__ = ["Data"]
