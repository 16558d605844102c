"""Where jobs run: a VPC without NAT, an ECS cluster, the worker's Fargate task definition
(built from container/), its log group, and the artifacts bucket.

Tasks get a public IP in public subnets instead of a NAT gateway (about 32 USD a month each)
or interface endpoints: they only call AWS APIs (ECR, CloudWatch Logs, DynamoDB, S3) and accept
no inbound traffic. S3 and DynamoDB go through free gateway endpoints.
"""

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import constants, nag
from infra.assets import CONTAINER_DIR
from jobsched.adapters.aws.overrides import artifacts_prefix
from jobsched.settings import Settings
from jobsched.worker_contract import ENV_MODEL_KEYS_SECRET, ENV_MODEL_PROVIDER

# The worker's container name and log stream prefix are the settings' defaults, so the
# Lambdas' settings and the task definition agree without configuration.
_DEFAULTS = Settings.model_fields
CONTAINER_NAME: str = _DEFAULTS["container_name"].default
LOG_STREAM_PREFIX: str = _DEFAULTS["log_stream_prefix"].default
_TMP_VOLUME = "tmp"


TIERING_AFTER_DAYS = 30  # run outputs move to S3 Intelligent-Tiering after a month


def log_retention(stage: str) -> logs.RetentionDays:
    """A throwaway stage keeps its logs a week; any other stage three months."""
    if constants.is_dev_stage(stage):
        return logs.RetentionDays.ONE_WEEK
    return logs.RetentionDays.THREE_MONTHS


def removal_policy(stage: str) -> RemovalPolicy:
    """A dev stage's resources go with the stack. Any other stage keeps them when the stack is
    deleted or a change would remove or replace them (DeletionPolicy RetainExceptOnCreate,
    UpdateReplacePolicy Retain), except when the deploy that created them rolls back: then
    CloudFormation deletes them, so a failed first deploy leaves no fixed name taken and can be
    retried."""
    if constants.is_dev_stage(stage):
        return RemovalPolicy.DESTROY
    return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE


class Execution(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        tables: Mapping[str, dynamodb.ITable],
        task_cpu: int = constants.TASK_CPU,
        task_memory_mib: int = constants.TASK_MEMORY_MIB,
        artifact_retention_days: int | None = None,
        model_provider: str = "offline",
        model_keys_secret_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Where the workloads' text comes from (container/README.md): offline unless chosen.
        self.model_provider = model_provider
        self.model_keys_secret_arn = model_keys_secret_arn
        self.artifact_retention_days = artifact_retention_days  # None: outputs are kept
        self.task_cpu = task_cpu  # the task definition's size; templates override per task
        self.task_memory_mib = task_memory_mib
        self.vpc = self._vpc(stage)
        self.security_group = ec2.SecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc=self.vpc,
            description="jobsched worker tasks: no inbound, outbound to AWS APIs",
            allow_all_outbound=True,
        )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.log_group = logs.LogGroup(
            self,
            "TaskLogs",
            retention=log_retention(stage),
            removal_policy=removal_policy(stage),
        )
        self.bucket = self._bucket(stage)
        self.task_definition, self.container = self._task_definition()
        self._grant_worker(tables)
        execution_role = self.task_definition.execution_role
        assert execution_role is not None  # an image asset and awslogs need one
        nag.acknowledge(
            execution_role,
            nag.wildcard_resource("*"),
            "ecr:GetAuthorizationToken takes no resource (image pulls are scoped to the repo)",
        )

    def _vpc(self, stage: str) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                )
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        # Rejected traffic only: nothing should ever knock, and accepted API traffic would
        # cost ingestion without telling anything the services' own logs do not.
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                logs.LogGroup(
                    self,
                    "FlowLogs",
                    retention=log_retention(stage),
                    removal_policy=removal_policy(stage),
                )
            ),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        return vpc

    def _bucket(self, stage: str) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=self._lifecycle_rules(),
            # A dev stack's bucket goes with the stack once emptied; others keep the outputs.
            removal_policy=removal_policy(stage),
        )
        nag.acknowledge(
            bucket,
            "AwsSolutions-S1",
            "only worker tasks write (under runs/, through their role) and the API reads; "
            "server access logs would need a second bucket. Enable CloudTrail S3 data events "
            "where an audit trail of object access is required",
        )
        return bucket

    def _lifecycle_rules(self) -> list[s3.LifecycleRule]:
        """Outputs are written once and read soon after: after a month they move to
        Intelligent-Tiering (cheaper while nobody reads them, no retrieval fee); a run's outputs
        expire with its record (the history retention), when one is set; an upload a stopped
        task left half done is cleaned up after a day."""
        days = self.artifact_retention_days
        runs: dict[str, Any] = {"id": "RunOutputs", "prefix": "runs/"}
        if days is None or days > TIERING_AFTER_DAYS:  # S3 expires only after a transition
            runs["transitions"] = [
                s3.Transition(
                    storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                    transition_after=Duration.days(TIERING_AFTER_DAYS),
                )
            ]
        if days is not None:
            runs["expiration"] = Duration.days(days)
        return [
            s3.LifecycleRule(**runs),
            s3.LifecycleRule(
                id="AbortIncompleteUploads",
                abort_incomplete_multipart_upload_after=Duration.days(1),
            ),
        ]

    def _task_definition(self) -> tuple[ecs.FargateTaskDefinition, ecs.ContainerDefinition]:
        task_definition = ecs.FargateTaskDefinition(
            self,
            "Worker",
            cpu=self.task_cpu,
            memory_limit_mib=self.task_memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        # The root filesystem is read-only; the worker's outputs go to a task-local /tmp.
        task_definition.add_volume(name=_TMP_VOLUME)
        container = task_definition.add_container(
            "WorkerContainer",
            container_name=CONTAINER_NAME,
            # Synth copies the build context; docker builds it at deploy.
            image=ecs.ContainerImage.from_asset(
                str(CONTAINER_DIR), platform=ecr_assets.Platform.LINUX_AMD64
            ),
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=LOG_STREAM_PREFIX, log_group=self.log_group
            ),
            readonly_root_filesystem=True,
            # Above the worker's 10 s grace after SIGTERM, so its result is still sent.
            stop_timeout=Duration.seconds(30),
            environment=self._worker_environment(),
        )
        container.add_mount_points(
            ecs.MountPoint(container_path="/tmp", source_volume=_TMP_VOLUME, read_only=False)  # noqa: S108
        )
        nag.acknowledge(
            task_definition,
            "AwsSolutions-ECS2",
            "the variables hold no secret: the model provider's name and the ARN of the secret "
            "holding its keys, which the worker reads with its role at start",
        )
        return task_definition, container

    def _worker_environment(self) -> dict[str, str]:
        """The same for every task (each task's own unit comes in its overrides)."""
        environment = {ENV_MODEL_PROVIDER: self.model_provider}
        if self.model_keys_secret_arn:
            environment[ENV_MODEL_KEYS_SECRET] = self.model_keys_secret_arn
        return environment

    def _grant_worker(self, tables: Mapping[str, dynamodb.ITable]) -> None:
        """The worker writes its outputs under runs/ and its heartbeat and result (runs and
        lock tables, through the dispatcher's transaction templates); nothing else."""
        role = self.task_definition.task_role
        runs = f"{artifacts_prefix('*')}*"
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # PutObject covers multipart uploads but for aborting one.
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self.bucket.arn_for_objects(runs)],
            )
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource(f"<{nag.logical_id(self.bucket)}.Arn>/{runs}"),
            "each run writes under runs/<unit id>/; a task role cannot be scoped per run",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem"],
                resources=[tables["runs"].table_arn, tables["lock"].table_arn],
            )
        )
        if self.model_keys_secret_arn:  # the litellm provider reads its keys once, at start
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[self.model_keys_secret_arn],
                )
            )

    def grant_task_control(self, role: iam.IRole) -> None:
        """Find the cluster's tasks and stop them (cancel, timeout, recovery): ListTasks where
        the cluster condition scopes it, DescribeTasks and StopTask on the cluster's tasks.

        `role` is a traced function's role: cdk-nag keeps one reason per finding and construct,
        so the `Resource::*` acknowledgment made here speaks for X-Ray's actions too."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ecs:ListTasks"],
                resources=["*"],  # ListTasks has no task resource; the condition scopes it
                conditions={"ArnEquals": {"ecs:cluster": self.cluster.cluster_arn}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeTasks", "ecs:StopTask"], resources=[self.cluster_task_arns]
            )
        )
        cluster = nag.logical_id(self.cluster)
        nag.acknowledge(
            role,
            nag.wildcard_resource(
                f"arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<{cluster}>/*"
            ),
            "tasks are created per run: any task of the scheduler's own cluster",
        )
        nag.acknowledge(
            role,
            nag.wildcard_resource("*"),
            "ecs:ListTasks has no resource type (scoped by the ecs:cluster condition); "
            f"{nag.XRAY_TAKES_NO_RESOURCE}",
        )

    @property
    def cluster_task_arns(self) -> str:
        """Every task of this cluster (ECS task ARNs carry the cluster's name)."""
        stack = Stack.of(self)
        return stack.format_arn(
            service="ecs", resource="task", resource_name=f"{self.cluster.cluster_name}/*"
        )
