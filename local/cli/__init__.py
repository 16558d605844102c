"""The `jobsched` command (local/cli/app.py). Heavy modules (boto3, moto, uvicorn, the API) are
imported inside the commands, so that `jobsched --help` stays fast."""

from local.cli.app import app

__all__ = ["app"]
