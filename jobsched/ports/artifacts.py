"""Reading a run's artifacts: the files its worker wrote, named by the URIs the run records
(file:// locally, s3:// on AWS). Indexing reads story and card files through it; the API's
download serves any of them."""

from typing import Protocol

from jobsched.errors import NotFoundError


class UnreadableArtifactError(Exception):
    """The artifact cannot be read, and retrying will not help (missing, too large, not ours)."""


class ArtifactTooLargeError(UnreadableArtifactError):
    """The artifact is larger than the reader's bound."""


class ArtifactRefusedError(UnreadableArtifactError):
    """The URI points outside what this reader may read (another folder or bucket): a worker
    wrote it, so it is not trusted to name only its own outputs."""


class ArtifactReader(Protocol):
    def read(self, uri: str) -> bytes:
        """The artifact's bytes; UnreadableArtifactError (or a subclass) when it cannot be had."""
        ...


class NoArtifacts:
    """For processes that serve no artifacts (the CLI, tests of the stores alone)."""

    def read(self, uri: str) -> bytes:
        raise NotFoundError("artifacts cannot be read here")
