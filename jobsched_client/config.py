"""Which deployment to call, and with which key, found the same way by the library and the
`jobsched` command:

1. `url` / `key` given as arguments (`--url`, `--key`);
2. the environment: JOBSCHED_URL, JOBSCHED_API_KEY;
3. a named profile (`profile`, `--profile` or JOBSCHED_PROFILE; else the file's `default`) of
   the config file, `$JOBSCHED_CONFIG` or `~/.config/jobsched/config.toml`, which must be
   readable by its owner only, as it holds keys;
4. the local runtime: `jobsched local` writes its URL to `<data dir>/runtime.json` and keeps its
   admin key in `<data dir>/admin.key` (data dir: JOBSCHED_DATA_DIR, else `.jobsched`).

A URL found at one step takes its key from the same step unless a key is given above it.
"""

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobsched.constants import API_KEY_PREFIX
from jobsched_client.errors import JobschedError

if TYPE_CHECKING:
    from jobsched_client._async.client import AsyncClient
    from jobsched_client._sync.client import Client

RUNTIME_FILE = "runtime.json"  # written by `jobsched local` while it serves
ADMIN_KEY_FILE = "admin.key"  # the local runtime's own admin key, mode 0600
DEFAULT_DATA_DIR = ".jobsched"
PROFILE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ConfigError(JobschedError):
    """No deployment or no key could be found, or the config file is unusable."""


@dataclass(frozen=True)
class Connection:
    url: str
    key: str = field(repr=False)
    source: str  # where it was found, for messages: "--url", "profile prod", "local runtime"


@dataclass(frozen=True)
class Profile:
    name: str
    url: str
    key: str = field(repr=False)


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("JOBSCHED_CONFIG"):
        return Path(env["JOBSCHED_CONFIG"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "jobsched" / "config.toml"


def load_config(path: Path) -> dict[str, Any]:
    """The config file's tables; an absent file is empty. Refused when others may read it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if os.name == "posix" and mode & 0o077:
        raise ConfigError(f"{path} holds API keys and others can read it: chmod 600 {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return data


def profiles(path: Path) -> tuple[dict[str, Profile], str | None]:
    """The file's profiles by name, and its default profile's name."""
    data = load_config(path)
    found: dict[str, Profile] = {}
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: `profiles` must be a table of [profiles.<name>]")
    for name, table in tables.items():
        url, key = (table.get("url"), table.get("key")) if isinstance(table, dict) else (None, None)
        if not isinstance(url, str) or not isinstance(key, str):
            raise ConfigError(f"{path}: [profiles.{name}] needs a url and a key (strings)")
        found[name] = Profile(name, url, key)
    default = data.get("default")
    return found, default if isinstance(default, str) else None


def save_profile(path: Path, profile: Profile, *, make_default: bool = False) -> None:
    """Add or replace a profile, writing the file whole with mode 0600 (it never exists with
    wider rights, even for a moment)."""
    if not PROFILE_NAME.fullmatch(profile.name):
        raise ConfigError("a profile name is 1-64 letters, digits, `-` or `_`")
    known, default = profiles(path)
    known[profile.name] = profile
    write_profiles(path, known, profile.name if make_default else default)


def remove_profile(path: Path, name: str) -> None:
    known, default = profiles(path)
    if known.pop(name, None) is None:
        raise ConfigError(f"no profile {name} in {path}")
    write_profiles(path, known, None if default == name else default)


def write_profiles(path: Path, known: Mapping[str, Profile], default: str | None) -> None:
    # json.dumps of a str is a valid TOML basic string (TOML takes JSON's escapes).
    lines = [f"default = {json.dumps(default)}", ""] if default else []
    for profile in known.values():
        lines += [
            f"[profiles.{profile.name}]",
            f"url = {json.dumps(profile.url)}",
            f"key = {json.dumps(profile.key)}",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
    os.replace(temporary, path)


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("JOBSCHED_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()


def local_runtime(directory: Path) -> Connection | None:
    """The local runtime serving from `directory`, if one is (its process alive)."""
    try:
        announced = json.loads((directory / RUNTIME_FILE).read_text(encoding="utf-8"))
        url, pid = str(announced["url"]), int(announced["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None  # a runtime killed with -9 leaves its file behind
    try:
        key = (directory / ADMIN_KEY_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        key = ""
    return Connection(url, key, f"local runtime ({directory})")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds the pid: alive, just not ours to signal
    return True


def resolve(
    url: str | None = None,
    key: str | None = None,
    profile: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Connection:
    """The deployment and key to call, by the order in this module's docstring."""
    env = os.environ if env is None else env
    url_source = "--url" if url else "JOBSCHED_URL"
    key_source = "--key" if key else "JOBSCHED_API_KEY"
    url = url or env.get("JOBSCHED_URL") or None
    key = key or env.get("JOBSCHED_API_KEY") or None
    profile = profile or env.get("JOBSCHED_PROFILE") or None
    found: Connection | None = None
    if profile is not None or url is None:
        found = _from_profiles(config_path(env), profile)
    if found is None and url is None:
        found = local_runtime(data_dir(env))
        if found is None:
            raise ConfigError(
                f"no deployment: `jobsched local` is not running here (no live "
                f"{data_dir(env) / RUNTIME_FILE}); pass --url and --key, set JOBSCHED_URL and "
                "JOBSCHED_API_KEY, or add a profile (`jobsched profiles add`)"
            )
    if found is not None and url is not None and url.rstrip("/") != found.url.rstrip("/"):
        found = None  # another URL than the profile's: the profile's key is not for it
    if found is None:
        assert url is not None
        found = _local_key_for(url, env) or Connection(url, "", url_source)
    if key is not None:
        # Say where the key came from too: it is not the profile's or the runtime's own.
        return Connection(found.url, key, f"{found.source}, key from {key_source}")
    if not found.key:
        raise ConfigError(
            f"no API key for {found.url}: pass --key, set JOBSCHED_API_KEY, or add a profile"
        )
    return found


def key_id_of(key: str) -> str | None:
    """The `<id>` of a `jsk_<id>_<secret>`, to name a key without showing it."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != API_KEY_PREFIX or not key_id.isalnum() or not secret:
        return None
    return key_id


def _from_profiles(path: Path, name: str | None) -> Connection | None:
    known, default = profiles(path)
    chosen = name or default
    if chosen is None:
        return None
    if chosen not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"no profile {chosen} in {path} (profiles: {listed})")
    found = known[chosen]
    return Connection(found.url, found.key, f"profile {chosen}")


def _local_key_for(url: str, env: Mapping[str, str]) -> Connection | None:
    """A URL that is the local runtime's own takes its admin key."""
    runtime = local_runtime(data_dir(env))
    if runtime is not None and runtime.url.rstrip("/") == url.rstrip("/"):
        return runtime
    return None


def connect(
    url: str | None = None, key: str | None = None, profile: str | None = None, **options: Any
) -> "Client":
    """A `Client` of the deployment `resolve` finds; `options` go to `Client`."""
    from jobsched_client._sync.client import Client

    found = resolve(url, key, profile)
    return Client(found.url, found.key, **options)


def connect_async(
    url: str | None = None, key: str | None = None, profile: str | None = None, **options: Any
) -> "AsyncClient":
    from jobsched_client._async.client import AsyncClient

    found = resolve(url, key, profile)
    return AsyncClient(found.url, found.key, **options)
