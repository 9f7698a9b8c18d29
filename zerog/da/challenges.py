"""DAChallenges from Python: sampling challenges of DA signers (IDAChallenges has the rules), their answers built
from a signer's stored cells, and the typed views the CLI and the signer daemon use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from zerog.chain import Deployment, ErrorDecoder, send_transaction
from zerog.da.contracts import CHALLENGES_CONTRACT
from zerog.da.encoding import commitment_path
from zerog.errors import ComponentUnavailableError, DeploymentNotFoundError

#: respond's gas above the estimate: the cell check runs under a fixed stipend, so an estimate found by bisection
#: can sit right at the edge where the 63/64 rule starves it (it then reverts as a wrong answer).
RESPOND_GAS_RESERVE = 100_000


class ChallengeStatus(IntEnum):
    NONE = 0
    OPEN = 1
    ANSWERED = 2
    CLAIMED = 3


@dataclass(frozen=True)
class Challenge:
    """IDAChallenges.Challenge, with its id."""

    id: int
    status: ChallengeStatus
    challenger: str
    signer: str
    data_root: bytes
    blob_index: int
    column: int
    blobs: int
    deadline: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status.name.lower(), "challenger": self.challenger, "signer": self.signer,
            "dataRoot": "0x" + self.data_root.hex(), "blobIndex": self.blob_index, "column": self.column,
            "blobs": self.blobs, "deadline": self.deadline,
        }  # fmt: skip


def build_answer(
    cell: bytes, proof: bytes, commitments: Sequence[bytes], length: int, blob_index: int
) -> tuple[bytes, bytes, bytes, int, list[bytes]]:
    """IDAChallenges.Answer of cell `cell` (with `proof`) of blob `blob_index` of a payload of `length` bytes."""
    return (cell, proof, commitments[blob_index], length, commitment_path(commitments, blob_index))


class ChallengeContract:
    """DAChallenges of one deployment, on one connection."""

    def __init__(self, w3: Web3, deployment: Deployment) -> None:
        self.w3 = w3
        try:
            self.contract: Contract = deployment.contract(w3, CHALLENGES_CONTRACT)
            self.deploy_block = int(deployment.record(CHALLENGES_CONTRACT).get("deployBlock", 0))
        except (DeploymentNotFoundError, ComponentUnavailableError, KeyError) as exc:
            raise ComponentUnavailableError(
                f"this deployment has no {CHALLENGES_CONTRACT}: redeploy (`zg deploy`) for sampling challenges"
            ) from exc
        self.decoder: ErrorDecoder = deployment.error_decoder()

    @property
    def address(self) -> str:
        return self.contract.address

    # ------------------------------------------------------------ views

    def enabled(self) -> bool:
        return bool(self.contract.functions.enabled().call())

    def bond(self) -> int:
        return int(self.contract.functions.bond().call())

    def response_blocks(self) -> int:
        return int(self.contract.functions.responseBlocks().call())

    def slash_bps(self) -> int:
        return int(self.contract.functions.slashBps().call())

    def count(self) -> int:
        return int(self.contract.functions.challengeCount().call())

    def credits(self, account: str) -> int:
        return int(self.contract.functions.credits(to_checksum_address(account)).call())

    def get(self, challenge_id: int) -> Challenge:
        status, challenger, signer, root, blob, column, blobs, deadline = self.contract.functions.challengeOf(
            challenge_id
        ).call()
        return Challenge(
            challenge_id, ChallengeStatus(status), to_checksum_address(challenger), to_checksum_address(signer),
            bytes(root), int(blob), int(column), int(blobs), int(deadline),
        )  # fmt: skip

    def recent(self, limit: int = 20) -> list[Challenge]:
        """The newest `limit` challenges, newest first."""
        count = self.count()
        return [self.get(i) for i in range(count - 1, max(count - limit, 0) - 1, -1)]

    def created(self, receipt: TxReceipt) -> Challenge:
        """The challenge a `challenge` transaction created."""
        [event] = self.contract.events.ChallengeCreated().process_receipt(receipt, errors=DISCARD)
        return self.get(int(event["args"]["id"]))

    # ------------------------------------------------------------ transactions

    def challenge(self, account: LocalAccount, data_root: bytes, signer: str) -> Challenge:
        call = self.contract.functions.challenge(data_root, to_checksum_address(signer))
        receipt = send_transaction(self.w3, account, call, value=self.bond(), decoder=self.decoder)
        return self.created(receipt)

    def respond(
        self, account: LocalAccount, challenge_id: int, answer: tuple, on_sent: Callable[[str], None] | None = None
    ) -> TxReceipt:
        call = self.contract.functions.respond(challenge_id, answer)
        return send_transaction(
            self.w3, account, call, decoder=self.decoder, gas_reserve=RESPOND_GAS_RESERVE, on_sent=on_sent
        )

    def claim(self, account: LocalAccount, challenge_id: int) -> TxReceipt:
        return send_transaction(self.w3, account, self.contract.functions.claim(challenge_id), decoder=self.decoder)

    def withdraw(self, account: LocalAccount) -> TxReceipt:
        return send_transaction(self.w3, account, self.contract.functions.withdraw(), decoder=self.decoder)
