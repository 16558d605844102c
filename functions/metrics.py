"""The functions' metrics: the core's MetricsSink on Powertools Metrics, which prints CloudWatch
embedded metric format (EMF) to stdout; Lambda's log group turns each blob into metrics.

Namespace `jobsched`; one dimension, `service`, from POWERTOOLS_SERVICE_NAME, which the stack
sets to `jobsched-<stage>` (infra/constructs/monitoring.py), so stages never mix. A handler
decorated with `flushed` prints what it recorded once per invocation. Powertools is imported on
the first metric, not at cold start of a module that may report nothing.
"""

import logging
from collections.abc import Callable, Mapping
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, TypeVar

from jobsched.ports.metrics import NAMESPACE

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

    from jobsched.dispatch.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

Handler = TypeVar("Handler", bound=Callable[..., Any])


class PowertoolsMetrics:
    """A MetricsSink writing EMF through Powertools. Never raises: a metric lost is logged, the
    dispatch step it described stands."""

    def __init__(self, metrics: "Metrics") -> None:
        self.metrics = metrics

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        self._add(name, "Count", value, dimensions)

    def seconds(self, name: str, value: float, **dimensions: str) -> None:
        self._add(name, "Seconds", value, dimensions)

    def flush(self) -> None:
        """Print what was recorded since the last flush, if anything (one EMF blob)."""
        if not self.metrics.metric_set:
            return  # Powertools warns on an empty flush; an idle claim records nothing
        try:
            self.metrics.flush_metrics()
        except Exception:
            logger.warning("metrics not flushed", exc_info=True)
            self.metrics.clear_metrics()

    def _add(self, name: str, unit: str, value: float, dimensions: Mapping[str, str]) -> None:
        try:
            if dimensions:
                self._single(name, unit, value, dimensions)
            else:
                self.metrics.add_metric(name=name, unit=unit, value=value)
        except Exception:
            logger.warning("metric %s not recorded", name, exc_info=True)

    def _single(self, name: str, unit: str, value: float, dimensions: Mapping[str, str]) -> None:
        """A blob of its own: every metric of a blob shares its dimensions."""
        from aws_lambda_powertools import single_metric
        from aws_lambda_powertools.metrics import MetricUnit

        service = {"service": str(self.metrics.service)} if self.metrics.service else {}
        with single_metric(
            name=name,
            unit=MetricUnit(unit),
            value=value,
            namespace=NAMESPACE,
            default_dimensions={**service, **dimensions},
        ):
            pass


@cache
def sink() -> PowertoolsMetrics:
    from aws_lambda_powertools import Metrics

    # The service (the stage's) comes from POWERTOOLS_SERVICE_NAME.
    return PowertoolsMetrics(Metrics(namespace=NAMESPACE))


def reporting(dispatcher: "Dispatcher") -> "Dispatcher":
    """The same dispatcher, reporting to this function's metrics."""
    from jobsched.dispatch.dispatcher import Dispatcher

    stores = dispatcher.stores.with_metrics(sink())
    return Dispatcher(stores, dispatcher.dispatch, dispatcher.config, dispatcher.clock)


def flushed(handler: Handler) -> Handler:
    """Print the invocation's metrics when the handler returns or raises."""

    @wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            if sink.cache_info().currsize:  # nothing made the sink: nothing to print
                sink().flush()

    return run  # type: ignore[return-value]
