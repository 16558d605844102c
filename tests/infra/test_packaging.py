"""The Lambda asset: real builds for arm64 (the runtime's Python) and x86_64 (this interpreter's,
to import from), and the cache, lock and errors around a fake pip."""

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from infra import packaging
from infra.packaging import LAMBDA_PYTHON, PackagingError, build_lambda_asset

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
HANDLER_MODULES = (
    "api.handler",
    "api.ui.pages.overview",  # the dashboard: pages are imported on their first request
    "functions.dispatch",
    "functions.sweeper",
    "functions.schedule_fire",
    "functions.schedule_repair",
    "functions.webhook",
)
NEVER_BUNDLED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3")
EM_AARCH64 = 0xB7

PipRunner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="session")
def arm64_asset() -> Path:
    return build_lambda_asset("arm64")  # cached under .build/ across sessions


@pytest.fixture(scope="session")
def x86_64_asset() -> Path:
    return build_lambda_asset("x86_64", THIS_PYTHON)


def _elf_machine(module: Path) -> int:
    header = module.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", module
    return int.from_bytes(header[18:20], "little")


def test_asset_python_is_the_lambda_runtime() -> None:
    import infra.build  # noqa: F401 - the app's import order; infra.functions first is circular
    from infra.functions import LAMBDA_RUNTIME

    assert LAMBDA_RUNTIME.name == f"python{LAMBDA_PYTHON}"


def test_requirements_are_the_core_and_the_api_extra_without_boto3() -> None:
    names = {
        re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0] for req in packaging.lambda_requirements()
    }
    assert {"pydantic", "croniter", "fastapi", "mangum", "aws-lambda-powertools"} <= names
    assert not names & set(NEVER_BUNDLED)


def test_lambda_code_is_the_built_asset(arm64_asset: Path) -> None:
    from aws_cdk import aws_lambda as lambda_

    from infra.assets import lambda_code

    code = lambda_code()
    assert isinstance(code, lambda_.AssetCode)
    assert Path(code.path) == arm64_asset


def test_arm64_asset_holds_aarch64_pydantic_core_and_no_boto3(arm64_asset: Path) -> None:
    (module,) = (arm64_asset / "pydantic_core").glob("_pydantic_core*.so")
    assert _elf_machine(module) == EM_AARCH64
    (wheel,) = arm64_asset.glob("pydantic_core-*.dist-info/WHEEL")
    assert f"cp{LAMBDA_PYTHON.replace('.', '')}-manylinux2014_aarch64" in wheel.read_text()
    for name in NEVER_BUNDLED:
        assert not (arm64_asset / name).exists()
        assert not list(arm64_asset.glob(f"{name}-*.dist-info"))


def test_asset_holds_our_packages_and_nothing_of_this_host(arm64_asset: Path) -> None:
    assert (arm64_asset / "api" / "handler.py").is_file()
    assert (arm64_asset / "functions" / "dispatch.py").is_file()
    assert (arm64_asset / "jobsched" / "webhooks" / "notify.py").is_file()
    assert (arm64_asset / "jobsched_client" / "summary.py").is_file()
    assert not list(arm64_asset.rglob("__pycache__"))
    assert not (arm64_asset / "bin").exists()  # console scripts carry this host's shebang


def test_handlers_import_from_the_asset_alone_and_without_boto3(
    x86_64_asset: Path, tmp_path: Path
) -> None:
    # -I ignores PYTHONPATH, so the asset goes on sys.path in the code; -S keeps the venv's
    # site-packages out; -B writes no __pycache__ into the cached asset.
    code = (
        "import importlib, json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "for name in sys.argv[2:]:\n"
        "    importlib.import_module(name)\n"
        "try:\n"
        "    import boto3\n"
        "    boto3_found = True\n"
        "except ImportError:\n"
        "    boto3_found = False\n"
        "print(json.dumps({'path': sys.path, 'boto3': boto3_found}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code, str(x86_64_asset), *HANDLER_MODULES],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert not any("site-packages" in entry for entry in report["path"])
    assert report["boto3"] is False


# The cache, the lock and the errors, around a fake pip and a tiny source tree.


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "src"
    for package in packaging.LAMBDA_PACKAGES:
        (root / package / "__pycache__").mkdir(parents=True)
        (root / package / "__init__.py").write_text(f"NAME = {package!r}\n")
        (root / package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    (root / "jobsched" / "tests").mkdir()
    (root / "jobsched" / "tests" / "test_x.py").write_text("")
    monkeypatch.setattr(packaging, "SOURCE_ROOT", root)
    return root


def _write_dist(target: Path, name: str, files: dict[str, bytes]) -> None:
    info = f"{name}-1.0.dist-info"
    files = {**files, f"{info}/METADATA": f"Name: {name}\nVersion: 1.0\n".encode()}
    record = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    files[f"{info}/RECORD"] = record.encode()
    for path, content in files.items():
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_bytes(content)


def fake_pip(calls: list[Sequence[str]], so_header: bytes = b"") -> PipRunner:
    """Installs a dependency, pulls in botocore and writes a console script, as pip would."""

    def run(args: Sequence[str]) -> "subprocess.CompletedProcess[str]":
        calls.append(args)
        target = Path(args[list(args).index("--target") + 1])
        files = {"dep/__init__.py": b"VERSION = 1\n", "bin/dep": b"#!/somewhere/python\n"}
        if so_header:
            files["dep/_speedups.cpython-314-x86_64-linux-gnu.so"] = so_header
        _write_dist(target, "dep", files)
        _write_dist(target, "botocore", {"botocore/__init__.py": b""})
        return subprocess.CompletedProcess(list(args), 0, "", "")

    return run


def _must_not_run(args: Sequence[str]) -> "subprocess.CompletedProcess[str]":
    raise AssertionError(f"pip ran: {args}")


def test_a_second_call_reuses_the_folder_without_pip(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Sequence[str]] = []
    monkeypatch.setattr(packaging, "run_pip", fake_pip(calls))
    first = build_lambda_asset(out_root=tmp_path / "out")
    assert len(calls) == 1
    args = list(calls[0])
    assert "--only-binary=:all:" in args
    assert "--platform=manylinux2014_aarch64" in args
    assert args[args.index("--python-version") + 1] == LAMBDA_PYTHON

    monkeypatch.setattr(packaging, "run_pip", _must_not_run)
    assert build_lambda_asset(out_root=tmp_path / "out") == first
    assert first.name.startswith(f"lambda-arm64-py{LAMBDA_PYTHON.replace('.', '')}-")
    assert "." not in first.name  # CDK would stage `asset.<hash>.<what follows the dot>`
    assert (first / "dep" / "__init__.py").is_file()
    assert (first / "jobsched" / "__init__.py").is_file()
    assert not (first / "botocore").exists()
    assert not list(first.glob("botocore-*"))
    assert not (first / "bin").exists()
    assert not list(first.rglob("__pycache__"))
    assert not (first / "jobsched" / "tests").exists()


def test_a_source_change_rebuilds_the_asset_without_pip(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packaging, "run_pip", fake_pip([]))
    first = build_lambda_asset(out_root=tmp_path / "out")
    (sources / "api" / "__init__.py").write_text("NAME = 'changed'\n")

    monkeypatch.setattr(packaging, "run_pip", _must_not_run)  # same requirements: deps cached
    second = build_lambda_asset(out_root=tmp_path / "out")
    assert second != first
    assert (second / "api" / "__init__.py").read_text() == "NAME = 'changed'\n"
    assert (first / "api" / "__init__.py").read_text() == "NAME = 'api'\n"  # never changed


def test_concurrent_builds_run_pip_once_and_agree(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Sequence[str]] = []
    install = fake_pip(calls)

    def slow_pip(args: Sequence[str]) -> "subprocess.CompletedProcess[str]":
        time.sleep(0.3)
        return install(args)

    monkeypatch.setattr(packaging, "run_pip", slow_pip)
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(build_lambda_asset(out_root=tmp_path)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len(set(results)) == 1
    assert len(results) == 3


def test_a_pip_failure_names_the_package_and_the_platform(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = (
        "ERROR: Could not find a version that satisfies the requirement "
        "pydantic-core==2.50.5 (from versions: none)\n"
        "ERROR: No matching distribution found for pydantic-core==2.50.5\n"
    )
    monkeypatch.setattr(
        packaging,
        "run_pip",
        lambda args: subprocess.CompletedProcess(list(args), 1, "", stderr),
    )
    with pytest.raises(PackagingError) as caught:
        build_lambda_asset(out_root=tmp_path / "out")
    message = str(caught.value)
    assert "pydantic-core==2.50.5" in message
    assert "arm64" in message
    assert "manylinux2014_aarch64" in message
    assert "python -m infra.packaging" in message
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [".lock"]


def test_a_compiled_module_for_another_machine_is_refused(
    sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    x86_64_elf = b"\x7fELF" + bytes(14) + (0x3E).to_bytes(2, "little")
    monkeypatch.setattr(packaging, "run_pip", fake_pip([], so_header=x86_64_elf))
    with pytest.raises(PackagingError, match="not an ELF module for arm64"):
        build_lambda_asset("arm64", out_root=tmp_path / "out")
