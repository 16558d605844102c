"""One construct per capability; `infra.stack.SchedulerStack` composes them."""

from infra.constructs.data import Data
from infra.constructs.dispatcher import Dispatcher
from infra.constructs.execution import Execution
from infra.constructs.schedules import Schedules
from infra.constructs.webhooks import Webhooks

__all__ = ["Data", "Dispatcher", "Execution", "Schedules", "Webhooks"]
