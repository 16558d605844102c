"""`jobsched local`'s admin key: minted once and kept in the data dir for its owner only (a
restart does not mint another), or given without showing in `ps` (an environment variable, a
file)."""

import stat
from pathlib import Path

import httpx

from tests.support.local_process import kill, start_local

GIVEN = "jsk_given1_fromthefile"


def _queue(base_url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{base_url}/api/v2/queue", headers=headers, timeout=30).status_code


def test_the_admin_key_is_minted_once_kept_private_and_reused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first_out = tmp_path / "first.log"
    process, base_url = start_local(first_out, "--data-dir", str(data), key=None)
    try:
        key_file = data / "admin.key"
        secret = key_file.read_text().strip()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert secret in first_out.read_text()  # shown the once it is new
        assert _queue(base_url, secret) == 200
    finally:
        kill(process)

    second_out = tmp_path / "second.log"
    process, base_url = start_local(second_out, "--data-dir", str(data), key=None)
    try:
        assert key_file.read_text().strip() == secret  # the same key, not another
        assert secret not in second_out.read_text()  # and not printed again
        assert "as before" in second_out.read_text()
        assert _queue(base_url, secret) == 200
    finally:
        kill(process)


def test_a_key_can_come_from_a_file_or_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(GIVEN + "\n")
    process, base_url = start_local(
        tmp_path / "file.log",
        "--data-dir",
        str(tmp_path / "a"),
        "--api-key-file",
        str(key_file),
        key=None,
    )
    try:
        assert _queue(base_url, GIVEN) == 200
        assert GIVEN not in (tmp_path / "file.log").read_text()
    finally:
        kill(process)
    process, base_url = start_local(
        tmp_path / "env.log",
        "--data-dir",
        str(tmp_path / "b"),
        key=None,
        environment={"JOBSCHED_API_KEY": GIVEN},
    )
    try:
        assert _queue(base_url, GIVEN) == 200
    finally:
        kill(process)
