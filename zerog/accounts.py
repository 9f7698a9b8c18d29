"""Loading the signing account: ZG_PRIVATE_KEY, a keystore, or (local network only) a dev account."""

from __future__ import annotations

import json
from functools import lru_cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

from zerog.config import DEV_MNEMONIC, Settings
from zerog.errors import ConfigError

Account.enable_unaudited_hdwallet_features()


@lru_cache(maxsize=32)
def dev_account(index: int) -> LocalAccount:
    """The `index`-th account of anvil's public dev mnemonic (funded on the local chain only)."""
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def account_from_key(key: str) -> LocalAccount:
    try:
        return Account.from_key(key.strip())
    except (ValueError, TypeError) as exc:
        # The message of the underlying error may echo the key: say only what is wrong.
        raise ConfigError("the private key is not a valid 32-byte hex key") from exc


def role_account(settings: Settings, setting: str, dev_index: int, role: str) -> LocalAccount:
    """A daemon's own key, the one loader of them all: the secret setting `setting` (ZG_<SETTING>; empty counts as
    unset), else — on the local network only — dev account `dev_index`. `role` names the key in the error."""
    secret = getattr(settings, setting)
    key = secret.get_secret_value() if secret is not None else ""
    if key:
        return account_from_key(key)
    if settings.is_local:
        return dev_account(dev_index)
    raise ConfigError(
        f"no {role} key for {settings.rpc_url}: set ZG_{setting.upper()} "
        "(dev accounts are used only on the local network)"
    )


def load_account(settings: Settings, dev_index: int = 0) -> LocalAccount:
    """The account to sign with; dev keys are refused outside the local network."""
    if settings.private_key is not None:
        return account_from_key(settings.private_key.get_secret_value())
    if settings.keystore is not None:
        password = settings.keystore_password.get_secret_value() if settings.keystore_password else ""
        try:
            keyfile = json.loads(settings.keystore.read_text())
            return Account.from_key(Account.decrypt(keyfile, password))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot unlock keystore {settings.keystore}: {exc}") from exc
    if settings.is_local:
        return dev_account(dev_index)
    raise ConfigError(
        f"no account for {settings.rpc_url}: set ZG_PRIVATE_KEY or ZG_KEYSTORE "
        "(dev accounts are used only on the local network)"
    )
