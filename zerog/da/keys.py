"""Signer identities: the account a DA signer stakes and signs transactions with, and its BLS key.

The BLS secret key is derived from the account's private key under a domain tag (`bls.derive_secret_key`):
deterministic, so a signer that loses its data dir still has its key, and nothing else needs keeping secret.
On the local network signer i uses dev account 3 + i; the deploy makes those the genesis signers.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

from zerog.accounts import role_account
from zerog.config import Settings
from zerog.da.bls import KeyPair, derive_secret_key
from zerog.da.contracts import proof_of_possession
from zerog.errors import ConfigError

#: Signer i of the local network uses dev account SIGNER_DEV_ACCOUNT_OFFSET + i.
SIGNER_DEV_ACCOUNT_OFFSET = 3


def signer_keys(account: LocalAccount) -> KeyPair:
    """The BLS key pair of a signer account."""
    return KeyPair(derive_secret_key(bytes(account.key)))


def signer_account(settings: Settings, index: int | None = None) -> LocalAccount:
    """ZG_DA_SIGNER_PRIVATE_KEY, else (local network only) dev account 3 + the signer index. An empty key counts
    as none (`zg up` clears it, so its signers are the deployment's genesis signers)."""
    index = settings.da_signer_index if index is None else index
    has_key = settings.da_signer_private_key is not None and settings.da_signer_private_key.get_secret_value()
    if not has_key and settings.is_local and SIGNER_DEV_ACCOUNT_OFFSET + index >= settings.dev_accounts:
        raise ConfigError(
            f"DA signer {index} would use dev account {SIGNER_DEV_ACCOUNT_OFFSET + index}, but the chain has "
            f"{settings.dev_accounts}: set ZG_DA_SIGNER_PRIVATE_KEY"
        )
    return role_account(settings, "da_signer_private_key", SIGNER_DEV_ACCOUNT_OFFSET + index, f"DA signer {index}")


def signer_socket(settings: Settings, index: int | None = None) -> str:
    """The URL a signer registers: ZG_DA_SIGNER_URL, else http://<host>:<port> (for signer `index` of `zg up`:
    its port is da_signer_base_port + index)."""
    if index is None:
        return (settings.da_signer_url or f"http://{settings.da_signer_host}:{settings.da_signer_port}").rstrip("/")
    return f"http://{settings.da_signer_host}:{settings.da_signer_base_port + index}"


def genesis_signers(settings: Settings, chain_id: int, signers_address: str) -> list[tuple[Any, ...]]:
    """DASigners.GenesisSigner tuples of the local network's `da_signers` signers (none elsewhere)."""
    if not settings.is_local:
        return []
    rows = []
    for index in range(settings.da_signers):
        account = signer_account(settings.model_copy(update={"da_signer_private_key": None}), index)
        keys = signer_keys(account)
        pop = proof_of_possession(keys, chain_id, signers_address, account.address)
        rows.append(
            (
                account.address,
                keys.pk1.to_contract(),
                keys.pk2.to_contract(),
                pop.to_contract(),
                signer_socket(settings, index),
                settings.da_signer_stake_wei,
            )
        )
    return rows
