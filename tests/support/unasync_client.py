"""Generates the sync client from the async one (httpcore's way, with unasync):

    python -m tests.support.unasync_client          # rewrite jobsched_client/_sync/client.py
    python -m tests.support.unasync_client --check  # exit 1 when it is out of date

tests/integration/client/test_generated.py runs the check."""

import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "jobsched_client" / "_async" / "client.py"
TARGET = ROOT / "jobsched_client" / "_sync" / "client.py"
HEADER = "# Generated from jobsched_client/_async/client.py by `make client`: do not edit.\n"

REPLACEMENTS = {
    "_async": "_sync",
    "AsyncBaseTransport": "BaseTransport",
    "aclose": "close",
    "aread": "read",
    "AsyncClient": "Client",
    "AsyncResource": "Resource",
    "AsyncTemplates": "Templates",
    "AsyncJobs": "Jobs",
    "AsyncQueue": "Queue",
    "AsyncRuns": "Runs",
    "AsyncGroups": "Groups",
    "AsyncReservations": "Reservations",
    "AsyncSchedules": "Schedules",
    "AsyncKeys": "Keys",
    "async client": "sync client",
}


def generate() -> str:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        rule = unasync.Rule(
            fromdir=str(SOURCE.parent) + "/",
            todir=str(out) + "/",
            additional_replacements=REPLACEMENTS,
        )
        unasync.unasync_files([str(SOURCE)], rules=[rule])
        generated = out / SOURCE.name
        text = generated.read_text(encoding="utf-8")
        docstring_end = text.index('"""', 3) + 3
        text = (
            '"""The sync client, generated from the async one (`jobsched_client/_async/client.py`)'
            ' by\n`make client` (unasync): edit that file, then regenerate."""'
            + text[docstring_end:]
        )
        generated.write_text(HEADER + text, encoding="utf-8")
        ruff = [sys.executable, "-m", "ruff"]
        config = ["--config", str(ROOT / "pyproject.toml")]
        fix = ["check", "--fix", "-q", "--extend-ignore", "UP028"]  # an async for has no yield from
        subprocess.run([*ruff, *fix, *config, str(generated)], check=False)
        subprocess.run([*ruff, "format", "-q", *config, str(generated)], check=True)
        return generated.read_text(encoding="utf-8")


def main() -> int:
    text = generate()
    if "--check" in sys.argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run `make client`")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
