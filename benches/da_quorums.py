"""Per-signer load as the DA shards into quorums: 4, 8 and 16 signers, quorums of at least 4 (1, 2 and 4 quorums),
on fresh bundled chains deployed by scripts/deploy.py (the genesis signers: dev accounts 3..).

    .venv/bin/python benches/da_quorums.py [--roots 16] [--mib 1]

Each run pays for `--roots` data roots of `--mib` MiB each (submitOriginalData: the contract assigns the quorums
round-robin) and reads back the assignment the signers act on: each root's quorum (dataRootStatus) and each
signer's quorum and columns (signersAt). Per signer and per MiB of payload: cells it stores (its columns times the
blobs of its quorum's roots) and bytes it receives (a cell and its proof, 2096 bytes, per cell, plus the bundle
header and commitments). The signers' HTTP work is that exact bundle (zerog/da/wire.py), so no signer process
runs: 16 signer daemons plus ckzg verification are too heavy for a 2-core box, and the load is set by the
assignment, not by timing. Also the gas of submitOriginalData and the median gas of one attestation by a whole
quorum (fee credited to each signer), first credits excluded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_utils import keccak  # noqa: E402

from benches.common import local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import connect  # noqa: E402
from zerog.da.bls import aggregate_g1, aggregate_g2  # noqa: E402
from zerog.da.contracts import DAContracts  # noqa: E402
from zerog.da.encoding import BYTES_PER_CELL_WITH_PROOF, PAYLOAD_BYTES_PER_BLOB, blob_count  # noqa: E402
from zerog.da.keys import SIGNER_DEV_ACCOUNT_OFFSET, signer_keys  # noqa: E402
from zerog.da.kzg import BYTES_PER_COMMITMENT  # noqa: E402
from zerog.devnet.deploy import deploy  # noqa: E402

MIB = 2**20
#: Bundle header and per-column index (zerog/da/wire.py).
HEADER_BYTES = 19
INDEX_BYTES = 2


def measure(signers: int, roots: int, mib: float) -> dict[str, float]:
    length = int(mib * MIB)
    blobs = blob_count(length)
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(
            Path(tmp), dev_accounts=SIGNER_DEV_ACCOUNT_OFFSET + signers + 1, da_signers=signers, da_max_quorums=4,
            da_min_signers_per_quorum=4,
        )  # fmt: skip
        with ChainNode(settings):
            deployment, _ = deploy(settings)
            da = DAContracts(connect(settings.rpc_url), deployment)
            payer = dev_account(0)
            view = da.current_signers()
            keys = {s.slot: signer_keys(dev_account(SIGNER_DEV_ACCOUNT_OFFSET + s.slot)) for s in view.signers}
            cells = dict.fromkeys(keys, 0)
            received = dict.fromkeys(keys, 0)
            upload_gas, attest_gas = [], []
            for n in range(roots):
                root = keccak(text=f"quorum bench {signers} {n}")
                upload_gas.append(da.submit_original_data(payer, [root], [length])["gasUsed"])
                quorum = view.quorum(da.status(root).quorum_id)
                for s in quorum.signers:
                    cells[s.slot] += len(s.columns) * blobs
                    received[s.slot] += (
                        HEADER_BYTES
                        + blobs * BYTES_PER_COMMITMENT
                        + len(s.columns) * (INDEX_BYTES + blobs * BYTES_PER_CELL_WITH_PROOF)
                    )
                digest = da.attestation_digest(root, view.epoch, quorum.signers[0].quorum_id)
                members = quorum.signers
                receipt = da.submit_verified(
                    payer, root, view.epoch, sum(1 << s.slot for s in members),
                    aggregate_g2(s.pk2 for s in members), aggregate_g1(keys[s.slot].sign(digest) for s in members),
                    members[0].quorum_id,
                )  # fmt: skip
                if n >= view.quorum_count:  # every signer was credited once already
                    attest_gas.append(receipt["gasUsed"])
            total_mib = roots * length / MIB
            return {
                "quorums": view.quorum_count,
                "cells/MiB": statistics.mean(cells.values()) / total_mib,
                "cells/MiB max": max(cells.values()) / total_mib,
                "KiB recv/MiB": statistics.mean(received.values()) / total_mib / 1024,
                "submitOriginalData": statistics.median(upload_gas),
                "attest (whole quorum)": statistics.median(attest_gas) if attest_gas else float("nan"),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roots", type=int, default=16, help="data roots per signer count")
    parser.add_argument("--mib", type=float, default=1.0, help="payload MiB per root")
    args = parser.parse_args()
    blobs = blob_count(int(args.mib * MIB))
    print(f"{args.roots} roots of {args.mib} MiB ({blobs} blobs of {PAYLOAD_BYTES_PER_BLOB} bytes each)")
    print(f"{'signers':>7} {'quorums':>7} {'cells/MiB':>10} {'max':>7} {'KiB recv/MiB':>13} {'upload gas':>11} "
          f"{'attest gas':>11}")  # fmt: skip
    for signers in (4, 8, 16):
        r = measure(signers, args.roots, args.mib)
        print(
            f"{signers:>7} {r['quorums']:>7} {r['cells/MiB']:>10.1f} {r['cells/MiB max']:>7.1f} "
            f"{r['KiB recv/MiB']:>13.1f} {r['submitOriginalData']:>11,.0f} {r['attest (whole quorum)']:>11,.0f}"
        )


if __name__ == "__main__":
    main()
