"""Signer identities: the BLS key of a DA signer's account.

The BLS secret key is derived from the account's private key under a domain tag (`bls.derive_secret_key`):
deterministic, so a signer that loses its data dir still has its key, and nothing else needs keeping secret.
On the local network signer i uses dev account 3 + i; the deploy makes those the genesis signers.
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from zerog.da.bls import KeyPair, derive_secret_key

#: Signer i of the local network uses dev account SIGNER_DEV_ACCOUNT_OFFSET + i.
SIGNER_DEV_ACCOUNT_OFFSET = 3


def signer_keys(account: LocalAccount) -> KeyPair:
    """The BLS key pair of a signer account."""
    return KeyPair(derive_secret_key(bytes(account.key)))
