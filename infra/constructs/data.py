"""The data layer: every DynamoDB table of `jobsched.adapters.dynamodb.tables.TABLES`.

The specs are the single description of tables and indexes; the local runtime and the tests
create the same tables from them, so nothing here names a key or an index by hand.
"""

from collections.abc import Mapping
from types import MappingProxyType

from aws_cdk import CfnOutput
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra import constants
from infra.constructs.execution import removal_policy
from jobsched.adapters.dynamodb.tables import TABLES, TableSpec

# Every key attribute is a string, as in `create_table_request` (a test keeps the two equal).
_STRING = dynamodb.AttributeType.STRING


def _attribute(name: str | None) -> dynamodb.Attribute | None:
    return dynamodb.Attribute(name=name, type=_STRING) if name else None


def has_indexes(entity: str) -> bool:
    """Whether the entity's table has indexes of its own (a grant of Query then covers them)."""
    spec = next(spec for spec in TABLES if spec.entity == entity)
    return bool(spec.global_indexes or spec.local_indexes)


class Data(Construct):
    """The tables, by entity name (`data.tables["jobs"]`), with their names as stack outputs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        specs: tuple[TableSpec, ...] = TABLES,
        environment: Mapping[str, str] | None = None,
        deletion_protection: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        # Off by default: DynamoDB refuses to delete a protected table even to CloudFormation,
        # so a failed first deploy could not roll back (docs/decisions.md, issue 13).
        self.deletion_protection = deletion_protection and not constants.is_dev_stage(stage)
        self.environment = dict(environment or {})  # deployment settings every process reads
        self.table_prefix = constants.table_prefix(stage)
        tables = {spec.entity: self._table(spec) for spec in specs}
        self.tables: Mapping[str, dynamodb.Table] = MappingProxyType(tables)
        self.table_names: Mapping[str, str] = MappingProxyType(
            {entity: constants.table_name(stage, entity) for entity in tables}
        )
        for entity, table in tables.items():
            output = CfnOutput(
                self,
                constants.output_id(entity),
                value=table.table_name,
                description=f"Name of the {entity} table ({constants.settings_env_var(entity)})",
            )
            # Deploy scripts read outputs by logical id (describe-stacks), so pin it.
            output.override_logical_id(constants.output_id(entity))

    def settings_environment(self) -> dict[str, str]:
        """Environment for a function that builds `jobsched.settings.Settings`: each table's name
        (tokens, not literals, so a consumer of the names also depends on the tables), and the
        deployment's settings every process shares (slots, run retention)."""
        tables = {
            constants.settings_env_var(entity): table.table_name
            for entity, table in self.tables.items()
        }
        return {**self.environment, **tables}

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            constants.pascal(spec.entity),
            table_name=constants.table_name(self.stage, spec.entity),
            partition_key=dynamodb.Attribute(name=spec.partition, type=_STRING),
            sort_key=_attribute(spec.sort),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=spec.ttl_attribute,
            # Dev stacks come and go with their data; any other stage keeps its tables when
            # the stack is deleted or a change would replace them (but not after a failed
            # first create: see removal_policy).
            deletion_protection=self.deletion_protection,
            removal_policy=removal_policy(self.stage),
        )
        # Pinned: with a derived id, moving this construct would make CloudFormation create a
        # second table of the same name (and fail) instead of keeping the data.
        cfn_table = table.node.default_child
        assert isinstance(cfn_table, dynamodb.CfnTable)
        cfn_table.override_logical_id(constants.table_logical_id(spec.entity))
        self._add_indexes(table, spec)
        return table

    @staticmethod
    def _add_indexes(table: dynamodb.Table, spec: TableSpec) -> None:
        # Projection ALL, as `create_table_request` does: the adapters read whole items.
        for index in spec.global_indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(name=index.partition, type=_STRING),
                sort_key=_attribute(index.sort),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        for index in spec.local_indexes:
            if index.partition != spec.partition or index.sort is None:
                raise ValueError(
                    f"{spec.entity}.{index.name}: a local index shares the table's partition "
                    f"key ({spec.partition}) and needs its own sort key"
                )
            table.add_local_secondary_index(
                index_name=index.name,
                sort_key=dynamodb.Attribute(name=index.sort, type=_STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
