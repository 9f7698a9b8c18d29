"""The settings mechanism every component shares, and the settings every component needs.

One loading mechanism (CLI flags over env ``ZG_*`` and ``.env``, over the network profile, over a running network's
network.json, over defaults), many settings classes: this core class holds what everything shares (chain, account,
data dir, deployments); each component declares its own fields in a subclass next to its code
(``zerog/<component>/settings.py`` for the SDK side, ``services/<daemon>/config.py`` for a daemon). A daemon's class
inherits its component's, so an env variable means the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlparse

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from zerog.networks import LOCAL, NetworkProfile, load_profile

#: The local network's chain id: 0G-style (Galileo is 16602, mainnet 16661) but distinct, so a wallet
#: that also knows the public testnet never mixes the two up.
LOCAL_CHAIN_ID = 16688
#: 0G's public networks (Newton and Galileo testnets, mainnet): dev keys are never used there.
PUBLIC_CHAIN_IDS = frozenset({16600, 16601, 16602, 16661})
DEFAULT_RPC_PORT = 8545
#: Anvil's well-known dev mnemonic: public, funded only on the local chain.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNTS = 12
ETHER = 10**18
#: The file a running `zg up` writes into its data dir: every endpoint of the network.
NETWORK_FILE = "network.json"


class Settings(BaseSettings):
    """What the SDK, the CLI and every daemon share. Every field is ``ZG_<FIELD>`` in the env."""

    model_config = SettingsConfigDict(env_prefix="ZG_", env_file=".env", extra="ignore")

    #: network.json key -> the field it fills where nothing else set it (merged over the class hierarchy).
    network_keys: ClassVar[dict[str, str]] = {"rpc": "rpc_url", "chainId": "chain_id"}

    # The network: `local` (what `zg up` runs), a built-in public one (`zg network ls`) or a profile file's path.
    network: str = LOCAL
    # Where the chain is; the local network `zg up` starts by default.
    rpc_url: str = f"http://127.0.0.1:{DEFAULT_RPC_PORT}"
    # Chain id the bundled node runs with (and that marks a network as the local dev network).
    chain_id: int = LOCAL_CHAIN_ID
    # Hex private key of the account that signs; never printed or logged.
    private_key: SecretStr | None = None
    # An eth-account / ape keystore file (JSON) and its password, used when no private key is set.
    keystore: Path | None = None
    keystore_password: SecretStr | None = None
    # How many accounts of the dev mnemonic the local chain funds (the role keys of the local network).
    dev_accounts: int = DEV_ACCOUNTS
    # Working state of the node and daemons: chain state, SQLite stores, network.json.
    data_dir: Path = Path.home() / ".zerog"
    # Where deployment manifests `<chainId>.json` live.
    deployments_dir: Path = Path("deployments")
    # Blocks a log must be buried under before it is acted on, and seconds between block polls (event follower).
    confirmations: int = Field(default=0, ge=0)
    poll_interval: float = Field(default=0.5, gt=0)
    # Seconds to wait for a transaction receipt.
    tx_timeout: float = Field(default=120, gt=0)

    @property
    def network_file(self) -> Path:
        return self.data_dir / NETWORK_FILE

    @property
    def is_local(self) -> bool:
        """True for a dev chain on this machine, where the public dev keys may be used: a loopback RPC
        whose chain id is not one of 0G's public networks (a tunnel to a real node is not a dev chain)."""
        host = urlparse(self.rpc_url).hostname or ""
        return host in {"127.0.0.1", "localhost", "::1"} and self.chain_id not in PUBLIC_CHAIN_IDS

    @property
    def profile(self) -> NetworkProfile | None:
        """The network's profile, None for the local network."""
        return load_profile(self.network)

    def manifest_path(self, chain_id: int) -> Path:
        return self.deployments_dir / f"{chain_id}.json"

    @classmethod
    def network_fields(cls) -> dict[str, str]:
        keys: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            keys.update(vars(klass).get("network_keys", {}))
        return keys


S = TypeVar("S", bound=Settings)


def _network_defaults(cls: type[Settings], data_dir: Path) -> dict[str, Any]:
    """Endpoints from a running `zg up` (its network.json), used where nothing else was configured."""
    try:
        network = json.loads((data_dir / NETWORK_FILE).read_text())
    except (OSError, ValueError):
        return {}
    defaults = {field: network.get(key) for key, field in cls.network_fields().items()}
    if manifest := network.get("manifest"):
        defaults["deployments_dir"] = Path(manifest).parent
    return {k: v for k, v in defaults.items() if v is not None}


def resolve_settings(cls: type[S] = Settings, **overrides: Any) -> tuple[S, dict[str, str]]:  # type: ignore[assignment]
    """`cls` from explicit overrides (CLI flags), then env/.env, then the network's profile, then defaults; and where
    each field's value came from. The local network has no profile: a running `zg up`'s network.json stands in for
    it. Another network never reads network.json, whose endpoints (indexer, KV node, manifest) are the local ones."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    base = cls(**overrides)
    explicit = base.model_fields_set | set(overrides)
    profile = load_profile(base.network)
    if profile is None:
        layer, origin = _network_defaults(cls, base.data_dir), f"network.json ({base.network_file})"
    else:
        layer, origin = profile.settings(), f"profile {profile.label}"
    filled = {k: v for k, v in layer.items() if k in cls.model_fields and k not in explicit}
    settings = base.model_copy(update=filled) if filled else base
    sources = {
        name: "flag" if name in overrides else "env" if name in explicit else origin if name in filled else "default"
        for name in cls.model_fields
    }
    return settings, sources


def load_settings(cls: type[S] = Settings, **overrides: Any) -> S:  # type: ignore[assignment]
    """`cls` from CLI flags, env/.env, the network's profile (or a running network's network.json), defaults."""
    return resolve_settings(cls, **overrides)[0]


@cache
def get_settings(cls: type[S] = Settings) -> S:  # type: ignore[assignment]
    """Process-wide settings of one class; tests call ``get_settings.cache_clear()`` after changing the env."""
    return load_settings(cls)


def settings_env(settings: Settings, secrets: Collection[str] | None = None) -> dict[str, str]:
    """`settings` as ZG_* variables, for a child process (daemon, `ape run deploy`) that must share them. With
    `secrets`, of the secret settings (keys, passwords, tokens) only those named there are passed on."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            if secrets is not None and name not in secrets:
                continue
            value = value.get_secret_value()
        env[f"ZG_{name.upper()}"] = str(value)
    return env
