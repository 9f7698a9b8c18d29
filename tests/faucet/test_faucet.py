"""Contract tests of Faucet (`ape test`): every path of drip (cooldown, budget, gas stipend), funding, admin
setters and withdrawals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak
from web3.exceptions import ContractCustomError

from tests.conftest import REPO_ROOT

DRIP = 10**18
COOLDOWN = 3600
FUND = 10 * DRIP
BUDGET = 5 * DRIP
BUDGET_WINDOW = 86_400
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DRIPPER_ROLE = keccak(text="DRIPPER_ROLE")
DEFAULT_ADMIN_ROLE = b"\x00" * 32
#: Runtime code that reverts every call with empty data: a recipient that refuses native tokens.
REJECTING_CODE = "0x60006000fd"
#: Runtime code that loops until less than 5000 gas is left, then accepts: a recipient burning all it is given.
GAS_BURNING_CODE = "0x5b6113885a1160005700"
#: Gas limit of a drip to the gas burner: far more than any drip needs.
BURNER_TX_GAS = 2_000_000
CONSTRUCTOR_TYPES = ["uint256", "uint256", "uint256", "uint256", "address", "address"]
#: An argument of each ABI type, to probe every function from a stranger.
PROBE_ARGS: dict[str, Any] = {"uint256": 1, "bytes32": DRIPPER_ROLE}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def admin(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="module")
def dripper(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="module")
def user(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="module")
def stranger(accounts: Any) -> Any:
    return accounts[3]


@pytest.fixture(scope="module")
def create_faucet(project: Any, admin: Any, dripper: Any) -> Callable[..., Any]:
    """Factory: a Faucet with the given parameters, deployed (and funded) by `admin`."""

    def create(
        drip: int = DRIP,
        cooldown: int = COOLDOWN,
        fund: int = FUND,
        owner: Any = None,
        hot_key: Any = None,
        budget: int = BUDGET,
        window: int = BUDGET_WINDOW,
    ) -> Any:
        return project.Faucet.deploy(
            drip, cooldown, budget, window, owner or admin, hot_key or dripper, sender=admin, value=fund
        )

    return create


@pytest.fixture
def faucet(create_faucet: Callable[..., Any]) -> Any:
    return create_faucet()


def _error_selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def _deploy_revert_data(project: Any, chain: Any, sender: Any, *args: Any) -> str:
    """Revert data of deploying Faucet with `args` (ape leaves constructor custom errors undecoded)."""
    data = project.Faucet.contract_type.deployment_bytecode.bytecode + encode(CONSTRUCTOR_TYPES, args).hex()
    with pytest.raises(ContractCustomError) as info:
        chain.provider.web3.eth.call({"from": sender.address, "data": data})
    return str(info.value.data)


# ---------------------------------------------------------------- constructor


def test_constructor__sets_parameters_roles_and_funds(faucet: Any, admin: Any, dripper: Any) -> None:
    assert faucet.dripAmount() == DRIP
    assert faucet.cooldown() == COOLDOWN
    assert (faucet.dripBudget(), faucet.budgetWindow(), faucet.budgetAvailableAt()) == (BUDGET, BUDGET_WINDOW, 0)
    assert faucet.balance == FUND
    assert faucet.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert faucet.hasRole(DRIPPER_ROLE, dripper)
    assert not faucet.hasRole(DRIPPER_ROLE, admin)
    assert faucet.DRIPPER_ROLE() == DRIPPER_ROLE


def test_constructor__with_value_emits_funded(faucet: Any, admin: Any) -> None:
    [funded] = faucet.Funded.from_receipt(faucet.creation_metadata.receipt)
    assert funded.event_arguments == {"from": admin.address, "amount": FUND}


def test_constructor__without_value_emits_nothing(create_faucet: Callable[..., Any]) -> None:
    faucet = create_faucet(fund=0)
    assert faucet.balance == 0
    assert faucet.Funded.from_receipt(faucet.creation_metadata.receipt) == []


def test_constructor__zero_drip_amount_reverts(
    create_faucet: Callable[..., Any], project: Any, chain: Any, admin: Any, dripper: Any
) -> None:
    with ape.reverts():
        create_faucet(drip=0)
    data = _deploy_revert_data(
        project, chain, admin, 0, COOLDOWN, BUDGET, BUDGET_WINDOW, admin.address, dripper.address
    )
    assert data == _error_selector("FaucetInvalidDripAmount()")


@pytest.mark.parametrize(("budget", "window"), [(DRIP - 1, BUDGET_WINDOW), (BUDGET, 0)])
def test_constructor__invalid_budget_reverts(
    create_faucet: Callable[..., Any], project: Any, chain: Any, admin: Any, dripper: Any, budget: int, window: int
) -> None:
    with ape.reverts():
        create_faucet(budget=budget, window=window)
    data = _deploy_revert_data(project, chain, admin, DRIP, COOLDOWN, budget, window, admin.address, dripper.address)
    assert (
        data
        == _error_selector("FaucetInvalidBudget(uint256,uint256)")
        + encode(["uint256", "uint256"], [budget, window]).hex()
    )


@pytest.mark.parametrize("zeroed", ["owner", "hot_key"])
def test_constructor__zero_address_role_reverts(
    create_faucet: Callable[..., Any], project: Any, chain: Any, admin: Any, dripper: Any, zeroed: str
) -> None:
    with ape.reverts():
        create_faucet(**{zeroed: ZERO_ADDRESS})
    roles = {"owner": admin.address, "hot_key": dripper.address, zeroed: ZERO_ADDRESS}
    data = _deploy_revert_data(
        project, chain, admin, DRIP, COOLDOWN, BUDGET, BUDGET_WINDOW, roles["owner"], roles["hot_key"]
    )
    assert data == _error_selector("FaucetZeroAddress()")


# ---------------------------------------------------------------- drip


def test_drip__sends_amount_and_emits_dripped(faucet: Any, dripper: Any, user: Any) -> None:
    before = user.balance

    receipt = faucet.drip(user, sender=dripper)

    assert user.balance == before + DRIP
    assert faucet.balance == FUND - DRIP
    [dripped] = faucet.Dripped.from_receipt(receipt)
    assert dripped.recipient == user.address
    assert dripped.amount == DRIP
    assert dripped.nextDripAt == receipt.timestamp + COOLDOWN
    assert faucet.lastDripAt(user) == receipt.timestamp
    assert faucet.nextDripAt(user) == receipt.timestamp + COOLDOWN


def test_next_drip_at__never_dripped_is_zero(faucet: Any, user: Any) -> None:
    assert faucet.lastDripAt(user) == 0
    assert faucet.nextDripAt(user) == 0


def test_drip__during_cooldown_reverts_with_available_at(faucet: Any, dripper: Any, user: Any, chain: Any) -> None:
    receipt = faucet.drip(user, sender=dripper)
    available_at = receipt.timestamp + COOLDOWN
    chain.pending_timestamp = available_at - 1

    with ape.reverts(faucet.FaucetCooldownActive, recipient=user.address, availableAt=available_at):
        faucet.drip(user, sender=dripper)

    assert faucet.lastDripAt(user) == receipt.timestamp


def test_drip__at_end_of_cooldown_succeeds(faucet: Any, dripper: Any, user: Any, chain: Any) -> None:
    first = faucet.drip(user, sender=dripper)
    chain.pending_timestamp = first.timestamp + COOLDOWN
    before = user.balance

    second = faucet.drip(user, sender=dripper)

    assert second.timestamp == first.timestamp + COOLDOWN
    assert user.balance == before + DRIP
    [dripped] = faucet.Dripped.from_receipt(second)
    assert dripped.nextDripAt == second.timestamp + COOLDOWN


def test_drip__cooldown_is_per_address(faucet: Any, dripper: Any, user: Any, stranger: Any) -> None:
    faucet.drip(user, sender=dripper)
    before = stranger.balance

    faucet.drip(stranger, sender=dripper)

    assert stranger.balance == before + DRIP


def test_drip__zero_cooldown_allows_back_to_back(create_faucet: Callable[..., Any], dripper: Any, user: Any) -> None:
    faucet = create_faucet(cooldown=0)
    faucet.drip(user, sender=dripper)
    faucet.drip(user, sender=dripper)
    assert faucet.balance == FUND - 2 * DRIP


def test_drip__empty_faucet_reverts_with_balance(create_faucet: Callable[..., Any], dripper: Any, user: Any) -> None:
    faucet = create_faucet(fund=DRIP - 1)

    with ape.reverts(faucet.FaucetEmpty, balance=DRIP - 1, dripAmount=DRIP):
        faucet.drip(user, sender=dripper)

    assert faucet.lastDripAt(user) == 0


def test_drip__last_drip_empties_faucet(create_faucet: Callable[..., Any], dripper: Any, user: Any) -> None:
    faucet = create_faucet(fund=DRIP)
    faucet.drip(user, sender=dripper)
    assert faucet.balance == 0


def test_drip__not_dripper_reverts(faucet: Any, admin: Any, stranger: Any, user: Any) -> None:
    for caller in (stranger, admin):
        with ape.reverts(faucet.AccessControlUnauthorizedAccount, account=caller.address, neededRole=DRIPPER_ROLE):
            faucet.drip(user, sender=caller)


def test_drip__granted_dripper_can_drip(faucet: Any, admin: Any, stranger: Any, user: Any) -> None:
    faucet.grantRole(DRIPPER_ROLE, stranger, sender=admin)
    before = user.balance

    faucet.drip(user, sender=stranger)

    assert user.balance == before + DRIP


def test_drip__zero_address_reverts(faucet: Any, dripper: Any) -> None:
    with ape.reverts(faucet.FaucetZeroAddress):
        faucet.drip(ZERO_ADDRESS, sender=dripper)


def test_drip__rejecting_recipient_reverts_and_keeps_state(faucet: Any, dripper: Any, chain: Any) -> None:
    rejecting = "0x000000000000000000000000000000000000fA11"
    chain.provider.set_code(rejecting, REJECTING_CODE)

    with ape.reverts(faucet.FaucetTransferFailed, recipient=rejecting, amount=DRIP):
        faucet.drip(rejecting, sender=dripper)

    assert faucet.balance == FUND
    assert faucet.lastDripAt(rejecting) == 0
    assert faucet.budgetAvailableAt() == 0


def test_drip__gas_burning_recipient_gets_only_the_stipend(faucet: Any, dripper: Any, chain: Any) -> None:
    """A recipient contract burning every gas unit it gets cannot make the dripper pay for more than the
    stipend, however high the transaction's gas limit."""
    burner = "0x000000000000000000000000000000000000b0b0"
    chain.provider.set_code(burner, GAS_BURNING_CODE)
    to_wallet = faucet.drip(Account.create().address, sender=dripper, gas=BURNER_TX_GAS)

    to_burner = faucet.drip(burner, sender=dripper, gas=BURNER_TX_GAS)

    assert chain.provider.get_balance(burner) == DRIP  # the stipend is enough to accept
    assert to_burner.gas_used <= to_wallet.gas_used + faucet.DRIP_GAS_STIPEND()
    assert to_burner.gas_used > faucet.DRIP_GAS_STIPEND() // 2  # it did burn what it was given


# ---------------------------------------------------------------- drip budget


def test_drip__budget_stops_drips_until_the_window_ends(faucet: Any, dripper: Any, chain: Any) -> None:
    first = faucet.drip(Account.create().address, sender=dripper)
    for _ in range(BUDGET // DRIP - 1):
        faucet.drip(Account.create().address, sender=dripper)
    frees_at = first.timestamp + BUDGET_WINDOW
    assert faucet.budgetAvailableAt() == frees_at

    # A fresh address each time does not help: the budget is the faucet's, not the address's.
    with ape.reverts(faucet.FaucetBudgetExhausted, spent=BUDGET, budget=BUDGET, availableAt=frees_at):
        faucet.drip(Account.create().address, sender=dripper)
    chain.pending_timestamp = frees_at - 1
    with ape.reverts(faucet.FaucetBudgetExhausted, availableAt=frees_at):
        faucet.drip(Account.create().address, sender=dripper)

    chain.pending_timestamp = frees_at
    recipient = Account.create().address
    receipt = faucet.drip(recipient, sender=dripper)

    assert chain.provider.get_balance(recipient) == DRIP
    assert receipt.timestamp == frees_at
    assert faucet.balance == FUND - BUDGET - DRIP
    # A new window started with this drip: BUDGET - DRIP are left in it.
    assert faucet.budgetAvailableAt() == 0


# ---------------------------------------------------------------- funding


def test_receive__plain_transfer_emits_funded(faucet: Any, user: Any) -> None:
    receipt = user.transfer(faucet, DRIP)

    assert faucet.balance == FUND + DRIP
    [funded] = faucet.Funded.from_receipt(receipt)
    assert funded.event_arguments == {"from": user.address, "amount": DRIP}


def test_fund__emits_funded(faucet: Any, user: Any) -> None:
    receipt = faucet.fund(sender=user, value=3 * DRIP)

    assert faucet.balance == FUND + 3 * DRIP
    [funded] = faucet.Funded.from_receipt(receipt)
    assert funded.event_arguments == {"from": user.address, "amount": 3 * DRIP}


def test_fund__refills_empty_faucet(create_faucet: Callable[..., Any], dripper: Any, user: Any) -> None:
    faucet = create_faucet(fund=0)
    faucet.fund(sender=user, value=DRIP)
    faucet.drip(user, sender=dripper)
    assert faucet.balance == 0


# ---------------------------------------------------------------- admin setters


def test_set_drip_amount__updates_and_emits(faucet: Any, admin: Any, dripper: Any, user: Any) -> None:
    receipt = faucet.setDripAmount(2 * DRIP, sender=admin)

    assert faucet.dripAmount() == 2 * DRIP
    [updated] = faucet.DripAmountUpdated.from_receipt(receipt)
    assert updated.previousAmount == DRIP
    assert updated.newAmount == 2 * DRIP
    before = user.balance
    faucet.drip(user, sender=dripper)
    assert user.balance == before + 2 * DRIP


def test_set_drip_amount__zero_reverts(faucet: Any, admin: Any) -> None:
    with ape.reverts(faucet.FaucetInvalidDripAmount):
        faucet.setDripAmount(0, sender=admin)


def test_set_drip_amount__above_budget_reverts(faucet: Any, admin: Any) -> None:
    with ape.reverts(faucet.FaucetInvalidDripAmount):
        faucet.setDripAmount(BUDGET + 1, sender=admin)


@pytest.mark.parametrize("role", ["dripper", "stranger"])
def test_set_drip_amount__not_admin_reverts(faucet: Any, request: pytest.FixtureRequest, role: str) -> None:
    caller = request.getfixturevalue(role)
    with ape.reverts(faucet.AccessControlUnauthorizedAccount, account=caller.address, neededRole=DEFAULT_ADMIN_ROLE):
        faucet.setDripAmount(2 * DRIP, sender=caller)


def test_set_cooldown__updates_and_emits(faucet: Any, admin: Any, dripper: Any, user: Any) -> None:
    first = faucet.drip(user, sender=dripper)

    receipt = faucet.setCooldown(60, sender=admin)

    assert faucet.cooldown() == 60
    [updated] = faucet.CooldownUpdated.from_receipt(receipt)
    assert updated.previousCooldown == COOLDOWN
    assert updated.newCooldown == 60
    # The cooldown is computed from the last drip, so a shorter one frees waiting addresses at once.
    assert faucet.nextDripAt(user) == first.timestamp + 60


def test_set_cooldown__zero_is_allowed(faucet: Any, admin: Any, dripper: Any, user: Any) -> None:
    faucet.drip(user, sender=dripper)
    faucet.setCooldown(0, sender=admin)
    faucet.drip(user, sender=dripper)
    assert faucet.balance == FUND - 2 * DRIP


def test_set_cooldown__not_admin_reverts(faucet: Any, stranger: Any) -> None:
    with ape.reverts(faucet.AccessControlUnauthorizedAccount, account=stranger.address, neededRole=DEFAULT_ADMIN_ROLE):
        faucet.setCooldown(1, sender=stranger)


def test_set_drip_budget__updates_and_emits(faucet: Any, admin: Any, dripper: Any, chain: Any) -> None:
    first = faucet.drip(Account.create().address, sender=dripper)

    receipt = faucet.setDripBudget(DRIP, 60, sender=admin)

    assert (faucet.dripBudget(), faucet.budgetWindow()) == (DRIP, 60)
    [updated] = faucet.DripBudgetUpdated.from_receipt(receipt)
    assert updated.event_arguments == {
        "previousBudget": BUDGET,
        "previousWindow": BUDGET_WINDOW,
        "newBudget": DRIP,
        "newWindow": 60,
    }
    # The running window keeps what it spent, and now ends 60 s after it started.
    assert faucet.budgetAvailableAt() == first.timestamp + 60
    with ape.reverts(faucet.FaucetBudgetExhausted, spent=DRIP, budget=DRIP, availableAt=first.timestamp + 60):
        faucet.drip(Account.create().address, sender=dripper)


@pytest.mark.parametrize(("budget", "window"), [(DRIP - 1, BUDGET_WINDOW), (BUDGET, 0)])
def test_set_drip_budget__invalid_reverts(faucet: Any, admin: Any, budget: int, window: int) -> None:
    with ape.reverts(faucet.FaucetInvalidBudget, budget=budget, window=window):
        faucet.setDripBudget(budget, window, sender=admin)


@pytest.mark.parametrize("role", ["dripper", "stranger"])
def test_set_drip_budget__not_admin_reverts(faucet: Any, request: pytest.FixtureRequest, role: str) -> None:
    caller = request.getfixturevalue(role)
    with ape.reverts(faucet.AccessControlUnauthorizedAccount, account=caller.address, neededRole=DEFAULT_ADMIN_ROLE):
        faucet.setDripBudget(FUND, 1, sender=caller)


# ---------------------------------------------------------------- withdraw


def test_withdraw__sends_amount_and_emits(faucet: Any, admin: Any, user: Any) -> None:
    before = user.balance

    receipt = faucet.withdraw(user, 4 * DRIP, sender=admin)

    assert user.balance == before + 4 * DRIP
    assert faucet.balance == FUND - 4 * DRIP
    [withdrawn] = faucet.Withdrawn.from_receipt(receipt)
    assert withdrawn.to == user.address
    assert withdrawn.amount == 4 * DRIP


def test_withdraw__everything_then_drip_reverts_empty(faucet: Any, admin: Any, dripper: Any, user: Any) -> None:
    faucet.withdraw(admin, FUND, sender=admin)

    assert faucet.balance == 0
    with ape.reverts(faucet.FaucetEmpty, balance=0, dripAmount=DRIP):
        faucet.drip(user, sender=dripper)


def test_withdraw__more_than_balance_reverts(faucet: Any, admin: Any) -> None:
    with ape.reverts(faucet.FaucetInsufficientBalance, balance=FUND, amount=FUND + 1):
        faucet.withdraw(admin, FUND + 1, sender=admin)


def test_withdraw__zero_address_reverts(faucet: Any, admin: Any) -> None:
    with ape.reverts(faucet.FaucetZeroAddress):
        faucet.withdraw(ZERO_ADDRESS, 1, sender=admin)


@pytest.mark.parametrize("role", ["dripper", "stranger"])
def test_withdraw__not_admin_reverts(faucet: Any, request: pytest.FixtureRequest, role: str) -> None:
    caller = request.getfixturevalue(role)
    with ape.reverts(faucet.AccessControlUnauthorizedAccount, account=caller.address, neededRole=DEFAULT_ADMIN_ROLE):
        faucet.withdraw(caller, 1, sender=caller)


def test_withdraw__rejecting_receiver_reverts(faucet: Any, admin: Any, chain: Any) -> None:
    rejecting = "0x000000000000000000000000000000000000fa12"
    chain.provider.set_code(rejecting, REJECTING_CODE)

    with ape.reverts(faucet.FailedCall):
        faucet.withdraw(rejecting, DRIP, sender=admin)

    assert faucet.balance == FUND


# ---------------------------------------------------------------- admin powers


def _admin_functions(faucet: Any, stranger: Any, chain: Any) -> set[str]:
    """Every function a stranger is refused for lacking DEFAULT_ADMIN_ROLE, found by calling each one."""
    w3 = chain.provider.web3
    abi = [item.model_dump(mode="json", by_alias=True) for item in faucet.contract_type.abi]
    contract = w3.eth.contract(address=faucet.address, abi=abi)
    refused = (
        _error_selector("AccessControlUnauthorizedAccount(address,bytes32)")
        + encode(["address", "bytes32"], [stranger.address, DEFAULT_ADMIN_ROLE]).hex()
    )
    found = set()
    for item in abi:
        if item["type"] != "function" or item["stateMutability"] in ("view", "pure"):
            continue
        args = [PROBE_ARGS.get(i["type"], stranger.address) for i in item["inputs"]]
        try:
            w3.eth.call(
                {"from": stranger.address, "to": faucet.address, "data": contract.encode_abi(item["name"], args)}
            )
        except ContractCustomError as exc:
            if exc.data == refused:
                found.add(item["name"])
    return found


def test_admin_powers__each_is_named_in_roles_md_and_ifaucet(faucet: Any, stranger: Any, chain: Any) -> None:
    admin_functions = _admin_functions(faucet, stranger, chain)
    assert {"setDripAmount", "withdraw", "grantRole"} <= admin_functions  # the probe finds them

    [admin_row] = [
        line
        for line in (REPO_ROOT / "ROLES.md").read_text().splitlines()
        if line.startswith("| Faucet | DEFAULT_ADMIN")
    ]
    natspec = (REPO_ROOT / "contracts/interfaces/IFaucet.sol").read_text().split("interface IFaucet")[0]
    admin_powers = natspec[natspec.index("Admin powers") :]
    for name in sorted(admin_functions):
        assert f"`{name}" in admin_row, f"ROLES.md does not name the admin power {name}"
        assert name in admin_powers, f"IFaucet's NatSpec does not list the admin power {name}"
