"""The DynamoDB adapters: the production implementation of the store ports."""

from jobsched.adapters.dynamodb.client import Dynamo
from jobsched.adapters.dynamodb.content import DynamoContentStore
from jobsched.adapters.dynamodb.dispatch import DynamoDispatchStore
from jobsched.adapters.dynamodb.groups import DynamoGroupStore
from jobsched.adapters.dynamodb.jobs import DynamoJobStore
from jobsched.adapters.dynamodb.keys import DynamoKeyStore
from jobsched.adapters.dynamodb.queue import DynamoQueueStore
from jobsched.adapters.dynamodb.runs import DynamoRunStore
from jobsched.adapters.dynamodb.schedules import DynamoScheduleStore
from jobsched.adapters.dynamodb.templates import DynamoTemplateStore
from jobsched.ports import Stores
from jobsched.settings import Settings


def build_stores(settings: Settings, dynamo: Dynamo | None = None) -> Stores:
    dynamo = dynamo or Dynamo(settings)
    templates = DynamoTemplateStore(dynamo)
    groups = DynamoGroupStore(dynamo)
    return Stores(
        templates=templates,
        jobs=DynamoJobStore(dynamo, templates, groups.table),
        queue=DynamoQueueStore(dynamo),
        runs=DynamoRunStore(dynamo),
        groups=groups,
        keys=DynamoKeyStore(dynamo),
        dispatch=DynamoDispatchStore(dynamo),
        schedules=DynamoScheduleStore(dynamo),
        content=DynamoContentStore(dynamo),
    )


__all__ = ["Dynamo", "build_stores"]
