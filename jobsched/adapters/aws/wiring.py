"""The AWS composition: the DynamoDB stores with the AWS edges (Step Functions kicks, ECS stops,
CloudWatch logs, EventBridge Scheduler), and the dispatcher the Lambdas run."""

from jobsched.adapters.aws.ecs import EcsTaskStopper
from jobsched.adapters.aws.kicker import StepFunctionsKicker
from jobsched.adapters.aws.logs import CloudWatchLogReader
from jobsched.adapters.aws.scheduler import schedule_sync
from jobsched.adapters.aws.state_machine import StateMachineSteps
from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.ports import Stores
from jobsched.settings import Settings
from jobsched.webhooks.notify import LambdaNotifier


def aws_stores(settings: Settings, dynamo: Dynamo | None = None) -> Stores:
    return (
        build_stores(settings, dynamo)
        .with_edges(
            StepFunctionsKicker(settings),
            EcsTaskStopper(settings),
            CloudWatchLogReader(settings),
            schedule_sync=schedule_sync(settings),
        )
        .with_notifier(LambdaNotifier(settings))
    )


def aws_dispatcher(settings: Settings, dynamo: Dynamo | None = None) -> Dispatcher:
    stores = aws_stores(settings, dynamo)
    config = DispatchConfig(
        slots=settings.slots, startup_lease_seconds=settings.startup_lease_seconds
    )
    return Dispatcher(stores, stores.dispatch, config)


def state_machine_steps(settings: Settings, dynamo: Dynamo | None = None) -> StateMachineSteps:
    dispatcher = aws_dispatcher(settings, dynamo)
    tasks = dispatcher.stores.tasks
    assert isinstance(tasks, EcsTaskStopper)
    return StateMachineSteps(dispatcher, settings, tasks)
