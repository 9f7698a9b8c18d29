"""Gas of sampling challenges (DAChallenges) on a fresh bundled chain (Prague) deployed by scripts/deploy.py: the
genesis signers attest payloads of 1 and 4 blobs (real KZG commitments, ckzg), a dev account challenges one signer
of each, the signer answers (`respond`: the merkle path of the commitment, then the cell proof on the EIP-2537
precompiles, ~620k of it), and one challenge is left unanswered and claimed (`claim`: the stake slashed through
DASigners.slash, the challenger credited).

    .venv/bin/python benches/da_challenge_gas.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from web3.types import RPCEndpoint  # noqa: E402

from benches.common import local_settings  # noqa: E402
from chain_node import ChainNode  # noqa: E402
from zerog.accounts import dev_account  # noqa: E402
from zerog.chain import connect  # noqa: E402
from zerog.da import encoding  # noqa: E402
from zerog.da.bls import aggregate_g1, aggregate_g2  # noqa: E402
from zerog.da.challenges import ChallengeContract, build_answer  # noqa: E402
from zerog.da.contracts import DAContracts  # noqa: E402
from zerog.da.keys import SIGNER_DEV_ACCOUNT_OFFSET, signer_keys  # noqa: E402
from zerog.devnet.deploy import deploy  # noqa: E402

SIGNERS = 4
CHALLENGER = 7


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = local_settings(Path(tmp), da_signers=SIGNERS)
        with ChainNode(settings):
            deployment, _ = deploy(settings)
            w3 = connect(settings.rpc_url)
            da, challenges = DAContracts(w3, deployment), ChallengeContract(w3, deployment)
            assert challenges.enabled(), "the bundled chain must run Prague"
            payer, challenger = dev_account(0), dev_account(CHALLENGER)
            signers = [dev_account(SIGNER_DEV_ACCOUNT_OFFSET + i) for i in range(SIGNERS)]
            keys = [signer_keys(a) for a in signers]
            view = da.current_signers()
            rows: list[tuple[str, int]] = []
            for blobs in (1, 4):
                payload = encoding.encode(bytes(encoding.PAYLOAD_BYTES_PER_BLOB * blobs - 7))
                root = payload.root
                da.submit_original_data(payer, [root], [payload.length])
                digest = da.attestation_digest(root, view.epoch, 0)
                receipt = da.submit_verified(
                    payer, root, view.epoch, (1 << SIGNERS) - 1, aggregate_g2(k.pk2 for k in keys),
                    aggregate_g1(k.sign(digest) for k in keys),
                )  # fmt: skip
                rows.append((f"attestation recording the signers ({blobs} blob(s))", receipt["gasUsed"]))
                for i, signer in enumerate(signers[:2]):
                    c = challenges.challenge(challenger, root, signer.address)
                    tx = w3.eth.get_transaction_receipt(_last_tx(w3, challenger.address))
                    if i == 0:
                        rows.append((f"challenge ({blobs} blob(s))", tx["gasUsed"]))
                        cell = payload.cell(c.blob_index, c.column)
                        proof = payload.proof(c.blob_index, c.column)
                        answer = build_answer(cell, proof, payload.commitments, payload.length, c.blob_index)
                        rows.append((f"respond ({blobs} blob(s))", challenges.respond(signer, c.id, answer)["gasUsed"]))
                    else:
                        w3.provider.make_request(RPCEndpoint("anvil_mine"), [challenges.response_blocks() + 1])
                        rows.append(
                            (f"claim, 10% slashed ({blobs} blob(s))", challenges.claim(challenger, c.id)["gasUsed"])
                        )
            for label, gas in rows:
                print(f"{label:<48}{gas:>10,}")


def _last_tx(w3, address: str) -> str:  # noqa: ANN001 - a bench helper
    """The newest transaction of `address` in the head block (the challenge just sent; automine: one per block)."""
    block = w3.eth.get_block("latest", full_transactions=True)
    return next(t["hash"] for t in block["transactions"] if t["from"] == address)


if __name__ == "__main__":
    main()
