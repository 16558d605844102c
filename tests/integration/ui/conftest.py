"""The dashboard's in-process tests, on the embedded store: the dashboard reaches the stores only
through the API, whose own tests run on both (tests/integration/conftest.py)."""

import pytest
from fastapi.testclient import TestClient

from jobsched.models import Scope
from jobsched.ports import Stores
from tests.support.lambda_events import handler
from tests.support.ui import ui_client

__all__ = ["handler"]
from tests.support.ui_runs import run_world

__all__ = ["run_world"]


@pytest.fixture
def admin_ui(stores: Stores) -> TestClient:
    return ui_client(stores, [Scope.ADMIN])


@pytest.fixture
def reader_ui(stores: Stores) -> TestClient:
    return ui_client(stores, [Scope.READ])
