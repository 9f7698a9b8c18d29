"""What the alt-DA server holds: the DA client (it pays blob fees with the operator's key), the dispersal pipeline
it shares with the gRPC disperser (services.common.dispersal: a put is queued durably, then waited for, since the
alt-DA protocol answers with the commitment) and the keccak index."""

from __future__ import annotations

from pathlib import Path

from services.common.dispersal import DONE, DispersalPipeline
from services.da_server.config import DAServerSettings
from services.da_server.store import KeccakIndex
from zerog.accounts import load_account
from zerog.da.client import DAClient
from zerog.da.errors import DAError, DataNotFoundError
from zerog.errors import ConfigError

#: How long a put waits for its dispersal, in DA client timeouts (a put the batcher gave up on goes on; the
#: batcher's retry finds the root verified and returns at once).
PUT_WAIT_TIMEOUTS = 3


def index_path(settings: DAServerSettings) -> Path:
    return settings.data_dir / "altda" / "keccak.db"


def queue_dir(settings: DAServerSettings) -> Path:
    return settings.data_dir / "altda" / "queue"


class DAServerRuntime:
    def __init__(self, settings: DAServerSettings) -> None:
        self.settings = settings
        if settings.da_server_token is None and settings.da_server_host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(
                f"the alt-DA server spends its key's funds on blob fees: listening on {settings.da_server_host} "
                "needs a bearer token (set ZG_DA_SERVER_TOKEN)"
            )
        self.client = DAClient(settings, load_account(settings))
        self.pipeline = DispersalPipeline(queue_dir(settings), self.client)
        self._index: KeccakIndex | None = None

    @property
    def index(self) -> KeccakIndex:
        if self._index is None:
            raise RuntimeError("the alt-DA server is not open")
        return self._index

    def open(self) -> None:
        self._index = KeccakIndex(index_path(self.settings))
        self.pipeline.open()

    def close(self) -> None:
        self.pipeline.close()
        if self._index is not None:
            self._index.close()
            self._index = None
        self.client.close()

    def put(self, data: bytes) -> bytes:
        """The generic commitment of `data`, dispersed and attested (ValueError for data DA cannot take)."""
        try:
            request = self.pipeline.submit(data)
        except DAError as exc:
            raise ValueError(exc.message) from exc
        done = self.pipeline.queue.wait(request.id, PUT_WAIT_TIMEOUTS * self.settings.da_timeout)
        if done.state != DONE:
            raise RuntimeError(done.error or f"dispersal request {done.id} is still {done.state}")
        return done.commitment

    def get(self, data_root: bytes) -> bytes:
        """The data of `data_root` (LookupError when DA does not know it)."""
        try:
            return self.client.get(data_root)
        except DataNotFoundError as exc:
            raise LookupError(exc.message) from exc
        except DAError as exc:
            raise RuntimeError(exc.message) from exc
