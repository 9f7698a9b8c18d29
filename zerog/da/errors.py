"""What the DA client raises."""

from __future__ import annotations

from zerog.errors import ZeroGError


class DAError(ZeroGError):
    """A put or get could not complete."""


class BlobTooLargeError(DAError):
    """The payload is over the size limit (nothing was paid)."""


class InsufficientSignaturesError(DAError):
    """Signers holding two thirds of the stake did not attest the payload (it was paid for, not verified)."""


class DataNotFoundError(DAError):
    """Nobody paid for the data root, or no signer holds its cells."""


class SignerError(DAError):
    """A signer refused a request; `code` is its stable error code."""

    def __init__(self, url: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{url}: {message} ({code})")
        self.url = url
        self.status = status
        self.code = code
        self.detail = message


class DataExpiredError(DataNotFoundError):
    """The data root's retention is over: the signers deleted its cells."""

    def __init__(self, data_root: bytes, expiry_epoch: int) -> None:
        super().__init__(
            f"data root 0x{data_root.hex()} expired at epoch {expiry_epoch}: the signers kept it until then and "
            "deleted its cells; put it again to make it available"
        )
        self.expiry_epoch = expiry_epoch
