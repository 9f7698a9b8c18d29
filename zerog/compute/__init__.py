"""Client side of the compute network: services on chain, the ledger, vouchers and receipts, and an
`openai.OpenAI` client that pays per request.

    from zerog.compute import Compute
    client = Compute(load_settings()).openai_client(provider_address)
    client.chat.completions.create(model="zg-bytelm-tiny", messages=[{"role": "user", "content": "Hello"}])
"""

from zerog.compute.client import Compute, ComputeError
from zerog.compute.protocol import Receipt, Voucher
from zerog.compute.records import ServiceInfo, SubAccountInfo
from zerog.compute.session import PaymentSession, ReceiptError

__all__ = [
    "Compute",
    "ComputeError",
    "PaymentSession",
    "Receipt",
    "ReceiptError",
    "ServiceInfo",
    "SubAccountInfo",
    "Voucher",
]
