"""Quality gates (issue 17, point 4): a template's checks of its runs' outputs, evaluated on one
run's artifacts into a verdict (jobsched/models/gates.py holds the checks and the verdict). A
run whose outputs fail is to be recorded REJECTED; evaluating writes nothing."""

from jobsched.gates.evaluate import evaluate

__all__ = ["evaluate"]
