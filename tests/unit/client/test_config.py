"""Which deployment and key a client calls (jobsched_client/config.py resolve): arguments,
then the environment, then a profile, then the local runtime."""

import json
import os
import re
from pathlib import Path

import pytest

from jobsched_client import ConfigError, Connection, resolve
from jobsched_client.config import Profile, key_id_of, local_runtime, save_profile

ARG_KEY = "jsk_arg1_fromthecommandline"
ENV_KEY = "jsk_env1_fromtheenvironment"
PROFILE_KEY = "jsk_prof1_fromtheprofile"
LOCAL_KEY = "jsk_local1_fromtheruntime"
PROD = "https://prod.example.com"
LOCAL = "http://127.0.0.1:8000"
DEAD_PID = 2**31 - 1  # above any pid_max: no process has it


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment of its own (never the test runner's), naming a config file and a data
    dir that hold nothing yet."""
    return {
        "JOBSCHED_CONFIG": str(tmp_path / "config.toml"),
        "JOBSCHED_DATA_DIR": str(tmp_path / "data"),
    }


def with_profile(env: dict[str, str], name: str = "prod", *, default: bool = True) -> None:
    profile = Profile(name, PROD, PROFILE_KEY)
    save_profile(Path(env["JOBSCHED_CONFIG"]), profile, make_default=default)


def with_runtime(env: dict[str, str], pid: int, key: str | None = LOCAL_KEY) -> Path:
    directory = Path(env["JOBSCHED_DATA_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "runtime.json").write_text(json.dumps({"url": LOCAL, "pid": pid}))
    if key is not None:
        (directory / "admin.key").write_text(key + "\n")
    return directory


def test_arguments_come_before_everything(env: dict[str, str]) -> None:
    with_profile(env)
    with_runtime(env, os.getpid())
    env |= {"JOBSCHED_URL": "https://env.example.com", "JOBSCHED_API_KEY": ENV_KEY}

    found = resolve("https://arg.example.com", ARG_KEY, env=env)

    assert found == Connection("https://arg.example.com", ARG_KEY, "--url, key from --key")


def test_the_environment_comes_before_profiles_and_the_runtime(env: dict[str, str]) -> None:
    with_profile(env)
    with_runtime(env, os.getpid())
    env |= {"JOBSCHED_URL": "https://env.example.com", "JOBSCHED_API_KEY": ENV_KEY}

    found = resolve(env=env)

    assert found == Connection(
        "https://env.example.com", ENV_KEY, "JOBSCHED_URL, key from JOBSCHED_API_KEY"
    )


def test_the_default_profile_comes_before_the_local_runtime(env: dict[str, str]) -> None:
    with_profile(env)
    with_runtime(env, os.getpid())

    assert resolve(env=env) == Connection(PROD, PROFILE_KEY, "profile prod")


def test_a_named_profile_beats_the_default_and_an_unknown_one_is_refused(
    env: dict[str, str],
) -> None:
    with_profile(env)
    save_profile(Path(env["JOBSCHED_CONFIG"]), Profile("staging", "https://s.example.com", ENV_KEY))

    assert resolve(profile="staging", env=env).source == "profile staging"
    assert resolve(env={**env, "JOBSCHED_PROFILE": "staging"}).key == ENV_KEY
    with pytest.raises(ConfigError, match=r"no profile nope .*\(profiles: prod, staging\)"):
        resolve(profile="nope", env=env)


def test_a_key_given_above_a_profile_replaces_its_key(env: dict[str, str]) -> None:
    with_profile(env)

    found = resolve(key=ARG_KEY, env=env)

    assert (found.url, found.key, found.source) == (PROD, ARG_KEY, "profile prod, key from --key")


def test_a_url_other_than_the_profiles_drops_its_key(env: dict[str, str]) -> None:
    with_profile(env)

    with pytest.raises(ConfigError, match=r"no API key for https://other\.example\.com"):
        resolve(url="https://other.example.com", profile="prod", env=env)
    same = resolve(url=PROD + "/", profile="prod", env=env)
    assert (same.key, same.source) == (PROFILE_KEY, "profile prod")


def test_a_live_local_runtime_gives_its_url_and_admin_key(env: dict[str, str]) -> None:
    directory = with_runtime(env, os.getpid())

    found = resolve(env=env)

    assert found == Connection(LOCAL, LOCAL_KEY, f"local runtime ({directory})")
    # Its own URL given alone takes its key too.
    assert resolve(url=LOCAL, env=env).key == LOCAL_KEY


def test_a_dead_runtimes_file_is_ignored(env: dict[str, str]) -> None:
    directory = with_runtime(env, DEAD_PID)

    assert local_runtime(directory) is None
    with pytest.raises(ConfigError, match="no deployment: `jobsched local` is not running"):
        resolve(env=env)


def test_an_unreadable_runtime_file_is_no_runtime(env: dict[str, str]) -> None:
    directory = Path(env["JOBSCHED_DATA_DIR"])
    directory.mkdir()
    (directory / "runtime.json").write_text("{not json")
    assert local_runtime(directory) is None
    (directory / "runtime.json").write_text(json.dumps({"url": LOCAL}))
    assert local_runtime(directory) is None


def test_no_key_is_a_config_error(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"no API key for https://x\.example\.com"):
        resolve(url="https://x.example.com", env=env)
    with_runtime(env, os.getpid(), key=None)  # a runtime whose admin key is gone
    with pytest.raises(ConfigError, match=re.escape(f"no API key for {LOCAL}")):
        resolve(env=env)


def test_a_config_file_others_can_read_is_refused(env: dict[str, str]) -> None:
    with_profile(env)
    os.chmod(env["JOBSCHED_CONFIG"], 0o640)

    with pytest.raises(ConfigError, match="others can read it"):
        resolve(env=env)
    # A URL and key given need no profile: the file is not read.
    assert resolve(PROD, ARG_KEY, env=env).key == ARG_KEY


@pytest.mark.parametrize(
    ("key", "key_id"),
    [
        ("jsk_abc123_secret", "abc123"),
        ("jsk_abc_sec_ret", "abc"),
        ("jsk_abc_", None),
        ("jsk__secret", None),
        ("xyz_abc_secret", None),
        ("jsk_a-b_secret", None),
        ("", None),
    ],
)
def test_key_id_of(key: str, key_id: str | None) -> None:
    assert key_id_of(key) == key_id
