"""Run a command inside the job image's filesystem as a Fargate task sees it, without a docker
engine: a read-only root that holds the system's /usr and /etc, this interpreter, and the
worker's code where the Dockerfile copies it; the task's volumes mounted writable from host
folders; the command run as the image's uid and gid.

It takes root: a private mount namespace (`unshare`), a tmpfs for the root, bind mounts,
`chroot` and `setpriv`. Nothing is mounted outside that namespace, so nothing is left behind
when the command ends.
"""

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# What the interpreter and the shell need from the host, read-only; `bin`, `lib`... are often
# links into /usr (merged /usr) and are recreated as links then.
_SYSTEM = ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
# As in a Debian image: on the read-only root, where tempfile looks after TMPDIR and /tmp.
_WORLD_WRITABLE = ("var/tmp",)
_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"


@dataclass(frozen=True)
class ImageRoot:
    mountpoint: Path  # an empty host folder; the root's tmpfs is mounted on it, in the namespace
    code: Mapping[str, Path]  # path in the image -> host folder shown there read-only
    volumes: Mapping[str, Path]  # path in the image -> host folder mounted there writable
    user: tuple[int, int]  # uid, gid


def unusable_reason() -> str | None:
    """Why this machine cannot build an image root, or None when it can."""
    if sys.platform != "linux":
        return "mount namespaces are Linux only"
    if os.geteuid() != 0:
        return "building the image's filesystem needs root (mount namespaces, chroot)"
    missing = [tool for tool in ("unshare", "mount", "chroot", "setpriv") if not shutil.which(tool)]
    if missing:
        return f"missing {', '.join(missing)}"
    covered = [p for p in _interpreter_prefixes() if Path(p).is_relative_to("/tmp")]
    if covered:  # the image's /tmp volume would be mounted over it
        return (
            f"this interpreter lives under /tmp ({covered[0]}), where the image mounts its volume"
        )
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"no mount namespace here: {probe.stderr.strip()}"
    return None


def _interpreter_prefixes() -> list[str]:
    """The interpreter's install and this venv, unless the system folders already hold them."""
    prefixes = sorted({sys.base_prefix, sys.prefix})
    return [p for p in prefixes if Path(p).parts[1] not in _SYSTEM]


def _script(root: ImageRoot) -> str:
    """The shell that builds the root inside the namespace and then runs "$@" in it."""
    r = shlex.quote(str(root.mountpoint))
    lines = ["set -eu", f"mount -t tmpfs -o mode=0755 image-root {r}"]
    for name in _SYSTEM:
        host = Path("/") / name
        if host.is_symlink():
            lines.append(f"ln -s {shlex.quote(str(host.readlink()))} {r}/{name}")
        elif host.is_dir():
            lines += [f"mkdir {r}/{name}", f"mount --bind -o ro /{name} {r}/{name}"]
    for path in _WORLD_WRITABLE:
        lines.append(f"mkdir -p -m 1777 {r}/{path}")
    for prefix in _interpreter_prefixes():
        q = shlex.quote(prefix)
        lines += [f"mkdir -p {r}{q}", f"mount --bind -o ro {q} {r}{q}"]
    for image_path, host in root.code.items():
        target = f"{r}{shlex.quote(image_path)}"
        lines += [f"mkdir -p {target}", f"mount --bind -o ro {shlex.quote(str(host))} {target}"]
    for image_path, host in root.volumes.items():
        target = f"{r}{shlex.quote(image_path)}"
        lines += [f"mkdir -p {target}", f"mount --bind {shlex.quote(str(host))} {target}"]
    lines += [
        f"mkdir {r}/dev",
        f"mount --rbind /dev {r}/dev",
        f"mount -o remount,ro {r}",  # every folder made above: the root is read-only from now
        f"exec chroot {r} setpriv --reuid={root.user[0]} --regid={root.user[1]} --clear-groups "
        '-- "$@"',
    ]
    return "\n".join(lines)


def run_in_image(
    root: ImageRoot,
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: str,
    timeout: float,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` in `cwd` of the image root, with exactly `env` (plus a PATH if it has none)."""
    variables = [f"{k}={v}" for k, v in {"PATH": _PATH, **env}.items()]
    inside = ["env", "-i", *variables, "sh", "-c", 'cd "$0" && exec "$@"', cwd, *argv]
    namespace = ["unshare", "--mount", "--propagation", "private"]
    return subprocess.run(
        [*namespace, "sh", "-c", _script(root), "sh", *inside],
        env={"PATH": _PATH},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
