"""The transaction helper: EIP-1559 sends, and custom-error reverts decoded into readable reasons."""

from __future__ import annotations

import pytest
from eth_account import Account

from zerog.accounts import dev_account
from zerog.chain import connect, send_transaction
from zerog.errors import TransactionError


def test_send__eip1559_transaction_succeeds(deployed_devnet, deployment) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    faucet = deployment.contract(w3, "Faucet")
    recipient = Account.create().address
    receipt = send_transaction(w3, dev_account(1), faucet.functions.drip(recipient))
    tx = w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["type"] == 2 and receipt["status"] == 1
    assert w3.eth.get_balance(recipient) == deployed_devnet.faucet_drip_wei


def test_send__custom_error_revert_is_decoded(deployed_devnet, deployment) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    faucet = deployment.contract(w3, "Faucet")
    recipient = Account.create().address
    send_transaction(w3, dev_account(1), faucet.functions.drip(recipient))
    available_at = faucet.functions.nextDripAt(recipient).call()
    with pytest.raises(TransactionError) as info:
        send_transaction(w3, dev_account(1), faucet.functions.drip(recipient), decoder=deployment.error_decoder())
    assert info.value.reason == f"FaucetCooldownActive(recipient={recipient}, availableAt={available_at})"


def test_send__access_control_revert_is_decoded(deployed_devnet, deployment) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    faucet = deployment.contract(w3, "Faucet")
    stranger = dev_account(5)
    with pytest.raises(TransactionError, match=r"AccessControlUnauthorizedAccount\(account=0x"):
        send_transaction(w3, stranger, faucet.functions.drip(stranger.address), decoder=deployment.error_decoder())


def test_send__unknown_error_without_decoder_still_says_so(deployed_devnet, deployment) -> None:
    w3 = connect(deployed_devnet.rpc_url)
    faucet = deployment.contract(w3, "Faucet")
    with pytest.raises(TransactionError, match="would revert: unknown custom error 0x"):
        send_transaction(w3, dev_account(5), faucet.functions.setCooldown(1))
