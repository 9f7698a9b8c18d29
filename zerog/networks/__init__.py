"""Network profiles: the chain, endpoints and contracts `--network` / ZG_NETWORK selects.

`local` is what `zg up` runs: the settings' defaults and a running network's network.json, no profile file. The
built-in public profiles are the JSON files beside this module, every value with the 0G page it was taken from. Any
other value names a JSON or TOML file of the same shape (README, "Networks").
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from eth_utils import is_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zerog.errors import ComponentUnavailableError, ConfigError

LOCAL = "local"
BUILTIN_DIR = Path(__file__).parent
#: ABIs of our compiled interfaces (`ape run abi` writes them).
ABI_DIR = Path(__file__).parents[1] / "abi"
#: Our contracts whose interface 0G's deployment shares (manifest name -> our interface): a profile can name only
#: these, and they are driven through that interface's ABI.
SHARED_INTERFACES = {"Flow": "IFlow", "FixedPriceMarket": "IMarket"}
#: The settings a profile fills.
PROFILE_SETTINGS = ("chain_id", "rpc_url", "indexer_url", "explorer_url")


class ContractRef(BaseModel):
    """One contract of a network that is not ours: where it is and where that was published."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str
    source: str = ""
    # Where its events begin (log scans start here rather than at genesis).
    deploy_block: int = Field(default=0, ge=0)

    @field_validator("address")
    @classmethod
    def _checksummed(cls, value: str) -> str:
        # Mixed case required: a mistyped digit then fails the EIP-55 checksum here, not on chain.
        if not is_checksum_address(value):
            raise ValueError(f"{value} is not an EIP-55 checksummed address (mistyped, or all one case)")
        return value


class NetworkProfile(BaseModel):
    """A network that is not the local one. Without `contracts` it runs our whole stack, named by the deploy
    manifest `deployments/<chain_id>.json`; with them, only those (0G's deployment, through our shared interfaces)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    chain_id: int = Field(gt=0)
    rpc_url: str
    indexer_url: str | None = None
    explorer_url: str | None = None
    contracts: dict[str, ContractRef] | None = None
    # Setting -> the page its value was taken from.
    sources: dict[str, str] = Field(default_factory=dict)
    # The file it was read from (set by the loader).
    path: Path = Field(default=Path(), exclude=True)

    @field_validator("contracts")
    @classmethod
    def _shared(cls, value: dict[str, ContractRef] | None) -> dict[str, ContractRef] | None:
        for name in value or {}:
            if name not in SHARED_INTERFACES:
                shared = ", ".join(SHARED_INTERFACES)
                raise ValueError(f"{name} does not share 0G's interface (a profile can name {shared})")
        return value

    @property
    def builtin(self) -> bool:
        return self.path.parent == BUILTIN_DIR

    @property
    def label(self) -> str:
        return f"{self.name} (built in)" if self.builtin else f"{self.name} ({self.path})"

    def settings(self) -> dict[str, Any]:
        """The settings this profile sets (field -> value)."""
        values = {field: getattr(self, field) for field in PROFILE_SETTINGS}
        return {field: value for field, value in values.items() if value is not None}

    def require(self, component: str, names: Collection[str]) -> None:
        """Refuses `component` if this network does not run every contract of ours it needs."""
        if self.contracts is None:
            return
        if missing := [name for name in names if name not in self.contracts]:
            raise ComponentUnavailableError(
                f"network {self.name} does not run our {component} contracts ({', '.join(missing)}): its {component} "
                "is 0G's own deployment, whose interface this SDK does not speak. Use a network that runs the whole "
                "stack (--network local, or a profile without `contracts`)"
            )


def builtin_profiles() -> list[NetworkProfile]:
    return [_read(path) for path in sorted(BUILTIN_DIR.glob("*.json"))]


def load_profile(network: str) -> NetworkProfile | None:
    """The profile `network` names: None for `local`, a built-in one by name, else the profile file at that path."""
    if network == LOCAL:
        return None
    builtin = BUILTIN_DIR / f"{network}.json"
    path = builtin if network.isidentifier() and builtin.is_file() else Path(network).expanduser()
    if not path.is_file():
        names = ", ".join([LOCAL, *(p.stem for p in sorted(BUILTIN_DIR.glob("*.json")))])
        raise ConfigError(f"unknown network {network!r}: neither one of {names} nor a profile file")
    return _read(path)


def shared_abi(name: str) -> list[dict[str, Any]]:
    """The ABI of our interface that contract `name` shares with 0G's deployment."""
    return json.loads((ABI_DIR / f"{SHARED_INTERFACES[name]}.json").read_text())


def _read(path: Path) -> NetworkProfile:
    try:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError and JSONDecodeError are ValueErrors
        kind = "TOML" if path.suffix == ".toml" else "JSON"
        raise ConfigError(f"network profile {path} is not readable {kind}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"network profile {path} is not a table of settings")
    try:
        return NetworkProfile.model_validate({"name": path.stem, **data, "path": path})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'profile'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"network profile {path} is invalid: {problems}") from exc
