"""Contract tests of FineTuningServing (`ape test`): the service registry, tasks reserved from the Ledger, cancel and
refuse, start, EIP-712 signed deliveries, acknowledgement, settlement (acknowledged, or the unacknowledged share
after the timeout), deadline timeouts slashing the stake, and pull payments with exact balances, on one deployment
per module (ape reverts each test's transactions)."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak

from tests.compute.conftest import (
    ACK_TIMEOUT,
    MIN_STAKE,
    STAKE,
    TIMEOUT_SLASH_BPS,
    UNACKNOWLEDGED_SHARE_BPS,
    ZERO_ADDRESS,
    ComputeStack,
)

BPS = 10_000
MAX_HYPERPARAMETERS = 512
MAX_STRING = 256
MAX_DURATION = 365 * 24 * 3600
MODEL = "zg-bytelm-tiny"
URL = "http://127.0.0.1:8701"
PRICE = 10**9
MAX_DATASET = 10**6
DURATION = 3600
FUNDS = 10**18
FEE_CAP = 10**16
TOKENS = 10**6
FEE = TOKENS * PRICE
DATASET_ROOT = keccak(text="dataset")
MODEL_ROOT = keccak(text="model root")
MODEL_HASH = keccak(text="model plaintext")
HYPERPARAMETERS = '{"epochs":3}'
#: The task every lifecycle fixture creates (ids start at 1; the module deployment holds none).
TASK = 1
NONE, CREATED, IN_PROGRESS, DELIVERED, ACKNOWLEDGED, SETTLED, CANCELLED, TIMED_OUT = range(8)
DELIVERY_FIELDS = [
    {"name": "taskId", "type": "uint256"},
    {"name": "user", "type": "address"},
    {"name": "datasetRoot", "type": "bytes32"},
    {"name": "modelRoot", "type": "bytes32"},
    {"name": "modelHash", "type": "bytes32"},
    {"name": "tokens", "type": "uint256"},
]
DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def service(signer: Any, **changes: Any) -> tuple[Any, ...]:
    """ServiceParams of MODEL unless `changes` say otherwise."""
    fields: dict[str, Any] = {
        "url": URL,
        "model": MODEL,
        "pricePerToken": PRICE,
        "maxDatasetSize": MAX_DATASET,
        "maxDuration": DURATION,
        "signer": signer if isinstance(signer, str) else signer.address,
    }
    assert not set(changes) - set(fields), changes
    return tuple({**fields, **changes}.values())


def task(provider: Any, **changes: Any) -> tuple[Any, ...]:
    """TaskParams of a task on MODEL within every limit unless `changes` say otherwise."""
    fields: dict[str, Any] = {
        "provider": provider if isinstance(provider, str) else provider.address,
        "datasetRoot": DATASET_ROOT,
        "datasetSize": MAX_DATASET,
        "baseModel": MODEL,
        "hyperparameters": HYPERPARAMETERS,
        "feeCap": FEE_CAP,
    }
    assert not set(changes) - set(fields), changes
    return tuple({**fields, **changes}.values())


def delivery(
    contract: Any, chain_id: int, user: Any, tokens: int = TOKENS, task_id: int = TASK, model_root: bytes = MODEL_ROOT
) -> SignableMessage:
    """The EIP-712 Delivery statement of `task_id`, built with eth-account from the interface's type string."""
    return encode_typed_data(
        full_message={
            "types": {"EIP712Domain": DOMAIN_FIELDS, "Delivery": DELIVERY_FIELDS},
            "primaryType": "Delivery",
            "domain": {
                "name": "0G FineTuningServing",
                "version": "1",
                "chainId": chain_id,
                "verifyingContract": contract.address,
            },
            "message": {
                "taskId": task_id,
                "user": user.address,
                "datasetRoot": DATASET_ROOT,
                "modelRoot": model_root,
                "modelHash": MODEL_HASH,
                "tokens": tokens,
            },
        }
    )


def digest(message: SignableMessage) -> bytes:
    return keccak(b"\x19" + message.version + message.header + message.body)


def assert_returned(ledger: Any, fine_tuning: Any, receipt: Any, user: Any, amount: int) -> None:
    """`receipt` credited `amount` from the fine-tuning contract to `user`'s ledger balance, in one deposit."""
    [deposited] = ledger.Deposited.from_receipt(receipt)
    assert deposited.event_arguments == {
        "user": user.address,
        "from": fine_tuning.address,
        "amount": amount,
        "balance": ledger.balanceOf(user),
    }


# ---------------------------------------------------------------- fixtures

#: Every fixture of a wider scope, set up before the first test takes its snapshot (ape would rebase otherwise).
pytestmark = pytest.mark.usefixtures("sign", "stranger", "other_user")


@pytest.fixture(scope="module")
def compute(create_compute: Any, provider: Any, signer: Any, user: Any) -> ComputeStack:
    """Ledger, InferenceServing and FineTuningServing as scripts/deploy.py deploys them, then the provider's
    fine-tuning service (signed by `signer`) and FUNDS in the user's ledger balance."""
    stack: ComputeStack = create_compute()
    stack.fine_tuning.registerService(service(signer), sender=provider, value=STAKE)
    stack.ledger.deposit(sender=user, value=FUNDS)
    return stack


@pytest.fixture(scope="module")
def ledger(compute: ComputeStack) -> Any:
    return compute.ledger


@pytest.fixture(scope="module")
def fine_tuning(compute: ComputeStack) -> Any:
    return compute.fine_tuning


@pytest.fixture(scope="module")
def sign(fine_tuning: Any, chain: Any, user: Any, keys: Any) -> Any:
    """sign(by, tokens=TOKENS, ...) → the signature of task TASK's Delivery statement by `by`'s key."""

    def sign_(by: Any, tokens: int = TOKENS, model_root: bytes = MODEL_ROOT) -> bytes:
        message = delivery(fine_tuning, chain.chain_id, user, tokens, model_root=model_root)
        return bytes(Account.sign_message(message, keys(by).key).signature)

    return sign_


@pytest.fixture
def created(fine_tuning: Any, provider: Any, user: Any) -> Any:
    """The receipt of the user's task TASK with the provider."""
    return fine_tuning.createTask(task(provider), sender=user)


@pytest.fixture
def started(created: Any, fine_tuning: Any, provider: Any) -> Any:
    return fine_tuning.start(TASK, sender=provider)


@pytest.fixture
def delivered(started: Any, fine_tuning: Any, provider: Any, signer: Any, sign: Any) -> Any:
    """The receipt of TASK's delivery: TOKENS trained, so FEE."""
    return fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, TOKENS, sign(signer), sender=provider)


@pytest.fixture
def acknowledged(delivered: Any, fine_tuning: Any, user: Any) -> Any:
    return fine_tuning.acknowledge(TASK, sender=user)


def deadline_of(created: Any) -> int:
    return created.timestamp + DURATION


# ---------------------------------------------------------------- deployment


def test_deploy__parameters_and_constants(fine_tuning: Any, ledger: Any, chain: Any) -> None:
    assert fine_tuning.ledger() == ledger.address
    assert ledger.fineTuning() == fine_tuning.address
    assert (fine_tuning.minStake(), fine_tuning.ackTimeout()) == (MIN_STAKE, ACK_TIMEOUT)
    assert (fine_tuning.unacknowledgedShareBps(), fine_tuning.timeoutSlashBps()) == (
        UNACKNOWLEDGED_SHARE_BPS,
        TIMEOUT_SLASH_BPS,
    )
    assert (fine_tuning.BPS(), fine_tuning.MAX_HYPERPARAMETERS()) == (BPS, MAX_HYPERPARAMETERS)
    assert (fine_tuning.MAX_URL(), fine_tuning.MAX_MODEL(), fine_tuning.MAX_DURATION()) == (
        MAX_STRING,
        MAX_STRING,
        MAX_DURATION,
    )
    assert fine_tuning.DELIVERY_TYPEHASH() == keccak(
        text="Delivery(uint256 taskId,address user,bytes32 datasetRoot,bytes32 modelRoot,bytes32 modelHash,"
        "uint256 tokens)"
    )
    assert fine_tuning.eip712Domain()[1:5] == ("0G FineTuningServing", "1", chain.chain_id, fine_tuning.address)
    assert fine_tuning.taskCount() == 0


@pytest.mark.parametrize(
    ("change", "error", "args"),
    [
        ({"ledger": ZERO_ADDRESS}, "FineTuningZeroAddress", {}),
        ({"ackTimeout": 0}, "FineTuningInvalidParameter", {"name": "ackTimeout", "value": 0}),
        ({"share": BPS + 1}, "FineTuningInvalidParameter", {"name": "unacknowledgedShareBps", "value": BPS + 1}),
        ({"slash": BPS + 1}, "FineTuningInvalidParameter", {"name": "timeoutSlashBps", "value": BPS + 1}),
    ],
)
def test_constructor__invalid_arguments_revert(
    project: Any, ledger: Any, deployer: Any, change: dict[str, Any], error: str, args: dict[str, Any]
) -> None:
    values = {"ledger": ledger.address, "minStake": 0, "ackTimeout": 1, "share": BPS, "slash": BPS} | change
    with ape.reverts(getattr(project.FineTuningServing, error), **args):
        project.FineTuningServing.deploy(*values.values(), sender=deployer)


# ---------------------------------------------------------------- registry


def test_register_service__stores_it_and_emits(fine_tuning: Any, accounts: Any, signer: Any) -> None:
    newcomer = accounts[8]
    receipt = fine_tuning.registerService(service(signer, model="other", pricePerToken=7), sender=newcomer, value=STAKE)

    assert fine_tuning.isRegistered(newcomer)
    assert fine_tuning.serviceCount() == 2
    assert fine_tuning.getService(newcomer) == (
        newcomer.address,
        signer.address,
        7,
        MAX_DATASET,
        DURATION,
        STAKE,
        0,
        receipt.timestamp,
        URL,
        "other",
    )
    assert fine_tuning.balance == 2 * STAKE
    [event] = fine_tuning.ServiceRegistered.from_receipt(receipt)
    assert event.event_arguments == {"provider": newcomer.address, "model": "other", "pricePerToken": 7, "stake": STAKE}


def test_register_service__twice_reverts(fine_tuning: Any, provider: Any, signer: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningServiceExists, provider=provider.address):
        fine_tuning.registerService(service(signer), sender=provider, value=STAKE)


def test_register_service__below_min_stake_reverts(fine_tuning: Any, stranger: Any, signer: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningInsufficientStake, stake=MIN_STAKE - 1, minStake=MIN_STAKE):
        fine_tuning.registerService(service(signer), sender=stranger, value=MIN_STAKE - 1)
    assert not fine_tuning.isRegistered(stranger)


@pytest.mark.parametrize(
    ("change", "name", "value"),
    [
        ({"url": ""}, "url", 0),
        ({"url": "u" * (MAX_STRING + 1)}, "url", MAX_STRING + 1),
        ({"model": ""}, "model", 0),
        ({"model": "m" * (MAX_STRING + 1)}, "model", MAX_STRING + 1),
        ({"maxDatasetSize": 0}, "maxDatasetSize", 0),
        ({"maxDuration": 0}, "maxDuration", 0),
        ({"maxDuration": MAX_DURATION + 1}, "maxDuration", MAX_DURATION + 1),
    ],
)
def test_register_service__invalid_fields_revert(
    fine_tuning: Any, stranger: Any, signer: Any, change: dict[str, Any], name: str, value: int
) -> None:
    with ape.reverts(fine_tuning.FineTuningInvalidParameter, name=name, value=value):
        fine_tuning.registerService(service(signer, **change), sender=stranger, value=STAKE)


def test_register_service__zero_signer_reverts_and_limits_are_inclusive(fine_tuning: Any, stranger: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningZeroAddress):
        fine_tuning.registerService(service(ZERO_ADDRESS), sender=stranger, value=STAKE)
    longest = service(stranger, url="u" * MAX_STRING, model="m" * MAX_STRING, maxDuration=MAX_DURATION)
    fine_tuning.registerService(longest, sender=stranger, value=MIN_STAKE)
    assert fine_tuning.getService(stranger).maxDuration == MAX_DURATION


def test_update_service__changes_fields_and_adds_stake(fine_tuning: Any, provider: Any, stranger: Any) -> None:
    params = service(stranger, url="http://10.0.0.1:9000", model="other", pricePerToken=7, maxDuration=60)
    receipt = fine_tuning.updateService(params, sender=provider, value=MIN_STAKE)

    updated = fine_tuning.getService(provider)
    assert (updated.url, updated.model, updated.signer) == ("http://10.0.0.1:9000", "other", stranger.address)
    assert (updated.pricePerToken, updated.maxDuration, updated.stake) == (7, 60, STAKE + MIN_STAKE)
    assert updated.updatedAt == receipt.timestamp
    assert fine_tuning.serviceCount() == 1
    [event] = fine_tuning.ServiceUpdated.from_receipt(receipt)
    assert event.event_arguments == {
        "provider": provider.address,
        "model": "other",
        "pricePerToken": 7,
        "stake": STAKE + MIN_STAKE,
    }
    with ape.reverts(fine_tuning.FineTuningInvalidParameter, name="maxDuration", value=0):
        fine_tuning.updateService(service(stranger, maxDuration=0), sender=provider)


def test_update_service__unknown_provider_reverts(fine_tuning: Any, stranger: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningUnknownService, provider=stranger.address):
        fine_tuning.updateService(service(stranger), sender=stranger)


def test_remove_service__stake_becomes_earnings(fine_tuning: Any, provider: Any) -> None:
    receipt = fine_tuning.removeService(sender=provider)

    assert not fine_tuning.isRegistered(provider)
    assert fine_tuning.serviceCount() == 0
    assert fine_tuning.earnings(provider) == STAKE
    [event] = fine_tuning.ServiceRemoved.from_receipt(receipt)
    assert event.event_arguments == {"provider": provider.address, "stake": STAKE}
    with ape.reverts(fine_tuning.FineTuningUnknownService, provider=provider.address):
        fine_tuning.getService(provider)
    with ape.reverts(fine_tuning.FineTuningUnknownService, provider=provider.address):
        fine_tuning.removeService(sender=provider)


def test_remove_service__with_an_open_task_reverts(created: Any, fine_tuning: Any, provider: Any, user: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningOpenTasks, provider=provider.address, openTasks=1):
        fine_tuning.removeService(sender=provider)
    fine_tuning.cancel(TASK, sender=user)
    fine_tuning.removeService(sender=provider)
    assert not fine_tuning.isRegistered(provider)


def test_get_services__pages_through_the_registry(fine_tuning: Any, accounts: Any, provider: Any, signer: Any) -> None:
    for i in (7, 8):
        fine_tuning.registerService(service(signer, model=f"m{i}"), sender=accounts[i], value=STAKE)
    assert [s.model for s in fine_tuning.getServices(0, 10)] == [MODEL, "m7", "m8"]
    assert [s.model for s in fine_tuning.getServices(1, 1)] == ["m7"]
    assert [s.provider for s in fine_tuning.getServices(0, 1)] == [provider.address]
    assert fine_tuning.getServices(3, 5) == fine_tuning.getServices(99, 5) == []


def test_withdraw_earnings__pays_the_caller_once(fine_tuning: Any, provider: Any) -> None:
    fine_tuning.removeService(sender=provider)
    before = provider.balance

    receipt = fine_tuning.withdrawEarnings(sender=provider)

    assert receipt.return_value == STAKE
    assert provider.balance == before + STAKE - receipt.total_fees_paid
    assert fine_tuning.earnings(provider) == 0
    assert fine_tuning.balance == 0
    [event] = fine_tuning.EarningsWithdrawn.from_receipt(receipt)
    assert event.event_arguments == {"provider": provider.address, "amount": STAKE}
    with ape.reverts(fine_tuning.FineTuningNothingToWithdraw, provider=provider.address):
        fine_tuning.withdrawEarnings(sender=provider)


# ---------------------------------------------------------------- createTask and the ledger reservation


def test_create_task__reserves_the_fee_cap_and_emits(
    created: Any, fine_tuning: Any, ledger: Any, provider: Any, user: Any
) -> None:
    assert created.return_value == TASK
    assert fine_tuning.taskCount() == TASK
    assert fine_tuning.getTask(TASK) == (
        user.address,
        provider.address,
        CREATED,
        created.timestamp,
        deadline_of(created),
        0,
        PRICE,
        FEE_CAP,
        0,
        0,
        DATASET_ROOT,
        keccak(text=HYPERPARAMETERS),
        b"\x00" * 32,
        b"\x00" * 32,
    )
    assert fine_tuning.getService(provider).openTasks == 1
    assert ledger.balanceOf(user) == ledger.balance == FUNDS - FEE_CAP
    assert fine_tuning.balance == STAKE + FEE_CAP
    [event] = fine_tuning.TaskCreated.from_receipt(created)
    assert event.event_arguments == {
        "taskId": TASK,
        "user": user.address,
        "provider": provider.address,
        "datasetRoot": DATASET_ROOT,
        "datasetSize": MAX_DATASET,
        "baseModel": MODEL,
        "hyperparameters": HYPERPARAMETERS,
        "feeCap": FEE_CAP,
        "deadline": deadline_of(created),
    }
    [reserved] = ledger.FundReserved.from_receipt(created)
    assert reserved.event_arguments == {
        "user": user.address,
        "fineTuning": fine_tuning.address,
        "amount": FEE_CAP,
        "balance": FUNDS - FEE_CAP,
    }


def test_create_task__ids_count_up_and_the_price_is_fixed_at_creation(
    created: Any, fine_tuning: Any, ledger: Any, provider: Any, signer: Any, other_user: Any
) -> None:
    fine_tuning.updateService(service(signer, pricePerToken=2 * PRICE), sender=provider)
    ledger.deposit(sender=other_user, value=FEE_CAP)
    second = fine_tuning.createTask(task(provider), sender=other_user)

    assert second.return_value == TASK + 1
    assert (fine_tuning.getTask(TASK).pricePerToken, fine_tuning.getTask(TASK + 1).pricePerToken) == (PRICE, 2 * PRICE)
    assert fine_tuning.getService(provider).openTasks == 2


@pytest.mark.parametrize(
    ("change", "error", "args"),
    [
        ({"datasetSize": 0}, "FineTuningInvalidParameter", {"name": "datasetSize", "value": 0}),
        (
            {"datasetSize": MAX_DATASET + 1},
            "FineTuningDatasetTooLarge",
            {"size": MAX_DATASET + 1, "maxSize": MAX_DATASET},
        ),
        ({"datasetRoot": b"\x00" * 32}, "FineTuningInvalidParameter", {"name": "datasetRoot", "value": 0}),
        ({"feeCap": 0}, "FineTuningInvalidParameter", {"name": "feeCap", "value": 0}),
        ({"baseModel": "other"}, "FineTuningWrongModel", {"wanted": "other", "served": MODEL}),
        (
            {"hyperparameters": "h" * (MAX_HYPERPARAMETERS + 1)},
            "FineTuningHyperparametersTooLong",
            {"length": MAX_HYPERPARAMETERS + 1, "max": MAX_HYPERPARAMETERS},
        ),
    ],
)
def test_create_task__invalid_params_revert(
    fine_tuning: Any, provider: Any, user: Any, change: dict[str, Any], error: str, args: dict[str, Any]
) -> None:
    with ape.reverts(getattr(fine_tuning, error), **args):
        fine_tuning.createTask(task(provider, **change), sender=user)


def test_create_task__unknown_provider_reverts(fine_tuning: Any, user: Any, stranger: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningUnknownService, provider=stranger.address):
        fine_tuning.createTask(task(stranger), sender=user)


def test_create_task__longest_hyperparameters_fit(fine_tuning: Any, ledger: Any, provider: Any, user: Any) -> None:
    longest = "h" * MAX_HYPERPARAMETERS
    fine_tuning.createTask(task(provider, hyperparameters=longest), sender=user)
    assert fine_tuning.getTask(TASK).hyperparametersHash == keccak(text=longest)


def test_create_task__more_than_the_ledger_balance_reverts_and_stores_nothing(
    fine_tuning: Any, ledger: Any, provider: Any, user: Any
) -> None:
    with ape.reverts(ledger.LedgerInsufficientBalance, user=user.address, balance=FUNDS, amount=FUNDS + 1):
        fine_tuning.createTask(task(provider, feeCap=FUNDS + 1), sender=user)
    assert fine_tuning.taskCount() == 0
    assert fine_tuning.getService(provider).openTasks == 0
    with ape.reverts(fine_tuning.FineTuningUnknownTask, taskId=TASK):
        fine_tuning.getTask(TASK)


def test_ledger_reserve__only_by_the_fine_tuning_contract(ledger: Any, user: Any, stranger: Any) -> None:
    for caller in (stranger, user):
        with ape.reverts(ledger.LedgerCallerNotFineTuning, caller=caller.address):
            ledger.reserve(user, 1, sender=caller)
    assert ledger.balanceOf(user) == FUNDS


def test_receive__from_anyone_but_the_ledger_reverts(fine_tuning: Any, stranger: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningUnexpectedTransfer, **{"from": stranger.address}):
        stranger.transfer(fine_tuning, 1)


# ---------------------------------------------------------------- cancel / refuse


@pytest.mark.parametrize("by", ["user", "provider"])
def test_cancel_and_refuse__return_the_whole_reservation(
    created: Any, fine_tuning: Any, ledger: Any, provider: Any, user: Any, by: str
) -> None:
    caller = user if by == "user" else provider
    receipt = (fine_tuning.cancel if by == "user" else fine_tuning.refuse)(TASK, sender=caller)

    assert fine_tuning.getTask(TASK).state == CANCELLED
    assert fine_tuning.getService(provider).openTasks == 0
    assert ledger.balanceOf(user) == ledger.balance == FUNDS
    assert fine_tuning.balance == STAKE
    [event] = fine_tuning.TaskCancelled.from_receipt(receipt)
    assert event.event_arguments == {"taskId": TASK, "by": caller.address, "refunded": FEE_CAP}
    assert_returned(ledger, fine_tuning, receipt, user, FEE_CAP)
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=CANCELLED):
        fine_tuning.cancel(TASK, sender=user)


def test_cancel_and_refuse__errors(created: Any, fine_tuning: Any, provider: Any, user: Any, stranger: Any) -> None:
    for caller in (stranger, provider):
        with ape.reverts(fine_tuning.FineTuningNotUser, taskId=TASK, caller=caller.address):
            fine_tuning.cancel(TASK, sender=caller)
    for caller in (stranger, user):
        with ape.reverts(fine_tuning.FineTuningNotProvider, taskId=TASK, caller=caller.address):
            fine_tuning.refuse(TASK, sender=caller)
    for unknown in (0, TASK + 1):
        with ape.reverts(fine_tuning.FineTuningUnknownTask, taskId=unknown):
            fine_tuning.cancel(unknown, sender=user)
    fine_tuning.start(TASK, sender=provider)
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=IN_PROGRESS):
        fine_tuning.cancel(TASK, sender=user)
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=IN_PROGRESS):
        fine_tuning.refuse(TASK, sender=provider)


def test_refuse__after_the_deadline_reverts(created: Any, fine_tuning: Any, provider: Any, chain: Any) -> None:
    deadline = deadline_of(created)
    chain.pending_timestamp = deadline + 1
    with ape.reverts(fine_tuning.FineTuningDeadlinePassed, taskId=TASK, deadline=deadline):
        fine_tuning.refuse(TASK, sender=provider)


# ---------------------------------------------------------------- start


def test_start__at_the_deadline_moves_to_in_progress(created: Any, fine_tuning: Any, provider: Any, chain: Any) -> None:
    chain.pending_timestamp = deadline_of(created)
    receipt = fine_tuning.start(TASK, sender=provider)

    assert fine_tuning.getTask(TASK).state == IN_PROGRESS
    [event] = fine_tuning.TaskStarted.from_receipt(receipt)
    assert event.event_arguments == {"taskId": TASK, "provider": provider.address}
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=IN_PROGRESS):
        fine_tuning.start(TASK, sender=provider)


def test_start__errors(created: Any, fine_tuning: Any, provider: Any, user: Any, chain: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningNotProvider, taskId=TASK, caller=user.address):
        fine_tuning.start(TASK, sender=user)
    with ape.reverts(fine_tuning.FineTuningUnknownTask, taskId=TASK + 1):
        fine_tuning.start(TASK + 1, sender=provider)
    deadline = deadline_of(created)
    chain.pending_timestamp = deadline + 1
    with ape.reverts(fine_tuning.FineTuningDeadlinePassed, taskId=TASK, deadline=deadline):
        fine_tuning.start(TASK, sender=provider)


# ---------------------------------------------------------------- deliver


def test_hash_delivery__matches_eth_account(created: Any, fine_tuning: Any, chain: Any, user: Any) -> None:
    message = delivery(fine_tuning, chain.chain_id, user)
    assert fine_tuning.hashDelivery(TASK, MODEL_ROOT, MODEL_HASH, TOKENS) == digest(message)
    assert fine_tuning.hashDelivery(TASK, MODEL_ROOT, MODEL_HASH, TOKENS + 1) != digest(message)
    with ape.reverts(fine_tuning.FineTuningUnknownTask, taskId=TASK + 1):
        fine_tuning.hashDelivery(TASK + 1, MODEL_ROOT, MODEL_HASH, TOKENS)


def test_deliver__records_the_delivery_and_emits(delivered: Any, created: Any, fine_tuning: Any) -> None:
    recorded = fine_tuning.getTask(TASK)
    assert (recorded.state, recorded.deliveredAt, recorded.tokens, recorded.fee) == (
        DELIVERED,
        delivered.timestamp,
        TOKENS,
        FEE,
    )
    assert (recorded.modelRoot, recorded.modelHash) == (MODEL_ROOT, MODEL_HASH)
    assert (recorded.createdAt, recorded.deadline) == (created.timestamp, deadline_of(created))
    [event] = fine_tuning.TaskDelivered.from_receipt(delivered)
    assert event.event_arguments == {
        "taskId": TASK,
        "modelRoot": MODEL_ROOT,
        "modelHash": MODEL_HASH,
        "tokens": TOKENS,
        "fee": FEE,
    }


def test_deliver__at_the_deadline_with_the_fee_at_the_cap(
    created: Any, started: Any, fine_tuning: Any, provider: Any, signer: Any, sign: Any, chain: Any
) -> None:
    tokens = FEE_CAP // PRICE
    chain.pending_timestamp = deadline_of(created)
    fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, tokens, sign(signer, tokens), sender=provider)
    assert fine_tuning.getTask(TASK).fee == FEE_CAP


def test_deliver__wrong_caller_or_state_reverts(
    created: Any, fine_tuning: Any, provider: Any, user: Any, signer: Any, sign: Any
) -> None:
    signature = sign(signer)
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=CREATED):
        fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, TOKENS, signature, sender=provider)
    fine_tuning.start(TASK, sender=provider)
    for caller in (user, signer):
        with ape.reverts(fine_tuning.FineTuningNotProvider, taskId=TASK, caller=caller.address):
            fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, TOKENS, signature, sender=caller)
    fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, TOKENS, signature, sender=provider)
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=DELIVERED):
        fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, TOKENS, signature, sender=provider)


def test_deliver__after_the_deadline_reverts(
    created: Any, started: Any, fine_tuning: Any, provider: Any, signer: Any, sign: Any, chain: Any
) -> None:
    deadline = deadline_of(created)
    chain.pending_timestamp = deadline + 1
    with ape.reverts(fine_tuning.FineTuningDeadlinePassed, taskId=TASK, deadline=deadline):
        fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, TOKENS, sign(signer), sender=provider)


def test_deliver__fee_above_the_cap_reverts(
    started: Any, fine_tuning: Any, provider: Any, signer: Any, sign: Any
) -> None:
    tokens = FEE_CAP // PRICE + 1
    with ape.reverts(fine_tuning.FineTuningFeeAboveCap, taskId=TASK, fee=tokens * PRICE, feeCap=FEE_CAP):
        fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, tokens, sign(signer, tokens), sender=provider)


def test_deliver__signature_by_another_key_reverts(
    started: Any, fine_tuning: Any, provider: Any, stranger: Any, sign: Any
) -> None:
    # The provider's own wallet is not its service's signer either.
    for key in (stranger, provider):
        with ape.reverts(fine_tuning.FineTuningInvalidSignature, taskId=TASK, signer=key.address):
            fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, TOKENS, sign(key), sender=provider)


def test_deliver__bad_signature_reverts(
    started: Any, fine_tuning: Any, provider: Any, user: Any, signer: Any, sign: Any, chain: Any
) -> None:
    # The signer's signature of another statement recovers some other address.
    other_root = keccak(text="another model")
    signature = sign(signer, model_root=other_root)
    recovered = Account.recover_message(delivery(fine_tuning, chain.chain_id, user), signature=signature)
    with ape.reverts(fine_tuning.FineTuningInvalidSignature, taskId=TASK, signer=recovered):
        fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, TOKENS, signature, sender=provider)
    # A malformed signature recovers nobody.
    for malformed in (b"", sign(signer)[:64], b"\x01" * 65):
        with ape.reverts(fine_tuning.FineTuningInvalidSignature, taskId=TASK, signer=ZERO_ADDRESS):
            fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, TOKENS, malformed, sender=provider)


# ---------------------------------------------------------------- acknowledge


def test_acknowledge__marks_the_delivery_once(delivered: Any, fine_tuning: Any, user: Any, provider: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningNotUser, taskId=TASK, caller=provider.address):
        fine_tuning.acknowledge(TASK, sender=provider)
    receipt = fine_tuning.acknowledge(TASK, sender=user)

    assert fine_tuning.getTask(TASK).state == ACKNOWLEDGED
    [event] = fine_tuning.TaskAcknowledged.from_receipt(receipt)
    assert event.event_arguments == {"taskId": TASK}
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=ACKNOWLEDGED):
        fine_tuning.acknowledge(TASK, sender=user)


def test_acknowledge__before_delivery_reverts(started: Any, fine_tuning: Any, user: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=IN_PROGRESS):
        fine_tuning.acknowledge(TASK, sender=user)


# ---------------------------------------------------------------- settle


def test_settle__before_delivery_reverts(created: Any, fine_tuning: Any, provider: Any, stranger: Any) -> None:
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=CREATED):
        fine_tuning.settle(TASK, sender=stranger)
    fine_tuning.start(TASK, sender=provider)
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=IN_PROGRESS):
        fine_tuning.settle(TASK, sender=stranger)
    with ape.reverts(fine_tuning.FineTuningUnknownTask, taskId=TASK + 1):
        fine_tuning.settle(TASK + 1, sender=stranger)


def test_settle__before_the_ack_timeout_reverts(delivered: Any, fine_tuning: Any, stranger: Any, chain: Any) -> None:
    settleable_at = delivered.timestamp + ACK_TIMEOUT
    chain.pending_timestamp = settleable_at - 1
    with ape.reverts(fine_tuning.FineTuningAckPending, taskId=TASK, settleableAt=settleable_at):
        fine_tuning.settle(TASK, sender=stranger)


def test_settle__acknowledged_pays_the_fee_and_refunds_the_rest(
    acknowledged: Any, fine_tuning: Any, ledger: Any, provider: Any, user: Any, stranger: Any
) -> None:
    receipt = fine_tuning.settle(TASK, sender=stranger)

    assert fine_tuning.getTask(TASK).state == SETTLED
    assert fine_tuning.getService(provider).openTasks == 0
    assert fine_tuning.earnings(provider) == FEE
    assert ledger.balanceOf(user) == ledger.balance == FUNDS - FEE
    assert fine_tuning.balance == STAKE + FEE
    [event] = fine_tuning.TaskSettled.from_receipt(receipt)
    assert event.event_arguments == {"taskId": TASK, "paid": FEE, "refunded": FEE_CAP - FEE, "acknowledged": True}
    assert_returned(ledger, fine_tuning, receipt, user, FEE_CAP - FEE)
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=SETTLED):
        fine_tuning.settle(TASK, sender=stranger)

    before = provider.balance
    withdrawn = fine_tuning.withdrawEarnings(sender=provider)
    assert provider.balance == before + FEE - withdrawn.total_fees_paid
    assert fine_tuning.balance == STAKE


def test_settle__unacknowledged_after_the_timeout_pays_the_share(
    delivered: Any, fine_tuning: Any, ledger: Any, provider: Any, user: Any, stranger: Any, chain: Any
) -> None:
    chain.pending_timestamp = delivered.timestamp + ACK_TIMEOUT
    receipt = fine_tuning.settle(TASK, sender=stranger)

    paid = FEE * UNACKNOWLEDGED_SHARE_BPS // BPS
    assert fine_tuning.earnings(provider) == paid
    assert ledger.balanceOf(user) == ledger.balance == FUNDS - paid
    assert fine_tuning.balance == STAKE + paid
    assert fine_tuning.getService(provider).openTasks == 0
    [event] = fine_tuning.TaskSettled.from_receipt(receipt)
    assert event.event_arguments == {"taskId": TASK, "paid": paid, "refunded": FEE_CAP - paid, "acknowledged": False}


def test_settle__a_fee_at_the_cap_refunds_nothing(
    started: Any, fine_tuning: Any, ledger: Any, provider: Any, user: Any, signer: Any, sign: Any
) -> None:
    tokens = FEE_CAP // PRICE
    fine_tuning.deliver(TASK, MODEL_ROOT, MODEL_HASH, tokens, sign(signer, tokens), sender=provider)
    fine_tuning.acknowledge(TASK, sender=user)

    receipt = fine_tuning.settle(TASK, sender=user)

    assert fine_tuning.earnings(provider) == FEE_CAP
    assert ledger.balanceOf(user) == FUNDS - FEE_CAP
    assert not list(ledger.Deposited.from_receipt(receipt))
    [event] = fine_tuning.TaskSettled.from_receipt(receipt)
    assert (event.paid, event.refunded) == (FEE_CAP, 0)


# ---------------------------------------------------------------- claimTimeout


def test_claim_timeout__until_the_deadline_reverts(created: Any, fine_tuning: Any, stranger: Any, chain: Any) -> None:
    deadline = deadline_of(created)
    chain.pending_timestamp = deadline
    with ape.reverts(fine_tuning.FineTuningDeadlineNotPassed, taskId=TASK, deadline=deadline):
        fine_tuning.claimTimeout(TASK, sender=stranger)


@pytest.mark.parametrize("start", [False, True], ids=["created", "in progress"])
def test_claim_timeout__returns_the_reservation_and_the_slash(
    created: Any,
    fine_tuning: Any,
    ledger: Any,
    provider: Any,
    user: Any,
    stranger: Any,
    chain: Any,
    start: bool,
) -> None:
    if start:
        fine_tuning.start(TASK, sender=provider)
    chain.pending_timestamp = deadline_of(created) + 1

    receipt = fine_tuning.claimTimeout(TASK, sender=stranger)

    slashed = STAKE * TIMEOUT_SLASH_BPS // BPS
    assert fine_tuning.getTask(TASK).state == TIMED_OUT
    assert (fine_tuning.getService(provider).stake, fine_tuning.getService(provider).openTasks) == (STAKE - slashed, 0)
    assert ledger.balanceOf(user) == ledger.balance == FUNDS + slashed
    assert fine_tuning.balance == STAKE - slashed
    [event] = fine_tuning.TaskTimedOut.from_receipt(receipt)
    assert event.event_arguments == {"taskId": TASK, "refunded": FEE_CAP, "slashed": slashed}
    assert_returned(ledger, fine_tuning, receipt, user, FEE_CAP + slashed)
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=TIMED_OUT):
        fine_tuning.claimTimeout(TASK, sender=stranger)


def test_claim_timeout__after_delivery_reverts(
    created: Any, delivered: Any, fine_tuning: Any, stranger: Any, chain: Any
) -> None:
    chain.pending_timestamp = deadline_of(created) + 1
    with ape.reverts(fine_tuning.FineTuningWrongState, taskId=TASK, state=DELIVERED):
        fine_tuning.claimTimeout(TASK, sender=stranger)


def test_claim_timeout__a_stake_slashed_below_the_minimum_stays_registered(
    fine_tuning: Any, accounts: Any, user: Any, signer: Any, chain: Any
) -> None:
    thin = accounts[8]
    fine_tuning.registerService(service(signer), sender=thin, value=MIN_STAKE)
    created = fine_tuning.createTask(task(thin), sender=user)
    chain.pending_timestamp = created.timestamp + DURATION + 1
    fine_tuning.claimTimeout(created.return_value, sender=user)

    left = MIN_STAKE - MIN_STAKE * TIMEOUT_SLASH_BPS // BPS
    assert fine_tuning.isRegistered(thin)
    assert fine_tuning.getService(thin).stake == left < MIN_STAKE
    fine_tuning.updateService(service(signer), sender=thin, value=MIN_STAKE - left)
    assert fine_tuning.getService(thin).stake == MIN_STAKE
