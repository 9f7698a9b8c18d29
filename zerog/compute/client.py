"""The compute network from the SDK: services on chain, the user's ledger and sub-accounts, the provider's
registration and settlement, and `openai_client()` — an `openai.OpenAI` that pays with vouchers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from zerog.auth import Domain
from zerog.chain import ContractClient
from zerog.compute.contracts import LEDGER, SERVING
from zerog.compute.protocol import Voucher, serving_domain
from zerog.compute.records import ServiceInfo, ServiceType, SubAccountInfo, Verifiability
from zerog.compute.session import PaymentSession
from zerog.errors import ConfigError, ZeroGError

if TYPE_CHECKING:
    import openai

#: Services read per getServices call.
SERVICE_PAGE = 50


class ComputeError(ZeroGError):
    """A compute operation cannot be done (unknown provider, nothing to refund, ...)."""


def service_params(
    url: str,
    model: str,
    input_price: int,
    output_price: int,
    signer: str,
    service_type: ServiceType = ServiceType.CHATBOT,
    verifiability: Verifiability = Verifiability.SIGNED_RECEIPTS,
) -> tuple[int, int, str, str, int, int, str]:
    """The ServiceParams struct for registerService / updateService."""
    return (int(service_type), int(verifiability), url, model, input_price, output_price, signer)


class Compute(ContractClient):
    """Ledger + InferenceServing for one account (the user, or the provider)."""

    error = ComputeError
    component = "compute"
    contracts = (LEDGER, SERVING)

    def bind(self) -> None:
        self.ledger: Contract = self.deployment.contract(self.w3, LEDGER)
        self.serving: Contract = self.deployment.contract(self.w3, SERVING)
        self.domain: Domain = serving_domain(self.deployment.chain_id, self.serving.address)

    # ------------------------------------------------------------ services

    def services(self) -> list[ServiceInfo]:
        total = int(self.serving.functions.serviceCount().call())
        found: list[ServiceInfo] = []
        for offset in range(0, total, SERVICE_PAGE):
            page = self.serving.functions.getServices(offset, SERVICE_PAGE).call()
            found += [ServiceInfo.from_tuple(raw) for raw in page]
        return found

    def service(self, provider: str) -> ServiceInfo:
        provider = self._provider_address(provider)
        if not self.serving.functions.isRegistered(provider).call():
            raise ComputeError(f"{provider} has no inference service (see `zg compute ls`)")
        return ServiceInfo.from_tuple(self.serving.functions.getService(provider).call())

    def _provider_address(self, provider: str) -> str:
        if not Web3.is_address(provider):
            raise ConfigError(f"{provider!r} is not a provider address (0x followed by 40 hex digits)")
        return to_checksum_address(provider)

    # ------------------------------------------------------------ the user's money

    def ledger_balance(self, user: str | None = None) -> int:
        return int(self.ledger.functions.balanceOf(user or self.address).call())

    def sub_account(self, provider: str, user: str | None = None) -> SubAccountInfo:
        raw = self.serving.functions.getSubAccount(user or self.address, self._provider_address(provider)).call()
        return SubAccountInfo.from_tuple(raw)

    def refund_lock(self) -> int:
        return int(self.serving.functions.refundLock().call())

    def deposit(self, amount: int) -> TxReceipt:
        if amount <= 0:
            raise ComputeError("the amount to deposit must be positive")
        return self._send(self.ledger.functions.deposit(), value=amount)

    def withdraw(self, amount: int | None = None) -> tuple[int, TxReceipt]:
        """Takes `amount` (default: everything) out of the ledger to the account."""
        amount = self.ledger_balance() if amount is None else amount
        if amount <= 0:
            raise ComputeError("nothing to withdraw: the ledger balance is 0")
        return amount, self._send(self.ledger.functions.withdraw(amount))

    def transfer(self, provider: str, amount: int, acknowledge: bool = True) -> list[TxReceipt]:
        """Moves `amount` from the ledger into the sub-account with `provider`, depositing the shortfall from
        the wallet first; with `acknowledge`, also accepts the provider's current signer if not yet done."""
        service = self.service(provider)
        receipts: list[TxReceipt] = []
        shortfall = amount - self.ledger_balance()
        if shortfall > 0:
            receipts.append(self.deposit(shortfall))
        receipts.append(self._send(self.ledger.functions.transferFund(service.provider, amount)))
        if acknowledge and self.sub_account(service.provider).acknowledged_signer != service.signer:
            receipts.append(self.acknowledge(service.provider))
        return receipts

    def acknowledge(self, provider: str) -> TxReceipt:
        return self._send(self.serving.functions.acknowledgeSigner(self._provider_address(provider)))

    def request_refund(self, provider: str, amount: int | None = None) -> tuple[int, int, TxReceipt]:
        """Asks for `amount` (default: the whole sub-account) back; returns (amount, unlock time, receipt)."""
        provider = self._provider_address(provider)
        account = self.sub_account(provider)
        amount = account.balance if amount is None else amount
        if amount <= 0:
            raise ComputeError(f"nothing to refund: the sub-account with {provider} is empty")
        receipt = self._send(self.ledger.functions.requestRefund(provider, amount))
        [event] = self.serving.events.RefundRequested().process_receipt(receipt)
        return amount, int(event["args"]["unlockAt"]), receipt

    def process_refund(self, provider: str) -> tuple[int, TxReceipt]:
        """Returns the unlocked pending refund to the ledger balance; returns (amount, receipt)."""
        provider = self._provider_address(provider)
        receipt = self._send(self.ledger.functions.processRefund(provider))
        [event] = self.ledger.events.FundReturned().process_receipt(receipt)
        return int(event["args"]["amount"]), receipt

    # ------------------------------------------------------------ the provider's side

    def register(self, params: tuple[Any, ...], stake: int) -> TxReceipt:
        return self._send(self.serving.functions.registerService(params), value=stake)

    def update(self, params: tuple[Any, ...], stake: int = 0) -> TxReceipt:
        return self._send(self.serving.functions.updateService(params), value=stake)

    def remove(self) -> TxReceipt:
        return self._send(self.serving.functions.removeService())

    def settle(self, vouchers: list[tuple[Voucher, str]]) -> TxReceipt:
        """One `settleBatch` transaction for every (voucher, signature) given, all of this account's. A voucher
        the contract cannot settle does not revert it: it is skipped, with a VoucherSkipped event in the receipt
        (even for a single voucher, so that callers handle one outcome)."""
        if not vouchers:
            raise ComputeError("no vouchers to settle")
        structs = [v.as_tuple() for v, _ in vouchers]
        signatures = [bytes.fromhex(sig.removeprefix("0x")) for _, sig in vouchers]
        return self._send(self.serving.functions.settleBatch(structs, signatures))

    def earnings(self, provider: str | None = None) -> int:
        return int(self.serving.functions.earnings(provider or self.address).call())

    def withdraw_earnings(self) -> tuple[int, TxReceipt]:
        receipt = self._send(self.serving.functions.withdrawEarnings())
        [event] = self.serving.events.EarningsWithdrawn().process_receipt(receipt)
        return int(event["args"]["amount"]), receipt

    # ------------------------------------------------------------ inference

    def session(self, provider: str, *, sync: bool = True) -> PaymentSession:
        """A payment session with `provider`: vouchers for requests, checks of receipts."""
        session = PaymentSession(self.account, self.service(provider), self.domain, chain=self)
        if sync:
            session.sync()
        return session

    def openai_client(self, provider: str, **kwargs: Any) -> openai.OpenAI:
        """An `openai.OpenAI` for `provider`'s service whose requests carry vouchers and whose responses'
        receipts are checked: `client.chat.completions.create(...)` works unmodified."""
        return self.session(provider).openai_client(**kwargs)
