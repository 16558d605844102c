"""Stage rules and names (no synthesis): the names the stack deploys are the ones the
processes of that stage will look for through jobsched.settings."""

import pytest

from infra import constants
from jobsched.adapters.dynamodb.tables import TABLES
from jobsched.settings import Settings

ENTITIES = [spec.entity for spec in TABLES]


@pytest.mark.parametrize("stage", ["dev", "prod", "dev-alice", "staging2", "a"])
def test_valid_stages(stage: str) -> None:
    assert constants.validate_stage(stage) == stage


@pytest.mark.parametrize("stage", ["", "Prod", "1dev", "dev_alice", "dev alice", "x" * 21])
def test_invalid_stages(stage: str) -> None:
    with pytest.raises(ValueError, match="stage"):
        constants.validate_stage(stage)


@pytest.mark.parametrize(
    ("stage", "dev"),
    [("dev", True), ("dev-alice", True), ("prod", False), ("staging", False), ("develop", False)],
)
def test_only_dev_stages_are_disposable(stage: str, dev: bool) -> None:
    assert constants.is_dev_stage(stage) is dev


@pytest.mark.parametrize("entity", ENTITIES)
def test_table_names_follow_the_settings_prefix_rule(
    entity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(constants.settings_env_var(entity), raising=False)
    settings = Settings(table_prefix=constants.table_prefix("prod"))
    assert settings.table(entity) == constants.table_name("prod", entity)


@pytest.mark.parametrize("entity", ENTITIES)
def test_settings_read_the_table_name_variable(
    entity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(constants.settings_env_var(entity), "from-the-stack")
    assert Settings().table(entity) == "from-the-stack"
