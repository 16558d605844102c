"""Reading run artifacts from S3 (s3://bucket/key), for indexing a run's outputs and for the
API's download of them."""

from collections.abc import Mapping
from typing import Any, Protocol

from jobsched.adapters.aws.clients import aws_errors, client_options, error_code
from jobsched.adapters.aws.overrides import artifacts_prefix
from jobsched.constants import MAX_CONTENT_FILE_BYTES
from jobsched.content.indexing import checked_size
from jobsched.ports.artifacts import (
    ArtifactRefusedError,
    ArtifactTooLargeError,
    UnreadableArtifactError,
)
from jobsched.settings import Settings

# The object is not there or not ours to read: retrying will not help.
GONE_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "AccessDenied", "404", "403"})


# What every unit's outputs start with (runs/<unit id>/): the API's role reads no more.
RUNS_FOLDER = artifacts_prefix("*").partition("*")[0]


class ObjectGetter(Protocol):
    def get_object(self, *, Bucket: str, Key: str) -> Mapping[str, Any]: ...  # noqa: N803


class S3ArtifactReader:
    """The client is made at the first read unless one is given (boto3 costs cold start).
    `confined`: only objects under runs/ in the deployment's artifacts bucket are read (the
    role allows no more, and a worker wrote the URI)."""

    def __init__(
        self,
        settings: Settings,
        client: ObjectGetter | None = None,
        *,
        limit: int = MAX_CONTENT_FILE_BYTES,
        confined: bool = False,
    ) -> None:
        self.settings = settings
        self._client = client
        self.limit = limit
        self.confined = confined

    @property
    def client(self) -> ObjectGetter:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", **client_options(self.settings))
        return self._client

    def read(self, uri: str) -> bytes:
        # The worker writes s3://<bucket>/<key> with the key as is (not percent-encoded).
        scheme, _, rest = uri.partition("://")
        bucket, _, key = rest.partition("/")
        if scheme != "s3" or not bucket or not key:
            raise UnreadableArtifactError(f"not an S3 object URI: {uri}")
        if self.confined and (
            bucket != self.settings.artifacts_bucket or not key.startswith(RUNS_FOLDER)
        ):
            raise ArtifactRefusedError(f"{uri} is not in this deployment's artifacts")
        try:
            with aws_errors("S3"):
                response = self.client.get_object(Bucket=bucket, Key=key)
                if int(response.get("ContentLength", 0)) > self.limit:
                    raise ArtifactTooLargeError(f"{uri} is larger than {self.limit} bytes")
                data: bytes = response["Body"].read(self.limit + 1)
        except UnreadableArtifactError:
            raise
        except Exception as exc:
            if error_code(exc) in GONE_CODES:
                raise UnreadableArtifactError(f"cannot read {uri}: {error_code(exc)}") from exc
            raise
        return checked_size(uri, data, self.limit)
