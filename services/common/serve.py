"""Running a daemon app under uvicorn with the stack's conventions (shared by every daemon).

SIGINT and SIGTERM shut it down gracefully with exit code 0. Exit code 1: bad configuration or busy
port; 3: the app failed to start; 4: the daemon stopped itself (`stop_daemon`: its event follower cannot go on,
e.g. the chain was replaced), after a graceful shutdown.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import uvicorn
from fastapi import FastAPI

from zerog.config import Settings, load_settings
from zerog.errors import ZeroGError

S = TypeVar("S", bound=Settings)

EXIT_CONFIG = 1
EXIT_STARTUP = 3
EXIT_STOPPED = 4

# The server `serve` runs in this process, and the exit code a `stop_daemon` call asked for.
_server: uvicorn.Server | None = None
_exit_code: int | None = None


def stop_daemon(reason: str) -> None:
    """Shut the daemon down gracefully and exit with EXIT_STOPPED, logging `reason` (what to do about it).
    Safe from any thread; outside `serve` (an app in a test client) it only logs."""
    global _exit_code
    logging.getLogger("services").error("stopping: %s", reason)
    if _server is not None:
        _exit_code = EXIT_STOPPED
        _server.should_exit = True


def port_busy(host: str, port: int) -> bool:
    """True when something else holds the address (checked before a long build, for a clear message)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def setup_logging() -> None:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def serve(name: str, build: Callable[[], FastAPI], host: str, port: int, port_setting: str) -> int:
    """Build the app (which may take long: a model to train) and serve it until SIGINT/SIGTERM."""
    log = logging.getLogger("services")
    if port_busy(host, port):
        log.error("%s cannot start: port %d on %s is busy (set %s)", name, port, host, port_setting)
        return EXIT_CONFIG
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with the previous handler:
    # make both a KeyboardInterrupt, which ends us cleanly below (during the build too).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        app = build()
    except ZeroGError as exc:
        log.error("%s cannot start: %s", name, exc.message)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        log.info("%s stopped while starting", name)
        return 0
    # log_config=None: uvicorn's loggers propagate to our stdout handler instead of their own.
    global _server
    server = _server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="on"))
    interrupted = False
    try:
        server.run()
    except KeyboardInterrupt:
        interrupted = True
    if not server.started and not interrupted:
        return EXIT_STARTUP
    log.info("%s stopped", name)
    return _exit_code or 0


@dataclass(frozen=True)
class DaemonEntry(Generic[S]):
    """How a daemon starts: its name (or how its settings name it), its settings class, the settings prefix of its
    address (`<component>_host` / `<component>_port`) and its app factory. Its `python -m` module (what `zg up`
    runs) and its `zg … start` command both end in `serve`. A daemon whose main port speaks another protocol (the
    DA disperser's gRPC, which its runtime serves) names the settings field of its HTTP port in `http_port`."""

    name: str | Callable[[S], str]
    settings_class: type[S]
    component: str
    create_app: Callable[[S], FastAPI]
    http_port: str | None = None

    def serve(self, settings: S) -> int:
        name = self.name(settings) if callable(self.name) else self.name
        field = self.http_port or f"{self.component}_port"
        host, port = getattr(settings, f"{self.component}_host"), getattr(settings, field)
        return serve(name, lambda: self.create_app(settings), host, port, f"ZG_{field.upper()}")

    def main(self) -> int:
        """The `python -m` entry point: logging to stdout, the settings from env / .env / network.json."""
        setup_logging()
        return self.serve(load_settings(self.settings_class))
