"""What the DA disperser holds: the DA client (it pays blob fees with its key, ZG_DA_DISPERSER_PRIVATE_KEY), the
dispersal pipeline it shares with the alt-DA server (services.common.dispersal), and the gRPC server, started and
stopped with the app.

Status of a request (0G DA client's BlobStatus): queued or dispersing → PROCESSING; attested on chain
(ErasureCommitmentVerified) → CONFIRMED, then FINALIZED once the verifying block is final: `confirmations`
(ZG_CONFIRMATIONS) blocks deep, or at or below the node's `finalized` block; not attested by two thirds of the
stake → INSUFFICIENT_SIGNATURES; any other failure → FAILED.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc

from services.common.dispersal import DONE, FAILED, INSUFFICIENT_SIGNATURES, DispersalPipeline, DispersalRequest
from services.da_disperser.challenger import RandomChallenger
from services.da_disperser.config import DADisperserSettings, challenger_account, disperser_account, queue_dir
from zerog.da.challenges import ChallengeContract
from zerog.da.client import DAClient
from zerog.da.proto import disperser_pb2 as pb
from zerog.errors import ComponentUnavailableError, ConfigError

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: Room for the rest of a message beside a payload at the size limit (so an oversized payload reaches the
#: handler, which says INVALID_ARGUMENT, rather than gRPC's RESOURCE_EXHAUSTED).
MESSAGE_OVERHEAD = 64 * 1024
#: Seconds in-flight calls get to finish when the server stops.
GRACE_SECONDS = 2


class DADisperserRuntime:
    """`register` adds the gRPC service (services.da_disperser.api) to the server `open()` starts."""

    name = "DA disperser"

    def __init__(
        self, settings: DADisperserSettings, register: Callable[[grpc.Server, DADisperserRuntime], None]
    ) -> None:
        self.settings = settings
        self.register = register
        if settings.da_disperser_token is None and settings.da_disperser_host not in LOOPBACK:
            raise ConfigError(
                f"the DA disperser spends its key's funds on blob fees: listening on {settings.da_disperser_host} "
                "needs a token (set ZG_DA_DISPERSER_TOKEN)"
            )
        self.client = DAClient(settings, disperser_account(settings))
        self.pipeline = DispersalPipeline(queue_dir(settings), self.client)
        self._server: grpc.Server | None = None
        self.challenger = self._challenger()

    def _challenger(self) -> RandomChallenger | None:
        """The random sampling challenger, if ZG_DA_CHALLENGE_INTERVAL is set and the chain can check cells."""
        if not self.settings.da_challenge_interval:
            return None
        contracts = self.client.contracts
        try:
            challenges = ChallengeContract(contracts.w3, contracts.deployment)
        except ComponentUnavailableError:
            log.warning("ZG_DA_CHALLENGE_INTERVAL is set but this deployment has no DAChallenges: no challenges")
            return None
        if not challenges.enabled():
            log.warning("sampling challenges are off on this chain (no EIP-2537 precompiles): no random challenges")
            return None
        account = challenger_account(self.settings)
        return RandomChallenger(contracts, challenges, account, self.settings.da_challenge_interval)

    @property
    def grpc_address(self) -> str:
        host = self.settings.da_disperser_host
        return (
            f"[{host}]:{self.settings.da_disperser_port}"
            if ":" in host
            else f"{host}:{self.settings.da_disperser_port}"
        )

    def open(self) -> None:
        self.pipeline.open()
        limit = self.settings.da_max_blob_size + MESSAGE_OVERHEAD
        server = grpc.server(
            ThreadPoolExecutor(self.settings.da_disperser_grpc_workers, thread_name_prefix="grpc"),
            options=[("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)],
        )
        self.register(server, self)
        try:
            bound = server.add_insecure_port(self.grpc_address)
        except RuntimeError:
            bound = 0
        if not bound:
            self.pipeline.close()
            raise ConfigError(f"cannot listen on {self.grpc_address} for gRPC (set ZG_DA_DISPERSER_PORT)")
        server.start()
        self._server = server
        if self.challenger is not None:
            self.challenger.start()
        log.info("DA disperser gRPC API on %s", self.grpc_address)

    def close(self) -> None:
        if self.challenger is not None:
            self.challenger.stop()
        if self._server is not None:
            self._server.stop(GRACE_SECONDS).wait()
            self._server = None
        self.pipeline.close()
        self.client.close()

    def is_final(self, block: int) -> bool:
        """Whether the block that verified a root is final: `confirmations` deep, or finalized by the node."""
        w3 = self.client.w3
        if w3.eth.block_number - block >= self.settings.confirmations:
            return True
        try:
            return int(w3.eth.get_block("finalized")["number"]) >= block  # type: ignore[arg-type]
        except Exception:  # a node without the `finalized` tag: depth alone decides
            return False

    def blob_status(self, request: DispersalRequest) -> tuple[pb.BlobStatus, pb.BlobInfo | None]:
        if request.state == FAILED:
            failed = pb.INSUFFICIENT_SIGNATURES if request.error_code == INSUFFICIENT_SIGNATURES else pb.FAILED
            return failed, None
        if request.state != DONE:
            return pb.PROCESSING, None
        assert request.data_root is not None and request.verified_block is not None
        header = pb.BlobHeader(
            storage_root=bytes.fromhex(request.data_root[2:]), epoch=request.epoch, quorum_id=request.quorum_id
        )
        status = pb.FINALIZED if self.is_final(request.verified_block) else pb.CONFIRMED
        return status, pb.BlobInfo(blob_header=header)
