"""The local network's genesis DA signers, registered by the deploy so the DA works from block one."""

from __future__ import annotations

from typing import Any

from services.da_signer.config import signer_account, signer_socket
from zerog.da.contracts import proof_of_possession
from zerog.da.keys import signer_keys
from zerog.devnet.settings import NetworkSettings


def genesis_signers(settings: NetworkSettings, chain_id: int, signers_address: str) -> list[tuple[Any, ...]]:
    """DASigners.GenesisSigner tuples of the local network's `da_signers` signers (none elsewhere)."""
    if not settings.is_local:
        return []
    rows = []
    for index in range(settings.da_signers):
        signer = settings.da_signer(index)
        account = signer_account(signer)
        keys = signer_keys(account)
        pop = proof_of_possession(keys, chain_id, signers_address, account.address)
        rows.append(
            (
                account.address,
                keys.pk1.to_contract(),
                keys.pk2.to_contract(),
                pop.to_contract(),
                signer_socket(signer),
                signer.da_signer_stake_wei,
            )
        )
    return rows
