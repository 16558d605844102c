"""The one stack of a stage: composes the capability constructs, holds no resources itself."""

from aws_cdk import Environment, Stack, Tags
from constructs import Construct

from infra import constants
from infra.constructs import Data


class SchedulerStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        env: Environment | None = None,
    ) -> None:
        constants.validate_stage(stage)
        super().__init__(
            scope,
            construct_id,
            stack_name=constants.stack_name(stage),
            description=f"{constants.APP_NAME} job scheduler ({stage})",
            env=env,
        )
        self.stage = stage
        Tags.of(self).add("app", constants.APP_NAME)
        Tags.of(self).add("stage", stage)
        self.data = Data(self, "Data", stage=stage)
