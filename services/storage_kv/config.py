"""The KV node's settings (``ZG_KV_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import DaemonSettings
from zerog.storage.kv import DEFAULT_KV_PORT
from zerog.storage.settings import KVSettings, StorageSettings


class KVNodeSettings(KVSettings, StorageSettings, DaemonSettings):
    kv_host: str = "127.0.0.1"
    kv_port: int = DEFAULT_KV_PORT
    # Comma-separated 0x stream ids this node keeps; empty: every stream it sees.
    kv_streams: str = ""
    # Subdirectory of the data dir for this node's store.
    kv_name: str = "kv"
    # How long a transaction's data is looked for (retried with backoff) before it is recorded as DownloadFailed
    # and skipped, so that one missing blob never stops the replay.
    kv_fetch_timeout: float = Field(default=300.0, gt=0)
    # Largest blob (bytes, from the Submit log) the node fetches: the blob is held in memory while it is replayed,
    # so an unbounded one would let a single submission exhaust it. A larger one is recorded as a DataParseError
    # without being downloaded. Neither the official node (which replays from its own disk) nor the TS SDK has such
    # a limit; 16 MiB is the SDK's largest key (MAX_KEY_SIZE, 2^24 bytes).
    kv_max_blob_bytes: int = Field(default=16 * 2**20, gt=0)

    @property
    def kv_stream_set(self) -> set[bytes] | None:
        ids = [s.strip() for s in self.kv_streams.split(",") if s.strip()]
        if not ids:
            return None
        streams = set()
        for text in ids:
            raw = bytes.fromhex(text.removeprefix("0x"))
            if len(raw) != 32:
                raise ValueError(f"ZG_KV_STREAMS: {text} is not a 32-byte hex stream id")
            streams.add(raw)
        return streams


def db_path(settings: KVNodeSettings) -> Path:
    return settings.data_dir / settings.kv_name / "kv.db"
