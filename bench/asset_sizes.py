"""What we ship, and what the API's cold start costs from it.

- The Lambda asset (arm64, the runtime's Python): files, MB unzipped and zipped (DEFLATE, as
  the upload is).
- The job image's build context: `container/` filtered by its `.dockerignore`.
- Import time of `api.handler` from the built asset (x86_64, this interpreter's Python, so it
  runs here) in a clean interpreter (-I -S: no venv), against `import fastapi, mangum` from the
  same asset, measured in the same run. Median wall time of fresh interpreters, twice: from
  source with no .pyc (as on Lambda: the asset ships none and /var/task is read-only) and with
  .pyc cached (in a separate folder, so the asset is never written to).
"""

import io
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from infra.packaging import build_lambda_asset, folder_size

ROOT = Path(__file__).resolve().parent.parent
CONTEXT = ROOT / "container"
RUNS = 5
THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
IMPORTS = {
    "empty interpreter": "pass",
    "fastapi, mangum": "import fastapi, mangum",
    "api.handler": "import api.handler",
}


def zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getbuffer().nbytes


def _dockerignore_rules(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, pattern) per line: `*` stays within a folder, `**` crosses them, `!` keeps."""
    rules = []
    ignore = context / ".dockerignore"
    for raw in ignore.read_text().splitlines() if ignore.is_file() else []:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        glob = line.removeprefix("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        rules.append((not keep, re.compile(regex)))
    return rules


def context_files(context: Path) -> list[Path]:
    """What `docker build` sends: the last matching rule wins; a rule matching a folder matches
    everything in it; the Dockerfile is always sent."""
    rules = _dockerignore_rules(context)
    sent = []
    for path in sorted(context.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(context).as_posix()
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        excluded = False
        for excludes, pattern in rules:
            if any(pattern.fullmatch(prefix) for prefix in prefixes):
                excluded = excludes
        if not excluded or relative == "Dockerfile":
            sent.append(path)
    return sent


def wall_ms(asset: Path, statement: str, pycache: Path | None) -> float:
    cache = ["-X", f"pycache_prefix={pycache}"] if pycache else ["-B"]
    code = f"import sys; sys.path.insert(0, sys.argv[1]); {statement}"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-I", "-S", *cache, "-c", code, str(asset)], check=True, timeout=120
    )
    return (time.perf_counter() - started) * 1000


def import_times(asset: Path, pycache: Path | None) -> dict[str, float]:
    medians = {}
    for label, statement in IMPORTS.items():
        wall_ms(asset, statement, pycache)  # warm-up: OS file cache (and the .pyc, if cached)
        medians[label] = statistics.median(wall_ms(asset, statement, pycache) for _ in range(RUNS))
    return medians


def main() -> None:
    started = time.perf_counter()
    asset = build_lambda_asset()
    built = time.perf_counter() - started
    files, size = folder_size(asset)
    print(f"Lambda asset ({asset.name}, ready in {built:.1f} s)")
    zipped = zipped_size(asset)
    print(f"  {files} files, {size / 1e6:.1f} MB unzipped, {zipped / 1e6:.1f} MB zipped")

    sent = context_files(CONTEXT)
    context_bytes = sum(path.stat().st_size for path in sent)
    print("Job image build context (container/ less .dockerignore)")
    print(f"  {len(sent)} files, {context_bytes / 1e6:.2f} MB")

    local = build_lambda_asset("x86_64", THIS_PYTHON)
    print(f"Import time from the x86_64 asset for Python {THIS_PYTHON}, median of {RUNS}, wall")
    with tempfile.TemporaryDirectory() as pycache:
        for mode, cache in (("no .pyc (as on Lambda)", None), (".pyc cached", Path(pycache))):
            times = import_times(local, cache)
            ratio = times["api.handler"] / times["fastapi, mangum"]
            figures = ", ".join(f"{label} {ms:.0f} ms" for label, ms in times.items())
            print(f"  {mode}: {figures}; api.handler / fastapi+mangum {ratio:.2f}")


if __name__ == "__main__":
    main()
