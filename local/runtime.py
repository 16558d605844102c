"""The embedded default: the whole scheduler on one machine with no AWS account.

The store is a SQLite file in the data dir (`<data dir>/jobsched.db`): every write is committed
before the API answers, and workers never connect to it (the executor, their parent, renews
their leases and records their outcomes). `--store dynamodb` runs the production DynamoDB
adapter instead, against AWS_ENDPOINT_URL when it is set (LocalStack, DynamoDB Local) or else
against moto's server in this process, whose tables are saved to `<data dir>/state.json` every
few seconds and at stop. Either way a local dispatcher loop runs the same claim/finish code as
the state machine on AWS, and a local executor runs the container's worker as a subprocess, one
log file per run, in the data dir.
"""

import json
import logging
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jobsched.jobs.keys import MintedKey, hash_secret, mint_key, parse_key_id
from jobsched.jobs.seed import seed_default_templates
from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched.settings import Settings, get_settings
from jobsched_client.config import ADMIN_KEY_FILE, RUNTIME_FILE

if TYPE_CHECKING:
    import uvicorn
    from moto.server import ThreadedMotoServer

    from jobsched.adapters.sqlite.db import Database
    from local.exec.dispatcher_loop import LocalDispatcher
    from local.exec.executor import LocalExecutor
    from local.exec.launcher import LocalLauncher
    from local.exec.ticker import LocalTicker
    from local.notifier import ThreadNotifier
    from local.snapshot import Snapshotter

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})  # noqa: S104 - a name, not a bind
# moto accepts any credentials; fixed fake ones keep real ones from ever being sent to it.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
DEFAULT_REGION = "us-east-1"
SERVICE_ENDPOINT_PREFIX = "AWS_ENDPOINT_URL_"  # boto3: AWS_ENDPOINT_URL_DYNAMODB and the like
ALL_SCOPES = [Scope.READ, Scope.WRITE, Scope.ADMIN]
JOIN_LAUNCHED_SECONDS = 5.0  # the workers were stopped already: their threads end quickly
# Dispatch timings on one machine, unless set through JOBSCHED_* variables. Nothing here is
# paid for per call or started per task, so a lost worker is found within seconds rather than
# minutes: a heartbeat every 5 s (lease 15 s), a worker that never beats loses its slot after
# 60 s (a subprocess starts in about a second; a Fargate task may pull its image for minutes),
# and the sweeper looks every 10 s.
LOCAL_TIMINGS: dict[str, float] = {
    "heartbeat_seconds": 5.0,
    "startup_lease_seconds": 60.0,
    "sweep_seconds": 10.0,
}


class LocalRuntimeError(Exception):
    """The runtime cannot start (a port is taken); the message says what to do."""


@dataclass(frozen=True)
class LocalConfig:
    host: str = LOOPBACK
    port: int = 8000
    moto_port: int = 5566
    slots: int | None = None  # None: JOBSCHED_SLOTS (default 1)
    data_dir: str | None = None  # None: JOBSCHED_DATA_DIR (default .jobsched)
    executor: str = "auto"  # auto (docker when its engine answers), process, or docker
    reset: bool = False  # delete the saved state before starting
    store: str = "sqlite"  # or "dynamodb"
    # dynamodb only: an endpoint to use instead of the embedded emulator (AWS_ENDPOINT_URL)
    external_endpoint: str | None = None

    @property
    def embedded_emulator(self) -> bool:
        return self.store == "dynamodb" and self.external_endpoint is None

    @property
    def endpoint_url(self) -> str | None:
        """Where the DynamoDB store is reached; None with SQLite."""
        if self.store != "dynamodb":
            return None
        return self.external_endpoint or f"http://{LOOPBACK}:{self.moto_port}"

    @property
    def api_url(self) -> str:
        # 0.0.0.0 listens everywhere, but a client reaches it via loopback.
        host = LOOPBACK if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"


def local_settings(config: LocalConfig) -> Settings:
    """The environment's settings, pointed at the DynamoDB endpoint if there is one, with the
    local timings where the environment sets none, and the command line's slots and data dir."""
    base = Settings(aws_endpoint_url=config.endpoint_url)
    overrides: dict[str, Any] = {
        name: value for name, value in LOCAL_TIMINGS.items() if name not in base.model_fields_set
    }
    if config.slots is not None:
        overrides["slots"] = config.slots
    data_dir = config.data_dir or base.data_dir
    overrides["data_dir"] = str(Path(data_dir).expanduser().resolve())
    return base.model_copy(update=overrides)


def is_local_endpoint(endpoint_url: str | None) -> bool:
    return endpoint_url is not None and urlsplit(endpoint_url).hostname in LOOPBACK_HOSTS


def use_fake_credentials() -> None:
    """Give boto3 credentials and a region when none are set (an emulator checks neither)."""
    if "AWS_ACCESS_KEY_ID" not in os.environ:
        os.environ.update(FAKE_CREDENTIALS)
        os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)


def export_endpoint(endpoint: str) -> None:
    """Point this process's AWS_ENDPOINT_URL at the store's endpoint, so anything here (or in
    its children) that reads the settings reaches it rather than a real account. The
    per-service variables go: boto3 would prefer them, and this process must reach the
    endpoint its workers are given (the executor gives them AWS_ENDPOINT_URL alone)."""
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for name in [n for n in os.environ if n.startswith(SERVICE_ENDPOINT_PREFIX)]:
        del os.environ[name]


def ensure_port_free(host: str, port: int, what: str) -> None:
    # moto's server thread dies silently on a taken port and its start() then waits forever.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LocalRuntimeError(
                f"cannot use {host}:{port} for the {what} ({exc.strerror}); choose another port"
            ) from exc


class LocalRuntime:
    """Emulator, tables, seed data, the dispatcher loop with its executor and sweeper, and the
    API server, started and stopped as one."""

    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self.settings: Settings | None = None
        self._moto: ThreadedMotoServer | None = None
        self._server: uvicorn.Server | None = None
        self._stores: Stores | None = None
        self._dispatcher: LocalDispatcher | None = None
        self.executor_kind = "process"  # or "docker", decided at start
        self._ticker: LocalTicker | None = None
        self._notifier: ThreadNotifier | None = None
        self._launcher: LocalLauncher | None = None
        self._snapshotter: Snapshotter | None = None
        self._database: Database | None = None
        self._followers: list[threading.Thread] = []

    @property
    def stores(self) -> Stores:
        if self._stores is None:
            raise RuntimeError("call start() first")
        return self._stores

    @property
    def runs_dir(self) -> Path:
        from local.exec.logs import RUNS_DIR

        if self.settings is None:
            raise RuntimeError("call start() first")
        return Path(self.settings.data_dir) / RUNS_DIR

    @property
    def database_path(self) -> Path:
        from jobsched.adapters.sqlite.db import DB_FILE

        if self.settings is None:
            raise RuntimeError("call start() first")
        return Path(self.settings.data_dir) / DB_FILE

    def start(self) -> Stores:
        """Open the store (and its saved state), seed the default templates, and start the
        dispatcher loop, its executor and the sweeper."""
        from local.exec.executor import find_container_dir

        find_container_dir()  # fail before starting anything when there is no worker to run
        if self.config.embedded_emulator:
            ensure_port_free(LOOPBACK, self.config.moto_port, "AWS emulator")
        ensure_port_free(self.config.host, self.config.port, "API")
        dynamodb = self.config.store == "dynamodb"
        stores = self._open_dynamodb() if dynamodb else self._open_sqlite()
        seeded = seed_default_templates(stores)
        logger.info("seeded templates: %s", ", ".join(seeded) or "none")
        assert self.settings is not None
        self._stores = self._start_dispatch(self.settings, stores)
        return self._stores

    def _open_sqlite(self) -> Stores:
        from jobsched.adapters.sqlite import build_stores, open_database
        from local.importer import import_snapshot

        get_settings.cache_clear()
        self.settings = settings = local_settings(self.config)
        data_dir = Path(settings.data_dir)
        if self.config.reset:
            _delete_saved_state(data_dir)
        self._database = db = open_database(data_dir, settings)
        stores = build_stores(settings, db)
        if imported := import_snapshot(data_dir, db, settings):
            logger.info("imported %d records from the emulator's saved state", imported)
        return stores

    def _open_dynamodb(self) -> Stores:
        from jobsched.adapters.dynamodb import Dynamo, build_stores
        from jobsched.adapters.dynamodb.tables import create_tables
        from local.emulator import atomic_moto_server
        from local.snapshot import STATE_FILE, Snapshotter, load_snapshot

        if self.config.embedded_emulator:
            self._moto = atomic_moto_server(LOOPBACK, self.config.moto_port)
            self._moto.start()
            use_fake_credentials()
        endpoint = self.config.endpoint_url
        assert endpoint is not None
        export_endpoint(endpoint)
        get_settings.cache_clear()
        self.settings = settings = local_settings(self.config)
        dynamo = Dynamo(settings)
        create_tables(dynamo)
        if not self.config.embedded_emulator:
            return build_stores(settings, dynamo)  # the endpoint keeps its own state
        state = Path(settings.data_dir) / STATE_FILE
        if self.config.reset:
            state.unlink(missing_ok=True)
        if restored := load_snapshot(dynamo, state):
            logger.info(
                "loaded %d items from %s; units that were running when it was saved will be "
                "found lost by the sweeper and retried as their template says",
                restored,
                state,
            )
        self._snapshotter = Snapshotter(dynamo, state, settings.local_snapshot_seconds)
        self._snapshotter.start()
        return build_stores(settings, dynamo)

    def _start_dispatch(self, settings: Settings, stores: Stores) -> Stores:
        """Wire the execution edges into the stores (the API's kicks and cancels reach the
        loop and the executor) and start the loop."""
        from jobsched.constants import MAX_ARTIFACT_DOWNLOAD_BYTES
        from jobsched.content.hook import ContentIndexer
        from jobsched.content.indexing import ArtifactReaders, FileArtifactReader
        from jobsched.gates.hook import QualityGate
        from local.exec.dispatcher_loop import LocalDispatcher, LoopConfig
        from local.exec.executor import ExecutorConfig, LocalExecutor
        from local.exec.launcher import LocalLauncher
        from local.exec.logs import OUTPUTS_DIR, FileLogReader, run_dir
        from local.notifier import ThreadNotifier

        executor_config = ExecutorConfig.from_settings(settings)
        docker = self._uses_docker()
        self.executor_kind = "docker" if docker else "process"
        if docker:
            from local.exec.docker import DockerExecutor, build_image

            executor: LocalExecutor = DockerExecutor(stores.dispatch, executor_config)
            build_image(executor.container_dir)
        else:
            executor = LocalExecutor(stores.dispatch, executor_config)
        self._dispatcher = LocalDispatcher(executor, LoopConfig.from_settings(settings))
        # Ended groups' webhooks are sent from threads of their own, never from the loop.
        self._notifier = ThreadNotifier(stores, settings)
        # Finished units' story and card files are indexed (workers write files here).
        readers = ArtifactReaders({"file": FileArtifactReader()})
        indexer = ContentIndexer(stores.content, readers, settings.dedup_threshold)
        # The API's download reads only files inside the runs folder: a worker wrote the URI.
        downloads = FileArtifactReader(root=self.runs_dir, limit=MAX_ARTIFACT_DOWNLOAD_BYTES)
        # Quality gates read the same files; a run's outputs folder is what globs are below.
        data_dir = Path(settings.data_dir)

        def outputs_of(unit_id: str) -> str:
            return (run_dir(data_dir, unit_id) / OUTPUTS_DIR).resolve().as_uri() + "/"

        gate = QualityGate(readers, stores.content, outputs_of)
        wired = (
            stores.with_notifier(self._notifier)
            .with_indexer(indexer)
            .with_gate(gate)
            .with_artifacts(ArtifactReaders({"file": downloads}))
            .with_edges(
                kicker=self._dispatcher, tasks=executor, logs=FileLogReader(settings.data_dir)
            )
        )
        if self.config.store == "sqlite":
            self._reconcile(settings, wired, executor)
        self._dispatcher.start(wired)
        from local.exec.ticker import LocalTicker

        # The ticker fires schedules from our table; schedule changes wake it to plan again.
        self._ticker = LocalTicker(max_fires=settings.catch_up_max_fires)
        wired = wired.with_schedule_sync(self._ticker)
        self._ticker.start(wired)
        # USE_SCHEDULER=false: legacy triggers start workers at once, beside the slot threads.
        self._launcher = LocalLauncher(executor)
        wired = wired.with_launcher(self._launcher).with_probe(executor)
        self._launcher.bind(wired)
        return wired

    def _reconcile(self, settings: Settings, stores: Stores, executor: "LocalExecutor") -> None:
        """Before any slot is dispatched: adopt, record or declare lost what the last life of
        the runtime left running (local/exec/adopt.py)."""
        from jobsched.dispatch.dispatcher import Dispatcher
        from local.exec.adopt import reconcile
        from local.exec.dispatcher_loop import LoopConfig

        assert self._dispatcher is not None
        config = LoopConfig.from_settings(settings).dispatch
        report = reconcile(
            stores,
            executor,
            Dispatcher(stores, stores.dispatch, config),
            settings.heartbeat_seconds,
            on_finished=self._dispatcher.kick,
        )
        self._followers = report.followers
        for what, runs in (
            ("adopted the live workers of", report.adopted),
            ("recorded the outcomes their logs hold for", report.recorded),
            ("found lost (retried as their templates say)", report.lost),
        ):
            if runs:
                logger.warning("restart: %s %s", what, ", ".join(runs))

    def _uses_docker(self) -> bool:
        from local.exec.docker import docker_usable

        if self.config.executor == "process":
            return False
        if self.config.executor == "docker":
            return True
        return docker_usable()

    @property
    def admin_key_path(self) -> Path:
        assert self.settings is not None
        return Path(self.settings.data_dir) / ADMIN_KEY_FILE

    def admin_key(self, token: str | None = None) -> tuple[MintedKey, bool]:
        """The key to announce, and whether it is new. A given token is installed; else the
        data dir's own admin key (readable by its owner only) is used while its record holds,
        so restarts do not mint key after key; else one is minted and kept there."""
        if token is not None:
            return self.install_key(token), False
        kept = _read_private(self.admin_key_path)
        if kept is not None:
            key_id = parse_key_id(kept)
            record = self.stores.keys.get(key_id) if key_id else None
            if (
                record is not None
                and record.revoked_at is None
                and record.key_hash == hash_secret(kept)
            ):
                return MintedKey(record, kept), False
        minted = self.install_key()
        _write_private(self.admin_key_path, minted.secret)
        return minted, True

    def install_key(self, token: str | None = None, name: str = "local-admin") -> MintedKey:
        """An all-scopes key: the given token (`jsk_<id>_<secret>`) or a new random one. The
        given token's key may be there already, loaded from the saved state."""
        key_id = parse_key_id(token) if token else None
        kept = self.stores.keys.get(key_id) if key_id else None
        if kept is None:
            return mint_key(self.stores.keys, name, ALL_SCOPES, token=token)
        assert token is not None
        if kept.key_hash != hash_secret(token) or kept.revoked_at is not None:
            raise LocalRuntimeError(
                f"the saved state holds another or a revoked key with id {key_id}; choose "
                "another id, or start afresh with --reset"
            )
        return MintedKey(kept, token)

    def serve(self) -> None:
        """Serve the API in the foreground until Ctrl-C or SIGTERM."""
        import uvicorn

        from api.app import create_app  # lazy: the core must not import the HTTP edge

        slots = self.settings.slots if self.settings else None
        live = self.settings.ui_live if self.settings else "sse"
        app = create_app(stores=self.stores, public_docs=True, slots=slots, ui_live=live)
        # The dashboard's event streams stay open: a stop waits for them this long, no more.
        config = uvicorn.Config(
            app, host=self.config.host, port=self.config.port, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._announce_to_clients()
        self._server.run()

    @property
    def runtime_file_path(self) -> Path:
        assert self.settings is not None
        return Path(self.settings.data_dir) / RUNTIME_FILE

    def _announce_to_clients(self) -> None:
        """Where the `jobsched` command and `jobsched_client.connect()` find this runtime
        without being told (its key is the admin key beside it)."""
        path = self.runtime_file_path
        temporary = path.with_name(path.name + ".tmp")
        announced = {"url": self.config.api_url, "pid": os.getpid()}
        try:
            # The DynamoDB store writes nothing in the data dir before its first save.
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(announced) + "\n", encoding="utf-8")
            os.replace(temporary, path)
        except OSError as exc:  # the API serves on; only finding it by itself is lost
            logger.warning("cannot write %s (%s): give commands --url and --key", path, exc)

    def _withdraw_from_clients(self) -> None:
        if self.settings is None:
            return
        try:
            announced = json.loads(self.runtime_file_path.read_text(encoding="utf-8"))
            ours = announced.get("pid") == os.getpid()
        except (OSError, ValueError, AttributeError):
            return
        if ours:  # another runtime may serve from this data dir now
            self.runtime_file_path.unlink(missing_ok=True)

    def stop(self) -> None:
        """Stop whatever started; safe to call twice or after a failed start. Workers are
        stopped and their runs recorded, then the state saved, before the emulator goes."""
        if self._server is not None:
            self._server.should_exit = True
            self._server = None
        self._withdraw_from_clients()
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        if self._dispatcher is not None:
            self._dispatcher.stop()  # stops every worker, those outside the queue too
            self._dispatcher = None
        if self._launcher is not None:
            self._launcher.join(JOIN_LAUNCHED_SECONDS)
            self._launcher = None
        for follower in self._followers:  # adopted workers, stopped with the others
            follower.join(JOIN_LAUNCHED_SECONDS)
        self._followers = []
        if self._notifier is not None:
            self._notifier.close(wait=True)
            self._notifier = None
        if self._snapshotter is not None:
            self._snapshotter.stop()  # the last save, with the workers' ends recorded
            self._snapshotter = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._database is not None:
            self._database.close()
            self._database = None


def _read_private(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _write_private(path: Path, secret: str) -> None:
    """Created readable and writable by its owner only, before the secret is in it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")


def _delete_saved_state(data_dir: Path) -> None:
    """--reset: the database (with its WAL files), any emulator snapshot, the admin key."""
    from jobsched.adapters.sqlite.db import DB_FILE
    from local.snapshot import STATE_FILE

    for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm", STATE_FILE, ADMIN_KEY_FILE):
        (data_dir / name).unlink(missing_ok=True)
