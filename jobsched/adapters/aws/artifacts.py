"""Reading run artifacts from S3 (s3://bucket/key), for indexing a run's outputs."""

from collections.abc import Mapping
from typing import Any, Protocol

from jobsched.adapters.aws.clients import aws_errors, client_options, error_code
from jobsched.constants import MAX_CONTENT_FILE_BYTES
from jobsched.content.indexing import UnreadableArtifactError, checked_size
from jobsched.settings import Settings

# The object is not there or not ours to read: retrying will not help.
GONE_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "AccessDenied", "404", "403"})


class ObjectGetter(Protocol):
    def get_object(self, *, Bucket: str, Key: str) -> Mapping[str, Any]: ...  # noqa: N803


class S3ArtifactReader:
    """The client is made at the first read unless one is given (boto3 costs cold start)."""

    def __init__(self, settings: Settings, client: ObjectGetter | None = None) -> None:
        self.settings = settings
        self._client = client

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
        try:
            with aws_errors("S3"):
                response = self.client.get_object(Bucket=bucket, Key=key)
                if int(response.get("ContentLength", 0)) > MAX_CONTENT_FILE_BYTES:
                    raise UnreadableArtifactError(
                        f"{uri} is larger than {MAX_CONTENT_FILE_BYTES} bytes"
                    )
                data: bytes = response["Body"].read(MAX_CONTENT_FILE_BYTES + 1)
        except UnreadableArtifactError:
            raise
        except Exception as exc:
            if error_code(exc) in GONE_CODES:
                raise UnreadableArtifactError(f"cannot read {uri}: {error_code(exc)}") from exc
            raise
        return checked_size(uri, data)
