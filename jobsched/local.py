"""The embedded default: the whole scheduler on one machine with no AWS account.

The same stores as in production talk to moto's server running in this process, so the API,
the CLI (`AWS_ENDPOINT_URL=... jobsched keys list`) and later the workers all share one emulator.
Its state lives in memory and ends with the process.
"""

import logging
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from jobsched.models import Scope
from jobsched.ports import Stores
from jobsched.seed import seed_default_templates
from jobsched.settings import Settings, get_settings
from jobsched.usecases.keys import MintedKey, mint_key

if TYPE_CHECKING:
    import uvicorn
    from moto.server import ThreadedMotoServer

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})  # noqa: S104 - a name, not a bind
# moto accepts any credentials; fixed fake ones keep real ones from ever being sent to it.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
DEFAULT_REGION = "us-east-1"
ALL_SCOPES = [Scope.READ, Scope.WRITE, Scope.ADMIN]


class LocalRuntimeError(Exception):
    """The runtime cannot start (a port is taken); the message says what to do."""


@dataclass(frozen=True)
class LocalConfig:
    host: str = LOOPBACK
    port: int = 8000
    moto_port: int = 5566

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.moto_port}"

    @property
    def api_url(self) -> str:
        # 0.0.0.0 listens everywhere, but a client reaches it via loopback.
        host = LOOPBACK if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"


def is_local_endpoint(endpoint_url: str | None) -> bool:
    return endpoint_url is not None and urlsplit(endpoint_url).hostname in LOOPBACK_HOSTS


def use_fake_credentials() -> None:
    """Give boto3 credentials and a region when none are set (an emulator checks neither)."""
    if "AWS_ACCESS_KEY_ID" not in os.environ:
        os.environ.update(FAKE_CREDENTIALS)
        os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)


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
    """Emulator, tables, seed data and the API server, started and stopped as one."""

    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self._moto: ThreadedMotoServer | None = None
        self._server: uvicorn.Server | None = None
        self._stores: Stores | None = None

    @property
    def stores(self) -> Stores:
        if self._stores is None:
            raise RuntimeError("call start() first")
        return self._stores

    def start(self) -> Stores:
        """Start the emulator, create the tables and seed the default templates."""
        from moto.server import ThreadedMotoServer

        from jobsched.adapters.dynamodb import Dynamo, build_stores
        from jobsched.adapters.dynamodb.tables import create_tables

        ensure_port_free(LOOPBACK, self.config.moto_port, "AWS emulator")
        ensure_port_free(self.config.host, self.config.port, "API")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request
        self._moto = ThreadedMotoServer(
            ip_address=LOOPBACK, port=self.config.moto_port, verbose=False
        )
        self._moto.start()
        use_fake_credentials()
        # Exported too, so anything in this process (or its children) that reads the
        # settings reaches the emulator rather than a real account.
        os.environ["AWS_ENDPOINT_URL"] = self.config.endpoint_url
        get_settings.cache_clear()
        settings = Settings(aws_endpoint_url=self.config.endpoint_url)
        dynamo = Dynamo(settings)
        create_tables(dynamo)
        self._stores = build_stores(settings, dynamo)
        seeded = seed_default_templates(self._stores)
        logger.info("seeded templates: %s", ", ".join(seeded) or "none")
        return self._stores

    def install_key(self, token: str | None = None, name: str = "local-admin") -> MintedKey:
        """An all-scopes key: the given token (`jsk_<id>_<secret>`) or a new random one."""
        return mint_key(self.stores.keys, name, ALL_SCOPES, token=token)

    def serve(self) -> None:
        """Serve the API in the foreground until Ctrl-C or SIGTERM."""
        import uvicorn

        from api.app import create_app  # lazy: the core must not import the HTTP edge

        app = create_app(stores=self.stores, public_docs=True)
        config = uvicorn.Config(app, host=self.config.host, port=self.config.port)
        self._server = uvicorn.Server(config)
        self._server.run()

    def stop(self) -> None:
        """Stop whatever started; safe to call twice or after a failed start."""
        if self._server is not None:
            self._server.should_exit = True
            self._server = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
