"""Workers forked from a server that has imported the worker already: a job pays a fork
instead of an interpreter start and the worker's imports (most of a `python -m worker`).

The server is the standard library's (multiprocessing's "forkserver" context): one process per
runtime, started at the first worker, that preloads the worker's modules and forks a child per
job. Each child keeps the contract of the `python -m worker` subprocess it replaces
(executor.py): its own session, the run's log on stdout and stderr, stdin /dev/null, the
container dir as cwd and first on sys.path, exactly the environment given, default signal
handlers; it runs worker/__main__.py as `-m` would, so its exit code is the worker's.

Children are forked by the server, not by this process: when the runtime dies (even by
SIGKILL) the server stays up as long as any child runs (each holds its "alive" pipe), reaps
them, and exits after the last; the workers run on and are adopted at the next start
(adopt.py).
"""

import atexit
import contextlib
import importlib.machinery
import io
import multiprocessing
import os
import runpy
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from multiprocessing import connection, forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.context import ForkServerContext, set_spawning_popen
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TextIO

# `import worker.main` pulls in every worker module a run needs, except boto3 (imported at a
# worker's first AWS call: preload it when workers report to DynamoDB, it costs the server
# about 0.2 s once and makes each fork dearer) and litellm (seconds of imports, at the litellm
# provider's first call: few runs need it).
WORKER_MODULES: tuple[str, ...] = ("worker.main",)
AWS_MODULES: tuple[str, ...] = ("boto3",)
# What the stdlib sends a child so it can rebuild this process's __main__, path, argv and cwd:
# a worker needs none of it (re-running a console script's main module would import the whole
# runtime in every child), and gets its own path, argv and cwd below.
PARENT_STATE = frozenset(
    {"init_main_from_name", "init_main_from_path", "sys_path", "sys_argv", "dir", "orig_dir"}
)
WORKER_PACKAGE = "worker"


class ForkedWorker:
    """A worker forked by the server, behind the part of Popen the executor uses (the
    WorkerProcess protocol). Its status comes from the server over a pipe that only one
    reader may drain, so every read of it takes the lock."""

    def __init__(self, popen: popen_forkserver.Popen) -> None:
        self._popen = popen
        self._lock = threading.Lock()
        self.pid = popen.pid

    @property
    def returncode(self) -> int | None:
        """As Popen's: the exit code, or -n after a death by signal n; None while it runs."""
        return self._popen.returncode

    def poll(self) -> int | None:
        with self._lock:
            return self._popen.poll(os.WNOHANG)

    def wait(self, timeout: float | None = None) -> int | None:
        if not connection.wait([self._popen.sentinel], timeout):
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0.0)
        return self.poll()

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # as Popen: never signal a pid that may have been reused
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class _WorkerPopen(popen_forkserver.Popen):
    """The forkserver context's Popen, minus this process's state (PARENT_STATE), passing the
    run's log file to the child as Popen(stdout=...) would.

    Used without Process.start(), which would also register the child in multiprocessing's
    own table: joined at this interpreter's exit (the runtime would wait for its workers),
    and polled from any thread that starts another process (a second reader of the status
    pipe reads EOF: exit code 255).
    """

    def __init__(self, process_obj: BaseProcess, log_fd: int) -> None:
        self._log_fd = log_fd
        super().__init__(process_obj)

    def _launch(self, process_obj: BaseProcess) -> None:
        # The stdlib's own _launch (3.11-3.14), with the preparation data trimmed.
        prep = spawn.get_preparation_data(process_obj.name)
        prep = {key: value for key, value in prep.items() if key not in PARENT_STATE}
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        # The log is the child's first inherited fd (forkserver.get_inherited_fds()).
        self.sentinel, data_w = forkserver.connect_to_new_process([self._log_fd])
        # Held until this object goes: the child's way of telling its parent is gone.
        parent_w = os.dup(data_w)
        self.finalizer = util.Finalize(self, _close_fds, (parent_w, self.sentinel))
        with open(data_w, "wb", closefd=True) as out:
            out.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


def _close_fds(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


class ForkServerLauncher:
    """Starts workers from the fork server, which it starts at the first worker."""

    def __init__(self, container_dir: Path, preload: Sequence[str] = WORKER_MODULES) -> None:
        self.container_dir = container_dir
        self.preload = [__name__, *preload]  # this module first: the child's target is here
        self._context: ForkServerContext | None = None
        self._lock = threading.Lock()

    def start(self, env: Mapping[str, str], log: Path, cwd: Path) -> ForkedWorker:
        """A worker with environment `env` (its PYTHONPATH included), output appended to
        `log`, in `cwd`; raises OSError as Popen would (the log cannot be opened)."""
        context = self._started()
        process = context.Process(target=_run_worker, args=(dict(env), str(cwd)), daemon=False)
        with log.open("ab") as out:
            return ForkedWorker(_WorkerPopen(process, out.fileno()))

    def _started(self) -> ForkServerContext:
        with self._lock:
            if self._context is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(self.preload)
                with _server_environment(self.container_dir):
                    forkserver.ensure_running()
                self._context = context
            return self._context


_shared: ForkServerLauncher | None = None
_shared_lock = threading.Lock()


def shared_launcher(
    container_dir: Path, preload: Sequence[str] = WORKER_MODULES
) -> ForkServerLauncher:
    """The process's one launcher: the standard library runs one fork server per process, so
    the first caller's container dir and modules are preloaded. A worker from another
    container dir is still right: it imports its own worker package (_use_container)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ForkServerLauncher(container_dir, preload)
        return _shared


@contextlib.contextmanager
def _server_environment(container_dir: Path) -> Iterator[None]:
    """The server's interpreter finds the worker (PYTHONPATH: only the container dir, as a
    worker's) and writes no __pycache__ into it. Set with putenv, which only children see: other
    threads read os.environ meanwhile."""
    wanted = {"PYTHONPATH": str(container_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    for name, value in wanted.items():
        os.putenv(name, value)
    try:
        yield
    finally:
        for name in wanted:
            if name in os.environ:
                os.putenv(name, os.environ[name])
            else:
                os.unsetenv(name)


# --- in the child, forked by the server -------------------------------------------------------


def _run_worker(env: dict[str, str], cwd: str) -> None:
    """The child's target: become what `python -m worker` is under Popen, then run it. Its
    SystemExit is the process's exit code (multiprocessing's _bootstrap)."""
    os.setsid()  # its own session: a Ctrl-C of the runtime does not reach it; killpg reaches all
    [log_fd] = forkserver.get_inherited_fds() or [-1]
    _redirect(log_fd, unbuffered=bool(env.get("PYTHONUNBUFFERED")))
    server_path = os.environ.get("PYTHONPATH", "")
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
    _reset_signals()
    _use_container(cwd, env.get("PYTHONPATH", ""), server_path)
    sys.argv[:] = ["-m"]  # as `python -m`: runpy puts the module's path here
    try:
        runpy.run_module(WORKER_PACKAGE, run_name="__main__", alter_sys=True)
    finally:
        atexit._run_exitfuncs()  # the child ends with os._exit: run what the worker registered
        sys.stdout.flush()
        sys.stderr.flush()


def _redirect(log_fd: int, unbuffered: bool) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(devnull)
    os.close(log_fd)
    sys.stdout = _stream(1, sys.stdout, unbuffered, line_buffered=False)
    sys.stderr = _stream(2, sys.stderr, unbuffered, line_buffered=True)


def _stream(fd: int, like: TextIO, unbuffered: bool, line_buffered: bool) -> TextIO:
    """A fresh text stream on `fd` made as the interpreter makes it for a file (the server's
    were made for the runtime's terminal)."""
    raw = io.FileIO(fd, "w", closefd=False)
    if unbuffered:  # PYTHONUNBUFFERED, as -u: every write goes through at once
        return io.TextIOWrapper(raw, like.encoding, like.errors, write_through=True)
    buffered = io.BufferedWriter(raw)
    return io.TextIOWrapper(buffered, like.encoding, like.errors, line_buffering=line_buffered)


def _reset_signals() -> None:
    """Every handler Python code installed (the server's SIGCHLD one, anything preloaded) back
    to the default; SIGINT to KeyboardInterrupt, as a fresh interpreter has it."""
    signal.set_wakeup_fd(-1)
    for signum in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError):
            if callable(signal.getsignal(signum)):
                signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _use_container(cwd: str, pythonpath: str, server_path: str) -> None:
    """sys.path as `python -m worker` in `cwd` with this PYTHONPATH has it: the cwd, then
    PYTHONPATH, then the interpreter's own. A preloaded worker package from elsewhere (another
    container dir than the server's) is dropped, to be imported from here."""
    ours = [entry for entry in pythonpath.split(os.pathsep) if entry]
    theirs = {entry for entry in server_path.split(os.pathsep) if entry}
    base = [entry for entry in sys.path if entry and entry not in theirs]
    sys.path[:] = [cwd, *ours, *base]
    loaded = sys.modules.get(WORKER_PACKAGE)
    if loaded is None:
        return
    spec = importlib.machinery.PathFinder.find_spec(WORKER_PACKAGE, sys.path)
    if spec is None or spec.origin != getattr(loaded, "__file__", None):
        for name in [n for n in sys.modules if n.partition(".")[0] == WORKER_PACKAGE]:
            del sys.modules[name]
