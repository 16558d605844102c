"""The AWS emulator of the local runtime: moto's threaded server, one request at a time."""

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer


def atomic_moto_server(host: str, port: int) -> "ThreadedMotoServer":
    """moto's threaded server, answering one request at a time.

    moto applies a request in several steps without a lock, so two requests (a worker's
    heartbeat, a cancel, a claim) could interleave inside one transaction, which DynamoDB never
    does. One lock around the application makes each request atomic, as DynamoDB's are.
    """
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request

    class AtomicMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            # As ThreadedMotoServer._server_entry, with the application wrapped.
            app = _serialised(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    server: ThreadedMotoServer = AtomicMotoServer(ip_address=host, port=port, verbose=False)
    return server


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _serialised(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))  # the whole body, inside the lock

    return handle
