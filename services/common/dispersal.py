"""The dispersal pipeline the DA daemons share — the gRPC disperser (`zg da disperser`) and the OP alt-DA server
(`zg da server`): a persisted queue of payloads and one worker thread that puts them into DA, in order, with the
SDK's DAClient.

A request is accepted once its payload file and its row are on disk: the payload first (written atomically), then
the row; a payload without a row (a crash between the two) is deleted on open. On open, requests that a crash or a
stop interrupted mid-dispersal are queued again: the SDK's put is safe to repeat (it pays for a data root only if
the chain does not know it, and returns one already verified as it is). A request ends `done` (data root, epoch,
quorum, transactions, the block that verified it) or `failed` with a code: `insufficient_signatures` (signers of
two thirds of the stake did not attest it) or `failed` (any other error of the DA client). Other errors (the chain
node unreachable, …) are retried a few times before the request fails.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from services.common.store import TMP_SUFFIX, SqliteStore, atomic_write
from zerog.da import altda
from zerog.da.client import DAClient
from zerog.da.disperse import PutResult
from zerog.da.errors import InsufficientSignaturesError
from zerog.errors import ZeroGError
from zerog.follower import open_store

log = logging.getLogger(__name__)

QUEUED, DISPERSING, DONE, FAILED = "queued", "dispersing", "done", "failed"
#: Error codes of a failed request.
INSUFFICIENT_SIGNATURES, DISPERSAL_FAILED = "insufficient_signatures", "failed"
#: Tries of a request whose put failed outside the DA client (chain node down, …), and the pause between them.
MAX_ATTEMPTS = 5
RETRY_SECONDS = 2.0
#: Seconds the idle worker sleeps between looks at the queue (a submit wakes it at once).
IDLE_SECONDS = 1.0


@dataclass(frozen=True)
class DispersalRequest:
    """One payload in the pipeline and, once done, where DA holds it."""

    id: str
    state: str
    length: int
    created: float
    attempts: int
    data_root: str | None = None
    epoch: int | None = None
    quorum_id: int | None = None
    upload_tx: str | None = None
    verify_tx: str | None = None
    #: The block whose ErasureCommitmentVerified made the root available (for a root verified before, the head
    #: block when the put found it so: it was verified at or before it).
    verified_block: int | None = None
    error_code: str | None = None
    error: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> DispersalRequest:
        return cls(**{k: row[k] for k in row.keys() if k != "seq"})  # noqa: SIM118 - a Row iterates its values

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def commitment(self) -> bytes:
        """The OP alt-DA generic commitment of a done request."""
        assert self.data_root is not None and self.epoch is not None and self.quorum_id is not None
        return altda.encode_commitment(bytes.fromhex(self.data_root[2:]), self.epoch, self.quorum_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "requestId": self.id,
            "state": self.state,
            "length": self.length,
            "created": self.created,
            "attempts": self.attempts,
            "dataRoot": self.data_root,
            "epoch": self.epoch,
            "quorumId": self.quorum_id,
            "uploadTx": self.upload_tx,
            "verifyTx": self.verify_tx,
            "verifiedBlock": self.verified_block,
            "errorCode": self.error_code,
            "error": self.error,
        }


class DispersalQueue(SqliteStore):
    """The requests (SQLite, `queue.db`) and their payloads (`payloads/<id>`, deleted once a request ends) in one
    directory. `changed` is notified on every state change."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS dispersal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, state TEXT NOT NULL,
        length INTEGER NOT NULL, created REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        data_root TEXT, epoch INTEGER, quorum_id INTEGER, upload_tx TEXT, verify_tx TEXT, verified_block INTEGER,
        error_code TEXT, error TEXT
    );
    CREATE INDEX IF NOT EXISTS dispersal_state ON dispersal (state, seq);
    CREATE INDEX IF NOT EXISTS dispersal_root ON dispersal (data_root);
    """

    def __init__(self, conn: sqlite3.Connection, directory: Path) -> None:
        super().__init__(conn)
        self.directory = directory
        self.payloads = directory / "payloads"
        self.changed = threading.Condition()

    @classmethod
    def at(cls, directory: Path) -> DispersalQueue:
        """Open the queue in `directory`, resuming what a crash or a stop interrupted."""
        (directory / "payloads").mkdir(parents=True, exist_ok=True)
        queue = cls(open_store(directory / "queue.db"), directory)
        queue._recover()
        return queue

    def _recover(self) -> None:
        with self.transaction() as conn:
            resumed = conn.execute("UPDATE dispersal SET state = ? WHERE state = ?", (QUEUED, DISPERSING)).rowcount
            pending = {r[0] for r in conn.execute("SELECT id FROM dispersal WHERE state = ?", (QUEUED,))}
        if resumed:
            log.info("resuming %d dispersal(s) a stop interrupted", resumed)
        for path in self.payloads.iterdir():
            if path.name.endswith(TMP_SUFFIX) or path.name not in pending:
                path.unlink(missing_ok=True)  # a torn write, or the payload of a request never recorded or ended

    def _payload(self, request_id: str) -> Path:
        return self.payloads / request_id

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def submit(self, data: bytes) -> DispersalRequest:
        """Record a request for `data` (durably: it survives a crash from here on)."""
        request = DispersalRequest(secrets.token_hex(16), QUEUED, len(data), time.time(), 0)
        atomic_write(self._payload(request.id), data)
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO dispersal (id, state, length, created) VALUES (?, ?, ?, ?)",
                (request.id, request.state, request.length, request.created),
            )
        self._notify()
        return request

    def get(self, request_id: str) -> DispersalRequest | None:
        with self.lock:
            row = self.conn.execute("SELECT * FROM dispersal WHERE id = ?", (request_id,)).fetchone()
        return DispersalRequest.from_row(row) if row else None

    def claim(self) -> tuple[DispersalRequest, bytes] | None:
        """The oldest queued request, now `dispersing`, and its payload; None if none is queued."""
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM dispersal WHERE state = ? ORDER BY seq LIMIT 1", (QUEUED,)).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE dispersal SET state = ?, attempts = attempts + 1 WHERE id = ?", (DISPERSING, row["id"])
            )
        request = DispersalRequest.from_row(row)
        request = DispersalRequest(**{**asdict(request), "state": DISPERSING, "attempts": request.attempts + 1})
        self._notify()
        return request, self._payload(request.id).read_bytes()

    def finish(self, request_id: str, result: PutResult, verified_block: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE dispersal SET state = ?, data_root = ?, epoch = ?, quorum_id = ?, upload_tx = ?, "
                "verify_tx = ?, verified_block = ?, error_code = NULL, error = NULL WHERE id = ?",
                (DONE, result.data_root.lower(), result.epoch, result.quorum_id, result.upload_tx, result.verify_tx,
                 verified_block, request_id),
            )  # fmt: skip
        self._payload(request_id).unlink(missing_ok=True)
        self._notify()

    def fail(self, request_id: str, code: str, message: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE dispersal SET state = ?, error_code = ?, error = ? WHERE id = ?",
                (FAILED, code, message, request_id),
            )
        self._payload(request_id).unlink(missing_ok=True)
        self._notify()

    def requeue(self, request_id: str, message: str) -> None:
        """Back in the queue after a passing error (kept in `error` meanwhile)."""
        with self.transaction() as conn:
            conn.execute("UPDATE dispersal SET state = ?, error = ? WHERE id = ?", (QUEUED, message, request_id))
        self._notify()

    def wait(self, request_id: str, timeout: float) -> DispersalRequest:
        """The request once it has ended, or as it stands after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                request = self.get(request_id)
                left = deadline - time.monotonic()
                if request is None or request.finished or left <= 0:
                    if request is None:
                        raise LookupError(f"no dispersal request {request_id}")
                    return request
                self.changed.wait(min(left, IDLE_SECONDS))


class DispersalPipeline:
    """The queue in `directory` and the worker that disperses its requests with `client` (which pays). `open()`
    starts them; `close()` stops the worker (a put in flight is abandoned, and resumed on the next open)."""

    def __init__(self, directory: Path, client: DAClient) -> None:
        self.directory = directory
        self.client = client
        self._queue: DispersalQueue | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()

    @property
    def queue(self) -> DispersalQueue:
        if self._queue is None:
            raise RuntimeError("the dispersal pipeline is not open")
        return self._queue

    def open(self) -> None:
        self._queue = DispersalQueue.at(self.directory)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dispersal", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._queue is not None:
            self._queue.close()
            self._queue = None

    def submit(self, data: bytes) -> DispersalRequest:
        """Queue `data`: DAError (nothing recorded) when it is empty or over the DA size limit."""
        self.client.check_size(len(data))
        request = self.queue.submit(data)
        self._wake.set()
        return request

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.queue.claim()
            except Exception:  # the queue closed under a stopping worker, or a disk error: look again later
                if not self._stop.is_set():
                    log.exception("cannot read the dispersal queue")
                self._stop.wait(IDLE_SECONDS)
                continue
            if claimed is None:
                self._wake.wait(IDLE_SECONDS)
                self._wake.clear()
                continue
            self._disperse(*claimed)

    def _disperse(self, request: DispersalRequest, data: bytes) -> None:
        log.info("dispersing request %s (%d bytes, attempt %d)", request.id, request.length, request.attempts)
        try:
            result = self.client.put(data)
            w3 = self.client.w3
            block = (
                int(w3.eth.get_transaction_receipt(result.verify_tx)["blockNumber"])  # type: ignore[arg-type]
                if result.verify_tx
                else w3.eth.block_number
            )
        except ZeroGError as exc:
            code = INSUFFICIENT_SIGNATURES if isinstance(exc, InsufficientSignaturesError) else DISPERSAL_FAILED
            message = exc.message
            self._end(request, lambda q: q.fail(request.id, code, message))
        except Exception as exc:  # the chain node or the network: passing, most likely
            message = f"{type(exc).__name__}: {exc}"
            if request.attempts >= MAX_ATTEMPTS:
                self._end(request, lambda q: q.fail(request.id, DISPERSAL_FAILED, message))
            else:
                log.warning("request %s: %s; retrying in %g s", request.id, message, RETRY_SECONDS)
                self._end(request, lambda q: q.requeue(request.id, message))
                self._stop.wait(RETRY_SECONDS)
        else:
            log.info("request %s: %s verified in block %d", request.id, result.data_root, block)
            self._end(request, lambda q: q.finish(request.id, result, block))

    def _end(self, request: DispersalRequest, record: Callable[[DispersalQueue], None]) -> None:
        """Record how a put ended, unless the pipeline closed meanwhile (the next open resumes the request)."""
        try:
            record(self.queue)
        except (RuntimeError, sqlite3.ProgrammingError):
            log.warning("request %s: stopped before its result was recorded; it resumes on restart", request.id)
