"""URLs of explorer pages, in the explorer's own layout (services/explorer): one place builds them for every
command that prints a link."""

from __future__ import annotations

from dataclasses import dataclass

from zerog.explorer.settings import ExplorerSettings


def _hex(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value if value.startswith("0x") else "0x" + value


@dataclass(frozen=True)
class ExplorerLinks:
    base: str

    def _url(self, path: str) -> str:
        return f"{self.base.rstrip('/')}/{path}"

    def tx(self, tx_hash: str | bytes) -> str:
        return self._url(f"tx/{_hex(tx_hash)}")

    def block(self, number: int) -> str:
        return self._url(f"block/{number}")

    def address(self, address: str) -> str:
        return self._url(f"address/{address}")

    def storage(self, root: str | bytes) -> str:
        return self._url(f"storage/{_hex(root)}")

    def da(self, data_root: str | bytes) -> str:
        return self._url(f"da/{_hex(data_root)}")

    def listing(self, listing_id: int) -> str:
        return self._url(f"market/{listing_id}")


def explorer_links(settings: ExplorerSettings) -> ExplorerLinks | None:
    """Links into the configured explorer, or None when none is configured."""
    return ExplorerLinks(settings.explorer_url) if settings.explorer_url else None
