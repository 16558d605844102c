"""The unit's outputs: every file the workload wrote, as S3 objects or as local file URIs."""

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from worker.aws import Uploader


@dataclass
class Kept:
    uris: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # "<object key>: <error>"


def output_files(output_dir: Path) -> list[Path]:
    """Every regular file under `output_dir`, in a stable order."""
    if not output_dir.is_dir():
        return []
    return sorted(path for path in output_dir.rglob("*") if path.is_file())


def object_key(prefix: str, output_dir: Path, path: Path) -> str:
    return prefix + path.relative_to(output_dir).as_posix()


def local(output_dir: Path) -> Kept:
    """Without a bucket the outputs stay where they are (the local runtime keeps them)."""
    return Kept(uris=[path.resolve().as_uri() for path in output_files(output_dir)])


def upload(connect: Callable[[], Uploader], output_dir: Path, bucket: str, prefix: str) -> Kept:
    """Upload each output file to s3://bucket/prefix/<relative path>; a failure spares the rest."""
    kept = Kept()
    for path in output_files(output_dir):
        key = object_key(prefix, output_dir, path)
        content_type, _ = mimetypes.guess_type(path.name)
        try:
            connect().upload_file(
                str(path),
                bucket,
                key,
                ExtraArgs={"ContentType": content_type or "application/octet-stream"},
            )
        except Exception as exc:  # no client, S3UploadFailedError, ClientError, OSError alike
            kept.failures.append(f"{key}: {type(exc).__name__}: {exc}")
            continue
        kept.uris.append(f"s3://{bucket}/{key}")
    return kept
