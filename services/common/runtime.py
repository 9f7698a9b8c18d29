"""What every daemon's runtime shares: a web3 that fails fast when the chain node is down, the check that the
node serves the chain of the deployment manifest, and parts that exist only while the app runs."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Generic, TypeVar

import requests
from web3 import Web3
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from services.common.follower import DaemonFollower
from services.common.settings import DaemonSettings
from services.common.store import SqliteStore
from zerog.chain import Deployment, connect
from zerog.errors import ConfigError, DeploymentNotFoundError

log = logging.getLogger("services")

#: Seconds between probes of a chain node that does not answer yet, at start.
CHAIN_POLL_SECONDS = 0.5
#: A dead chain node should make requests fail promptly (a 503, a retry later), not after seconds of back-off.
RPC_RETRIES = 2
RPC_BACKOFF_SECONDS = 0.1

T = TypeVar("T")
StoreT = TypeVar("StoreT", bound=SqliteStore)
FollowerT = TypeVar("FollowerT", bound=DaemonFollower)


def daemon_web3(rpc_url: str) -> Web3:
    """A Web3 for a daemon: a couple of quick retries on connection errors and timeouts, then the error."""
    w3 = connect(rpc_url, check=False)
    w3.provider.exception_retry_configuration = ExceptionRetryConfiguration(  # type: ignore[union-attr]
        errors=(ConnectionError, requests.ConnectionError, requests.Timeout),
        retries=RPC_RETRIES,
        backoff_factor=RPC_BACKOFF_SECONDS,
    )
    return w3


def check_chain(w3: Web3, settings: DaemonSettings, deployment: Deployment, contracts: Iterable[str]) -> None:
    """ConfigError unless the chain at `settings.rpc_url` answers within `settings.chain_wait` seconds and holds
    `contracts` as `deployment` says (`Deployment.check_on_chain`)."""
    deadline = time.monotonic() + settings.chain_wait
    while True:
        try:
            w3.eth.chain_id  # noqa: B018 - a cheap liveness probe
            break
        except Exception as exc:  # requests raises many kinds; all mean "not reachable"
            if time.monotonic() >= deadline:
                raise ConfigError(
                    f"the chain node at {settings.rpc_url} does not answer ({type(exc).__name__}) after "
                    f"{settings.chain_wait:g} s: start it (`zg chain start`, `zg up`) or set ZG_RPC_URL"
                ) from exc
            time.sleep(CHAIN_POLL_SECONDS)
    try:
        deployment.check_on_chain(w3, contracts)
    except DeploymentNotFoundError as exc:
        raise ConfigError(exc.message) from exc


class DaemonRuntime(Generic[StoreT, FollowerT]):
    """Base of every daemon's runtime: settings, the deployment manifest and a web3, and the store and event
    follower that `open()` makes (in the app's lifespan) and `close()` stops: its workers first (`stop_workers`),
    then the follower, then the store. Parts made in `open()` are read through `running()`, which says so when the
    app is not up."""

    #: How the daemon calls itself in messages ("the faucet is not running").
    name = "daemon"
    #: The manifest's contracts it calls or follows, checked on chain at start.
    uses_contracts: tuple[str, ...] = ()

    def __init__(self, settings: DaemonSettings) -> None:
        self.settings = settings
        self.deployment = Deployment.for_settings(settings)
        self.chain_id = self.deployment.chain_id
        self.w3 = daemon_web3(settings.rpc_url)
        self._store: StoreT | None = None
        self._follower: FollowerT | None = None

    def check_chain(self) -> None:
        """At start: the chain node answers (within `chain_wait` seconds), serves the manifest's chain and holds the
        expected code at the addresses of the contracts this daemon uses. Later outages are no error: the event
        followers wait them out."""
        check_chain(self.w3, self.settings, self.deployment, self.uses_contracts)

    def running(self, part: T | None) -> T:
        if part is None:
            raise RuntimeError(f"the {self.name} is not running (app lifespan not started)")
        return part

    @property
    def store(self) -> StoreT:
        return self.running(self._store)

    @property
    def follower(self) -> FollowerT:
        return self.running(self._follower)

    def stop_workers(self) -> None:
        """Stop what runs on top of the follower and the store (a miner, a registrar)."""

    def close(self) -> None:
        self.stop_workers()
        if self._follower is not None:
            self._follower.stop()
            self._follower = None
        if self._store is not None:
            self._store.close()
            self._store = None
