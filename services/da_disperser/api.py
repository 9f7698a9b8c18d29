"""0G DA client's `disperser.Disperser` gRPC service (zerog/da/proto/disperser.proto) over the dispersal pipeline.

INVALID_ARGUMENT: an empty or oversized payload, a malformed root; NOT_FOUND: an unknown request id, or no blob
attested with that root, epoch and quorum; UNAUTHENTICATED: a missing or wrong token (when one is set);
UNAVAILABLE: the chain or the signers cannot answer now. A failed request's reason travels in the trailing
metadata `error-message` (the reply has no field for it) and in GET /v1/requests/<id>.
"""

from __future__ import annotations

import hmac
import logging
from typing import NoReturn

import grpc

from services.da_disperser.runtime import DADisperserRuntime
from zerog.da.errors import DAError, DataNotFoundError
from zerog.da.proto import disperser_pb2 as pb
from zerog.da.proto import disperser_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("unreachable: abort raises")


def _ascii(message: str) -> str:
    """A metadata value: printable ASCII on one line."""
    return "".join(c if " " <= c <= "~" else "?" for c in message)[:1000]


class DisperserService(pb_grpc.DisperserServicer):
    def __init__(self, runtime: DADisperserRuntime) -> None:
        self.runtime = runtime

    def _authorize(self, context: grpc.ServicerContext) -> None:
        token = self.runtime.settings.da_disperser_token
        if token is None:
            return
        given = dict(context.invocation_metadata()).get("authorization", "")
        if not hmac.compare_digest(str(given).encode(), f"Bearer {token.get_secret_value()}".encode()):
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, "this disperser needs its token: authorization: Bearer …")

    def DisperseBlob(self, request: pb.DisperseBlobRequest, context: grpc.ServicerContext) -> pb.DisperseBlobReply:  # noqa: N802
        self._authorize(context)
        try:
            queued = self.runtime.pipeline.submit(request.data)
        except DAError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, exc.message)
        return pb.DisperseBlobReply(result=pb.PROCESSING, request_id=queued.id.encode())

    def GetBlobStatus(self, request: pb.BlobStatusRequest, context: grpc.ServicerContext) -> pb.BlobStatusReply:  # noqa: N802
        self._authorize(context)
        request_id = request.request_id.decode("ascii", errors="replace")
        found = self.runtime.pipeline.queue.get(request_id)
        if found is None:
            _abort(context, grpc.StatusCode.NOT_FOUND, f"no dispersal request {request_id!r}")
        try:
            status, info = self.runtime.blob_status(found)
        except Exception as exc:  # the chain node, while checking finality
            log.warning("status of %s: %s", request_id, exc)
            _abort(context, grpc.StatusCode.UNAVAILABLE, f"cannot read the chain now: {type(exc).__name__}")
        if found.error:
            context.set_trailing_metadata((("error-message", _ascii(found.error)),))
        return pb.BlobStatusReply(status=status, info=info)

    def RetrieveBlob(self, request: pb.RetrieveBlobRequest, context: grpc.ServicerContext) -> pb.RetrieveBlobReply:  # noqa: N802
        self._authorize(context)
        root = request.storage_root
        if len(root) != 32:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"storage_root is {len(root)} bytes, not 32")
        described = f"blob 0x{root.hex()} of epoch {request.epoch}, quorum {request.quorum_id}"
        client = self.runtime.client
        # (context.abort raises a bare Exception: no abort inside the try blocks, which catch everything.)
        try:
            status = client.contracts.status(root)
        except Exception as exc:
            log.warning("status of %s: %s", described, exc)
            _abort(context, grpc.StatusCode.UNAVAILABLE, f"cannot read the chain now: {type(exc).__name__}")
        # Once verified, the status names the quorum that attested.
        attested = status.verified and status.verified_epoch == request.epoch and status.quorum_id == request.quorum_id
        if not attested:
            _abort(context, grpc.StatusCode.NOT_FOUND, f"no {described} is attested on chain")
        try:
            data = client.get(root)
        except DataNotFoundError as exc:
            _abort(context, grpc.StatusCode.NOT_FOUND, exc.message)
        except DAError as exc:
            _abort(context, grpc.StatusCode.UNAVAILABLE, exc.message)
        except Exception as exc:
            log.warning("retrieving %s: %s", described, exc)
            _abort(context, grpc.StatusCode.UNAVAILABLE, f"the signers cannot be read now: {type(exc).__name__}")
        return pb.RetrieveBlobReply(data=data)


def add_service(server: grpc.Server, runtime: DADisperserRuntime) -> None:
    pb_grpc.add_DisperserServicer_to_server(DisperserService(runtime), server)  # type: ignore[no-untyped-call]
