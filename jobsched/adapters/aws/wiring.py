"""The AWS composition: the DynamoDB stores with the AWS edges (Step Functions kicks, ECS stops,
CloudWatch logs, EventBridge Scheduler), and the dispatcher the Lambdas run."""

from jobsched.adapters.aws.artifacts import S3ArtifactReader
from jobsched.adapters.aws.ecs import EcsTaskStopper
from jobsched.adapters.aws.kicker import StepFunctionsKicker
from jobsched.adapters.aws.launcher import EcsLauncher
from jobsched.adapters.aws.logs import CloudWatchLogReader
from jobsched.adapters.aws.scheduler import schedule_sync
from jobsched.adapters.aws.state_machine import StateMachineSteps
from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.content.hook import ContentIndexer
from jobsched.content.indexing import ArtifactReaders, FileArtifactReader
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.ports import Stores
from jobsched.settings import Settings
from jobsched.webhooks.notify import LambdaNotifier


def aws_stores(settings: Settings, dynamo: Dynamo | None = None) -> Stores:
    stores = build_stores(settings, dynamo)
    tasks = EcsTaskStopper(settings)
    return (
        stores.with_edges(
            StepFunctionsKicker(settings),
            tasks,
            CloudWatchLogReader(settings),
            schedule_sync=schedule_sync(settings),
        )
        .with_launcher(EcsLauncher(settings, stores.dispatch))
        .with_probe(tasks)
        .with_notifier(LambdaNotifier(settings))
        .with_indexer(content_indexer(settings, stores))
    )


def content_indexer(settings: Settings, stores: Stores) -> ContentIndexer:
    """Story and card files of finished units, read from S3 (or files, for local workers)."""
    readers = ArtifactReaders({"s3": S3ArtifactReader(settings), "file": FileArtifactReader()})
    return ContentIndexer(stores.content, readers, settings.dedup_threshold)


def aws_dispatcher(settings: Settings, dynamo: Dynamo | None = None) -> Dispatcher:
    stores = aws_stores(settings, dynamo)
    config = DispatchConfig(
        slots=settings.slots,
        startup_lease_seconds=settings.startup_lease_seconds,
        heartbeat_seconds=settings.heartbeat_seconds,
    )
    return Dispatcher(stores, stores.dispatch, config)


def state_machine_steps(settings: Settings, dynamo: Dynamo | None = None) -> StateMachineSteps:
    dispatcher = aws_dispatcher(settings, dynamo)
    tasks = dispatcher.stores.tasks
    assert isinstance(tasks, EcsTaskStopper)
    return StateMachineSteps(dispatcher, settings, tasks)
