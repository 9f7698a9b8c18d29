"""The gRPC disperser's end-to-end latency against today's `zg da put` (DAClient.put), in the same run: a bundled
chain, the contracts deployed, four signer daemons and the disperser daemon (`python -m services.da_disperser`, as
`zg up` runs them), all on loopback.

    .venv/bin/python benches/da_disperser.py [--mib 1] [--runs 3]

disperser = DisperseBlob → GetBlobStatus polled every 20 ms until FINALIZED (the local default, ZG_CONFIRMATIONS=0:
final once verified); put = DAClient.put in this process. Both do the same work (encode, pay, disperse, submit the
aggregate); the disperser adds the gRPC hops, the payload written to disk and the queue. Each side disperses one
payload first, untimed (worker pools, imports). Everything shares the same 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc  # noqa: E402

from benches.common import local_settings, start_daemon  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from chain_node.process import free_port, stop  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.da.client import DAClient  # noqa: E402
from zerog.da.proto import disperser_pb2 as pb  # noqa: E402
from zerog.da.proto import disperser_pb2_grpc as pb_grpc  # noqa: E402
from zerog.devnet.deploy import deploy  # noqa: E402
from zerog.devnet.network import Daemon  # noqa: E402

MIB = 1 << 20
SIGNERS = 4
POLL_SECONDS = 0.02


def disperse(stub: pb_grpc.DisperserStub, data: bytes) -> float:
    start = time.perf_counter()
    request_id = stub.DisperseBlob(pb.DisperseBlobRequest(data=data)).request_id
    while (status := stub.GetBlobStatus(pb.BlobStatusRequest(request_id=request_id)).status) != pb.FINALIZED:
        if status not in (pb.PROCESSING, pb.CONFIRMED):
            raise SystemExit(f"dispersal ended {pb.BlobStatus.Name(status)}")
        time.sleep(POLL_SECONDS)
    return time.perf_counter() - start


def put(client: DAClient, data: bytes) -> float:
    start = time.perf_counter()
    client.put(data)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=float, default=1, help="payload size in MiB")
    parser.add_argument("--runs", type=int, default=3, help="timed payloads per side")
    args = parser.parse_args()
    size = int(args.mib * MIB)
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(Path(tmp), poll_interval=0.1)
        with ChainNode(settings):
            deploy(settings)
            daemons = []
            for i in range(SIGNERS):
                port = free_port()
                env = {"ZG_DA_SIGNER_INDEX": str(i), "ZG_DA_SIGNER_PORT": str(port),
                       "ZG_DA_SIGNER_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
                daemons.append(Daemon(f"da-signer-{i}", "services.da_signer", "127.0.0.1", port, env))
            grpc_port, http_port = free_port(), free_port()
            env = {"ZG_DA_DISPERSER_PORT": str(grpc_port), "ZG_DA_DISPERSER_HTTP_PORT": str(http_port)}
            daemons.append(Daemon("da-disperser", "services.da_disperser", "127.0.0.1", http_port, env))
            try:
                for daemon in daemons:
                    start_daemon(settings, daemon, settings.data_dir / f"{daemon.name}.log")
                limit = size + 2 * MIB
                options = [("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)]
                with (
                    grpc.insecure_channel(f"127.0.0.1:{grpc_port}", options) as channel,
                    DAClient(settings, dev_account(0)) as client,
                ):
                    stub = pb_grpc.DisperserStub(channel)
                    disperse(stub, os.urandom(size))
                    put(client, os.urandom(size))
                    served, direct = [], []
                    for _ in range(args.runs):  # interleaved: both sides see the same machine
                        served.append(disperse(stub, os.urandom(size)))
                        direct.append(put(client, os.urandom(size)))
                ours, today = statistics.median(served), statistics.median(direct)
                print(f"{size / MIB:g} MiB, {args.runs} runs each, block time {settings.block_time:g} s, median:")
                print(f"  DisperseBlob → FINALIZED  {ours:6.2f} s   (runs: {', '.join(f'{s:.2f}' for s in served)})")
                print(f"  DAClient.put (zg da put)  {today:6.2f} s   (runs: {', '.join(f'{s:.2f}' for s in direct)})")
                print(f"  ratio                     {ours / today:6.2f}")
            finally:
                for daemon in daemons:
                    if daemon.proc is not None:
                        stop(daemon.proc)


if __name__ == "__main__":
    main()
