"""The AWS composition root: the DynamoDB stores with the AWS edges (Step Functions kicks, ECS
stops and launches, CloudWatch logs, EventBridge Scheduler, the webhook Lambda, S3 outputs),
and the dispatcher the Lambdas run. The API (api/app.py) and every Lambda entry point
(functions/) ask this module for what they need; none builds stores itself.
"""

from jobsched.adapters.aws.artifacts import S3ArtifactReader
from jobsched.adapters.aws.ecs import EcsTaskStopper
from jobsched.adapters.aws.kicker import StepFunctionsKicker
from jobsched.adapters.aws.launcher import EcsLauncher
from jobsched.adapters.aws.logs import CloudWatchLogReader
from jobsched.adapters.aws.notifier import LambdaNotifier
from jobsched.adapters.aws.overrides import artifacts_prefix
from jobsched.adapters.aws.scheduler import EventBridgeScheduleSync, schedule_sync
from jobsched.adapters.aws.state_machine import StateMachineSteps
from jobsched.adapters.dynamodb import Dynamo, build_stores
from jobsched.constants import MAX_ARTIFACT_DOWNLOAD_BYTES
from jobsched.content.hook import ContentIndexer
from jobsched.content.indexing import ArtifactReaders, FileArtifactReader
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher, free_slots
from jobsched.gates.hook import QualityGate
from jobsched.ports import ArtifactReader, NoArtifacts, Stores
from jobsched.settings import Settings


def table_stores(settings: Settings, dynamo: Dynamo | None = None) -> Stores:
    """The DynamoDB stores alone, for a function that only reads and writes records (the seed,
    the webhook sender)."""
    return build_stores(settings, dynamo)


def aws_stores(settings: Settings, dynamo: Dynamo | None = None) -> Stores:
    stores = build_stores(settings, dynamo)
    tasks = EcsTaskStopper(settings)
    return (
        stores.with_edges(
            StepFunctionsKicker(
                settings, slot_free=lambda: bool(free_slots(stores.dispatch, settings.slots))
            ),
            tasks,
            CloudWatchLogReader(settings),
            schedule_sync=schedule_sync(settings),
        )
        .with_launcher(EcsLauncher(settings, stores.dispatch))
        .with_probe(tasks)
        .with_notifier(LambdaNotifier(settings))
        .with_indexer(content_indexer(settings, stores))
        .with_gate(quality_gate(settings, stores))
    )


def api_stores(settings: Settings) -> Stores:
    """The API's: on AWS (a state machine is configured) enqueues kick it, cancels stop ECS
    tasks and logs come from CloudWatch; without one the API only queues. Schedules are written
    to EventBridge Scheduler where a fire target is configured (JOBSCHED_SCHEDULE_TARGET_ARN).
    Artifacts download from the artifacts bucket where one is configured."""
    if settings.state_machine_arn:
        return aws_stores(settings).with_artifacts(artifact_downloads(settings))
    stores = build_stores(settings)
    if settings.schedule_target_arn:
        stores = stores.with_schedule_sync(EventBridgeScheduleSync(settings))
    return stores.with_artifacts(artifact_downloads(settings))


def artifact_downloads(settings: Settings) -> ArtifactReader:
    """GET /runs/{id}/artifacts/{index}: objects under runs/ in the artifacts bucket only (no
    file:// here: the Lambda's own files are not a run's), up to the download bound."""
    if not settings.artifacts_bucket:
        return NoArtifacts()
    reader = S3ArtifactReader(settings, limit=MAX_ARTIFACT_DOWNLOAD_BYTES, confined=True)
    return ArtifactReaders({"s3": reader})


def schedule_stores(settings: Settings) -> Stores:
    """The schedule fire's and the drift repair's: as aws_stores, and a leftover EventBridge
    schedule (one without a record) can always be deleted, which needs only the group."""
    return aws_stores(settings).with_schedule_sync(EventBridgeScheduleSync(settings))


def content_indexer(settings: Settings, stores: Stores) -> ContentIndexer:
    """Story and card files of finished units, read from S3 (or files, for local workers)."""
    readers = ArtifactReaders({"s3": S3ArtifactReader(settings), "file": FileArtifactReader()})
    return ContentIndexer(stores.content, readers, settings.dedup_threshold)


def quality_gate(settings: Settings, stores: Stores) -> QualityGate:
    """Templates' checks of finished jobs' outputs, read from S3 where the workers put them
    (s3://<bucket>/runs/<unit id>/, adapters/aws/overrides.py)."""
    readers = ArtifactReaders({"s3": S3ArtifactReader(settings), "file": FileArtifactReader()})

    def outputs_of(unit_id: str) -> str:
        return f"s3://{settings.artifacts_bucket}/{artifacts_prefix(unit_id)}"

    return QualityGate(readers, stores.content, outputs_of)


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
