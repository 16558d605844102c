"""The Lambda functions' code asset, built without docker: our packages plus their runtime
dependencies, installed by pip as manylinux wheels for the Lambda runtime's CPython.

`python -m infra.packaging [--arch arm64|x86_64] [--python 3.14]` builds one ahead of time (for
instance before going offline) and prints where it is, its size and the wheels in it.

Under `<repo>/.build/` (git-ignored):

- `deps-<arch>-py<ver>-<key>/`: what pip installed, keyed by the requirements and the platform;
- `lambda-<arch>-py<ver>-<key>/` (e.g. `lambda-arm64-py314-…`): the asset, those dependencies
  plus `jobsched/`, `functions/` and `api/`, keyed by the dependencies' key and our sources.

A source edit rebuilds the asset by copying, without pip. A folder is built under a temporary
name and moved into place with `os.replace` while holding a file lock, so parallel test workers
and concurrent synths find a whole folder or none; once in place it never changes (new content
gets a new key), and only the oldest folders are pruned.
"""

import argparse
import fcntl
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final, Literal, get_args

Arch = Literal["arm64", "x86_64"]

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
SOURCE_ROOT = REPO_ROOT  # where LAMBDA_PACKAGES are read from (tests point it elsewhere)
PYPROJECT: Final = REPO_ROOT / "pyproject.toml"
BUILD_ROOT: Final = REPO_ROOT / ".build"

LAMBDA_PYTHON: Final = "3.14"  # infra/functions.py LAMBDA_RUNTIME; a test keeps them equal
# The dashboard's overview reads its figures with jobsched_client.summary, as `jobsched status`.
LAMBDA_PACKAGES: Final = ("jobsched", "jobsched_client", "functions", "api")
# Files the API serves besides code: the legacy responses' Link header names the guide.
LAMBDA_FILES: Final = ("docs/migration.md",)
LAMBDA_EXTRA: Final = "api"  # the API function's FastAPI stack, on top of the core's needs

# The Lambda runtime ships boto3 and its dependencies. /var/task comes first on sys.path, so a
# bundled copy would shadow the runtime's and could break its boto3 when either side moves.
RUNTIME_PROVIDED: Final = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3"})
# fractional-indexing 0.1.3 declares setuptools as a dependency but never imports it (4 MB).
NEVER_IMPORTED: Final = frozenset({"setuptools"})
# What we bundle and the runtime's botocore also imports must stay in the range botocore takes
# (python-dateutil 4 exists; botocore 1.x requires <3).
CONSTRAINTS: Final = ("python-dateutil<3",)

# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34): wheels for glibc 2.17
# (manylinux2014) up to 2.28 all run there. pip matches each tag literally, so list them.
_MANYLINUX: Final = ("manylinux2014", *(f"manylinux_2_{minor}" for minor in range(17, 29)))
_MACHINE: Final[dict[str, str]] = {"arm64": "aarch64", "x86_64": "x86_64"}
_ELF_MACHINE: Final[dict[str, int]] = {"arm64": 0xB7, "x86_64": 0x3E}  # ELF header e_machine
_BUILD_FORMAT: Final = 1  # bump when the steps below change, so cached folders are rebuilt
_NOT_SHIPPED: Final = frozenset({"__pycache__", "tests"})
_KEEP: Final = 3  # folders kept per variant; a synth still copying an older one is unharmed


class PackagingError(RuntimeError):
    """The asset could not be built; the message says what to do."""


def build_lambda_asset(
    arch: Arch = "arm64", python: str = LAMBDA_PYTHON, out_root: Path = BUILD_ROOT
) -> Path:
    """The asset folder for `arch` and CPython `python`, built if not already cached."""
    if arch not in get_args(Arch):
        raise ValueError(f"arch must be one of {get_args(Arch)}, not {arch!r}")
    label = f"{arch}-py{python.replace('.', '')}"  # no dot: CDK would take it for an extension
    requirements = lambda_requirements()
    deps = out_root / f"deps-{label}-{_deps_key(requirements, arch, python)}"
    sources = source_files(SOURCE_ROOT)
    asset = out_root / f"lambda-{label}-{_asset_key(deps.name, SOURCE_ROOT, sources)}"
    if asset.is_dir():
        os.utime(asset)  # recently used: pruned last
        return asset
    out_root.mkdir(parents=True, exist_ok=True)
    with _build_lock(out_root):
        if not asset.is_dir():  # another process may have built it while we waited
            if deps.is_dir():
                os.utime(deps)
            else:
                _publish(deps, lambda tmp: _install(tmp, requirements, arch, python))
            _publish(asset, lambda tmp: _assemble(tmp, deps, SOURCE_ROOT, sources))
            _prune(out_root, f"lambda-{label}-")
            _prune(out_root, f"deps-{label}-")
    return asset


def lambda_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """The core's dependencies and the API extra, as pyproject.toml declares them."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"][LAMBDA_EXTRA]]


def platform_tags(arch: Arch) -> list[str]:
    return [f"{manylinux}_{_MACHINE[arch]}" for manylinux in _MANYLINUX]


def source_files(root: Path) -> list[Path]:
    """Our packages' files, relative to `root`: no caches, no tests, no dot-files."""
    found: list[Path] = []
    for package in LAMBDA_PACKAGES:
        for path in (root / package).rglob("*"):
            relative = path.relative_to(root)
            skipped = any(part in _NOT_SHIPPED or part.startswith(".") for part in relative.parts)
            is_test = path.name.startswith("test_") or path.name == "conftest.py"
            if path.is_file() and not (skipped or is_test) and path.suffix not in {".pyc", ".pyo"}:
                found.append(relative)
    found += [Path(name) for name in LAMBDA_FILES if (root / name).is_file()]
    return sorted(found)


def run_pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """`python -m pip <args>` with this interpreter's pip (tests replace it)."""
    return subprocess.run(  # noqa: S603 - this interpreter's pip, our own arguments
        [sys.executable, "-m", "pip", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def installed_wheels(folder: Path) -> list[tuple[str, str, str]]:
    """(name, version, wheel tags) of each distribution in `folder`, by name."""
    found = []
    for dist in importlib.metadata.distributions(path=[str(folder)]):
        wheel = dist.read_text("WHEEL") or ""
        tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line[:4] == "Tag:"]
        found.append((dist.metadata["Name"], dist.version, ".".join(tags)))
    return sorted(found, key=lambda row: row[0].lower())


def folder_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) under `folder`."""
    sizes = [path.stat().st_size for path in folder.rglob("*") if path.is_file()]
    return len(sizes), sum(sizes)


def _deps_key(requirements: list[str], arch: Arch, python: str) -> str:
    recipe = {
        "format": _BUILD_FORMAT,
        "requirements": requirements,
        "constraints": CONSTRAINTS,
        "removed": sorted(RUNTIME_PROVIDED | NEVER_IMPORTED),
        "platforms": platform_tags(arch),
        "python": python,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def _asset_key(deps_name: str, root: Path, sources: list[Path]) -> str:
    digest = hashlib.sha256(deps_name.encode())
    for relative in sources:
        digest.update(f"\0{relative.as_posix()}\0".encode())
        digest.update((root / relative).read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def _build_lock(out_root: Path) -> Iterator[None]:
    with (out_root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            # Only a lock holder creates temporary folders: any left is from a killed build.
            for stale in out_root.glob(".tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _publish(final: Path, fill: Callable[[Path], None]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=final.parent))
    try:
        fill(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it 0700; Lambda needs o+rx on folders
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _install(target: Path, requirements: list[str], arch: Arch, python: str) -> None:
    constraints = target.parent / f"{target.name}.constraints.txt"
    constraints.write_text("".join(f"{line}\n" for line in CONSTRAINTS))
    args = [
        "install",
        "--target",
        str(target),
        "--implementation",
        "cp",
        "--python-version",
        python,
        "--only-binary=:all:",
        *(f"--platform={tag}" for tag in platform_tags(arch)),
        "--no-compile",  # .pyc of this interpreter's version would be dead weight on Lambda
        "--disable-pip-version-check",
        "--no-input",
        "--constraint",
        str(constraints),
        *requirements,
    ]
    try:
        result = run_pip(args)
    finally:
        constraints.unlink(missing_ok=True)
    if result.returncode != 0:
        raise PackagingError(_pip_failure(result.stderr, arch, python))
    _remove_distributions(target, RUNTIME_PROVIDED | NEVER_IMPORTED)
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts, shebangs of this host
    _check_binaries(target, arch, python)


def _pip_failure(stderr: str, arch: Arch, python: str) -> str:
    platform = f"{arch} ({platform_tags(arch)[0]} to {platform_tags(arch)[-1]}, CPython {python})"
    missing = re.search(
        r"(?:No matching distribution found for|satisfies the requirement) ([^\s;]+)", stderr
    )
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR")]
    said = errors[-1] if errors else (stderr.strip().splitlines() or ["no output"])[-1]
    what = f"no wheel of {missing.group(1)}" if missing else "the Lambda dependencies"
    return (
        f"pip found {what} for {platform}: {said}\n"
        "Offline? Run with network access to the package index, or build the asset ahead of "
        f"time with `python -m infra.packaging --arch {arch} --python {python}` (it is cached "
        "in .build/). If the package publishes no such wheel, pin a version that has one in "
        "pyproject.toml or drop the dependency."
    )


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _remove_distributions(target: Path, names: frozenset[str]) -> None:
    root = target.resolve()
    for dist in importlib.metadata.distributions(path=[str(target)]):
        if _canonical(dist.metadata["Name"]) not in names:
            continue
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file))).resolve()
            if path.is_relative_to(root) and path.is_file():
                path.unlink()
    for folder in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    left = [
        dist.metadata["Name"]
        for dist in importlib.metadata.distributions(path=[str(target)])
        if _canonical(dist.metadata["Name"]) in names
    ]
    left += [name for name in names if (target / name).exists() or (target / f"{name}.py").exists()]
    if left:
        raise PackagingError(f"could not remove {sorted(set(left))} from the Lambda asset")


def _check_binaries(target: Path, arch: Arch, python: str) -> None:
    """Every compiled module is ELF for `arch` and, unless abi3, for CPython `python`."""
    version_tag = python.replace(".", "")
    for module in target.rglob("*.so"):
        header = module.read_bytes()[:20]
        machine = int.from_bytes(header[18:20], "little") if header[:4] == b"\x7fELF" else None
        if machine != _ELF_MACHINE[arch]:
            raise PackagingError(f"{module.relative_to(target)} is not an ELF module for {arch}")
        tag = re.search(r"\.cpython-(\d+)", module.name)
        if tag and tag.group(1) != version_tag:
            raise PackagingError(f"{module.relative_to(target)} is not for CPython {python}")


def _assemble(target: Path, deps: Path, root: Path, sources: list[Path]) -> None:
    shutil.copytree(deps, target, dirs_exist_ok=True, copy_function=_link_or_copy)
    for relative in sources:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / relative, destination)


def _link_or_copy(source: str, destination: str) -> None:
    # Assets never change once in place, so sharing the dependencies' files is safe.
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _prune(out_root: Path, prefix: str) -> None:
    folders = sorted(
        (path for path in out_root.glob(f"{prefix}*") if path.is_dir()),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for old in folders[_KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.packaging", description=__doc__)
    parser.add_argument("--arch", choices=get_args(Arch), default="arm64")
    parser.add_argument("--python", default=LAMBDA_PYTHON, help="CPython version, e.g. 3.14")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        asset = build_lambda_asset(args.arch, args.python)
    except PackagingError as exc:
        sys.exit(str(exc))
    elapsed = time.perf_counter() - started
    files, size = folder_size(asset)
    print(asset)
    print(f"{files} files, {size / 1e6:.1f} MB unzipped; built or found in {elapsed:.1f} s")
    for name, version, tags in installed_wheels(asset):
        print(f"  {name} {version}  {tags}")


if __name__ == "__main__":
    main()
