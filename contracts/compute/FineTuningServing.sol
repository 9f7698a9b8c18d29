// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {ILedger} from "../interfaces/ILedger.sol";
import {IFineTuningServing} from "../interfaces/IFineTuningServing.sol";

/// @title FineTuningServing
/// @notice Fine-tuning services and their tasks, paid from the compute Ledger. See {IFineTuningServing}.
/// @dev No roles: parameters and the ledger binding are immutable. The ledger is deployed first with this
/// contract's CREATE address (scripts/deploy.py checks the prediction); it sends a task's reservation to
/// {receive} and takes back what the task does not pay through `depositFor`.
/// A stake slashed below {minStake} leaves the service registered: users see its stake in {getService}, and
/// {updateService} tops it up.
contract FineTuningServing is IFineTuningServing, EIP712, ReentrancyGuard {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice Basis points of a whole amount.
    uint256 public constant BPS = 10_000;
    /// @notice Longest hyperparameters JSON of a task, in bytes.
    uint256 public constant MAX_HYPERPARAMETERS = 512;
    /// @notice Longest service url, in bytes.
    uint256 public constant MAX_URL = 256;
    /// @notice Longest model name, in bytes.
    uint256 public constant MAX_MODEL = 256;
    /// @notice Longest `maxDuration` of a service: a reservation and a stake wait at most this for a deadline.
    uint256 public constant MAX_DURATION = 365 days;

    /// @notice EIP-712 type hash of a delivery statement.
    bytes32 public constant DELIVERY_TYPEHASH = keccak256(
        "Delivery(uint256 taskId,address user,bytes32 datasetRoot,bytes32 modelRoot,bytes32 modelHash,uint256 tokens)"
    );

    ILedger private immutable _ledger;
    uint256 private immutable _minStake;
    uint256 private immutable _ackTimeout;
    uint256 private immutable _unacknowledgedShareBps;
    uint256 private immutable _timeoutSlashBps;

    EnumerableSet.AddressSet private _providers;
    mapping(address provider => Service) private _services;
    uint256 private _taskCount;
    mapping(uint256 taskId => Task) private _tasks;
    mapping(address provider => uint256) private _earnings;

    /// @param ledger_ The Ledger tasks are paid from and refunded to.
    /// @param minStake_ Least stake a service must lock.
    /// @param ackTimeout_ Seconds a user has to acknowledge a delivery before it can be settled without.
    /// @param unacknowledgedShareBps_ Share of the fee (basis points) an unacknowledged delivery pays.
    /// @param timeoutSlashBps_ Share of the provider's stake (basis points) a missed deadline costs it.
    constructor(
        ILedger ledger_,
        uint256 minStake_,
        uint256 ackTimeout_,
        uint256 unacknowledgedShareBps_,
        uint256 timeoutSlashBps_
    ) EIP712("0G FineTuningServing", "1") {
        if (address(ledger_) == address(0)) revert FineTuningZeroAddress();
        if (ackTimeout_ == 0) revert FineTuningInvalidParameter("ackTimeout", 0);
        if (unacknowledgedShareBps_ > BPS) {
            revert FineTuningInvalidParameter("unacknowledgedShareBps", unacknowledgedShareBps_);
        }
        if (timeoutSlashBps_ > BPS) revert FineTuningInvalidParameter("timeoutSlashBps", timeoutSlashBps_);
        _ledger = ledger_;
        _minStake = minStake_;
        _ackTimeout = ackTimeout_;
        _unacknowledgedShareBps = unacknowledgedShareBps_;
        _timeoutSlashBps = timeoutSlashBps_;
    }

    /// @notice Only the ledger sends value here: a task's reservation, from {createTask}.
    receive() external payable {
        if (msg.sender != address(_ledger)) revert FineTuningUnexpectedTransfer(msg.sender);
    }

    // ---------------------------------------------------------------- registry

    /// @inheritdoc IFineTuningServing
    function registerService(ServiceParams calldata params) external payable {
        if (_providers.contains(msg.sender)) revert FineTuningServiceExists(msg.sender);
        if (msg.value < _minStake) revert FineTuningInsufficientStake(msg.value, _minStake);
        _providers.add(msg.sender);
        Service storage service = _services[msg.sender];
        service.provider = msg.sender;
        service.stake = msg.value;
        _writeService(service, params);
        emit ServiceRegistered(msg.sender, params.model, params.pricePerToken, msg.value);
    }

    /// @inheritdoc IFineTuningServing
    function updateService(ServiceParams calldata params) external payable {
        if (!_providers.contains(msg.sender)) revert FineTuningUnknownService(msg.sender);
        Service storage service = _services[msg.sender];
        uint256 stake = service.stake + msg.value;
        service.stake = stake;
        _writeService(service, params);
        emit ServiceUpdated(msg.sender, params.model, params.pricePerToken, stake);
    }

    /// @inheritdoc IFineTuningServing
    function removeService() external {
        if (!_providers.contains(msg.sender)) revert FineTuningUnknownService(msg.sender);
        Service storage service = _services[msg.sender];
        uint256 openTasks = service.openTasks;
        if (openTasks != 0) revert FineTuningOpenTasks(msg.sender, openTasks);
        uint256 stake = service.stake;
        _providers.remove(msg.sender);
        delete _services[msg.sender];
        _earnings[msg.sender] += stake;
        emit ServiceRemoved(msg.sender, stake);
    }

    function _writeService(Service storage service, ServiceParams calldata params) private {
        uint256 length = bytes(params.url).length;
        if (length == 0 || length > MAX_URL) revert FineTuningInvalidParameter("url", length);
        length = bytes(params.model).length;
        if (length == 0 || length > MAX_MODEL) revert FineTuningInvalidParameter("model", length);
        if (params.signer == address(0)) revert FineTuningZeroAddress();
        if (params.maxDatasetSize == 0) revert FineTuningInvalidParameter("maxDatasetSize", 0);
        if (params.maxDuration == 0 || params.maxDuration > MAX_DURATION) {
            revert FineTuningInvalidParameter("maxDuration", params.maxDuration);
        }
        service.signer = params.signer;
        service.pricePerToken = params.pricePerToken;
        service.maxDatasetSize = params.maxDatasetSize;
        service.maxDuration = params.maxDuration;
        service.updatedAt = block.timestamp;
        service.url = params.url;
        service.model = params.model;
    }

    // ---------------------------------------------------------------- tasks

    /// @inheritdoc IFineTuningServing
    function createTask(TaskParams calldata params) external nonReentrant returns (uint256 taskId) {
        address provider = params.provider;
        if (!_providers.contains(provider)) revert FineTuningUnknownService(provider);
        Service storage service = _services[provider];
        if (keccak256(bytes(params.baseModel)) != keccak256(bytes(service.model))) {
            revert FineTuningWrongModel(params.baseModel, service.model);
        }
        uint256 size = params.datasetSize;
        if (size == 0) revert FineTuningInvalidParameter("datasetSize", 0);
        if (size > service.maxDatasetSize) revert FineTuningDatasetTooLarge(size, service.maxDatasetSize);
        if (params.datasetRoot == bytes32(0)) revert FineTuningInvalidParameter("datasetRoot", 0);
        if (params.feeCap == 0) revert FineTuningInvalidParameter("feeCap", 0);
        uint256 length = bytes(params.hyperparameters).length;
        if (length > MAX_HYPERPARAMETERS) revert FineTuningHyperparametersTooLong(length, MAX_HYPERPARAMETERS);

        taskId = _recordTask(params, service);
        ++service.openTasks;
        _ledger.reserve(msg.sender, params.feeCap);
    }

    /// @inheritdoc IFineTuningServing
    function cancel(uint256 taskId) external nonReentrant {
        Task storage task = _taskOf(taskId);
        if (msg.sender != task.user) revert FineTuningNotUser(taskId, msg.sender);
        _requireState(taskId, task, TaskState.Created);
        _cancel(taskId, task);
    }

    /// @inheritdoc IFineTuningServing
    /// @dev Only before the deadline: past it the user is owed the timeout slash ({claimTimeout}).
    function refuse(uint256 taskId) external nonReentrant {
        Task storage task = _taskOf(taskId);
        if (msg.sender != task.provider) revert FineTuningNotProvider(taskId, msg.sender);
        _requireState(taskId, task, TaskState.Created);
        _requireBeforeDeadline(taskId, task);
        _cancel(taskId, task);
    }

    /// @inheritdoc IFineTuningServing
    function start(uint256 taskId) external {
        Task storage task = _taskOf(taskId);
        if (msg.sender != task.provider) revert FineTuningNotProvider(taskId, msg.sender);
        _requireState(taskId, task, TaskState.Created);
        _requireBeforeDeadline(taskId, task);
        task.state = TaskState.InProgress;
        emit TaskStarted(taskId, msg.sender);
    }

    /// @inheritdoc IFineTuningServing
    function deliver(uint256 taskId, bytes32 modelRoot, bytes32 modelHash, uint256 tokens, bytes calldata signature)
        external
    {
        Task storage task = _taskOf(taskId);
        address provider = task.provider;
        if (msg.sender != provider) revert FineTuningNotProvider(taskId, msg.sender);
        _requireState(taskId, task, TaskState.InProgress);
        _requireBeforeDeadline(taskId, task);
        uint256 fee = tokens * task.pricePerToken;
        if (fee > task.feeCap) revert FineTuningFeeAboveCap(taskId, fee, task.feeCap);
        // A malformed signature recovers the zero address, which is never a service's signer.
        (address signer,,) =
            ECDSA.tryRecover(_deliveryDigest(taskId, task, modelRoot, modelHash, tokens), signature);
        if (signer != _services[provider].signer) revert FineTuningInvalidSignature(taskId, signer);

        task.state = TaskState.Delivered;
        task.deliveredAt = uint64(block.timestamp);
        task.tokens = tokens;
        task.fee = fee;
        task.modelRoot = modelRoot;
        task.modelHash = modelHash;
        emit TaskDelivered(taskId, modelRoot, modelHash, tokens, fee);
    }

    /// @inheritdoc IFineTuningServing
    function acknowledge(uint256 taskId) external {
        Task storage task = _taskOf(taskId);
        if (msg.sender != task.user) revert FineTuningNotUser(taskId, msg.sender);
        _requireState(taskId, task, TaskState.Delivered);
        task.state = TaskState.Acknowledged;
        emit TaskAcknowledged(taskId);
    }

    /// @inheritdoc IFineTuningServing
    function settle(uint256 taskId) external nonReentrant {
        Task storage task = _taskOf(taskId);
        TaskState state = task.state;
        bool acknowledged = state == TaskState.Acknowledged;
        uint256 paid = task.fee;
        if (!acknowledged) {
            if (state != TaskState.Delivered) revert FineTuningWrongState(taskId, state);
            uint256 settleableAt = task.deliveredAt + _ackTimeout;
            if (block.timestamp < settleableAt) revert FineTuningAckPending(taskId, settleableAt);
            paid = paid * _unacknowledgedShareBps / BPS;
        }
        uint256 refunded = task.feeCap - paid;
        address provider = task.provider;
        task.state = TaskState.Settled;
        --_services[provider].openTasks;
        _earnings[provider] += paid;
        emit TaskSettled(taskId, paid, refunded, acknowledged);
        // A fee equal to the cap leaves nothing to return (and the ledger refuses a zero deposit).
        if (refunded != 0) _ledger.depositFor{value: refunded}(task.user);
    }

    /// @inheritdoc IFineTuningServing
    function claimTimeout(uint256 taskId) external nonReentrant {
        Task storage task = _taskOf(taskId);
        TaskState state = task.state;
        if (state != TaskState.Created && state != TaskState.InProgress) revert FineTuningWrongState(taskId, state);
        uint256 deadline = task.deadline;
        if (block.timestamp <= deadline) revert FineTuningDeadlineNotPassed(taskId, deadline);
        task.state = TaskState.TimedOut;
        Service storage service = _services[task.provider];
        uint256 stake = service.stake;
        uint256 slashed = stake * _timeoutSlashBps / BPS;
        service.stake = stake - slashed;
        --service.openTasks;
        uint256 refunded = task.feeCap;
        emit TaskTimedOut(taskId, refunded, slashed);
        _ledger.depositFor{value: refunded + slashed}(task.user);
    }

    /// @inheritdoc IFineTuningServing
    function withdrawEarnings() external nonReentrant returns (uint256 amount) {
        amount = _earnings[msg.sender];
        if (amount == 0) revert FineTuningNothingToWithdraw(msg.sender);
        _earnings[msg.sender] = 0;
        emit EarningsWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @dev Stores a new task of the caller at the service's current price, and emits {TaskCreated}.
    function _recordTask(TaskParams calldata params, Service storage service) private returns (uint256 taskId) {
        taskId = ++_taskCount;
        // maxDuration <= MAX_DURATION, so the deadline fits 64 bits like the timestamp.
        uint256 deadline = block.timestamp + service.maxDuration;
        Task storage task = _tasks[taskId];
        task.user = msg.sender;
        task.provider = params.provider;
        task.state = TaskState.Created;
        task.createdAt = uint64(block.timestamp);
        task.deadline = uint64(deadline);
        task.pricePerToken = service.pricePerToken;
        task.feeCap = params.feeCap;
        task.datasetRoot = params.datasetRoot;
        task.hyperparametersHash = keccak256(bytes(params.hyperparameters));
        emit TaskCreated(
            taskId,
            msg.sender,
            params.provider,
            params.datasetRoot,
            params.datasetSize,
            params.baseModel,
            params.hyperparameters,
            params.feeCap,
            deadline
        );
    }

    /// @dev Ends a created task: its whole reservation returns to the user.
    function _cancel(uint256 taskId, Task storage task) private {
        task.state = TaskState.Cancelled;
        --_services[task.provider].openTasks;
        uint256 refunded = task.feeCap;
        emit TaskCancelled(taskId, msg.sender, refunded);
        _ledger.depositFor{value: refunded}(task.user);
    }

    function _taskOf(uint256 taskId) private view returns (Task storage task) {
        task = _tasks[taskId];
        if (task.state == TaskState.None) revert FineTuningUnknownTask(taskId);
    }

    function _requireState(uint256 taskId, Task storage task, TaskState wanted) private view {
        TaskState state = task.state;
        if (state != wanted) revert FineTuningWrongState(taskId, state);
    }

    function _requireBeforeDeadline(uint256 taskId, Task storage task) private view {
        uint256 deadline = task.deadline;
        if (block.timestamp > deadline) revert FineTuningDeadlinePassed(taskId, deadline);
    }

    function _deliveryDigest(uint256 taskId, Task storage task, bytes32 modelRoot, bytes32 modelHash, uint256 tokens)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(DELIVERY_TYPEHASH, taskId, task.user, task.datasetRoot, modelRoot, modelHash, tokens)
            )
        );
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IFineTuningServing
    function getService(address provider) external view returns (Service memory) {
        if (!_providers.contains(provider)) revert FineTuningUnknownService(provider);
        return _services[provider];
    }

    /// @inheritdoc IFineTuningServing
    function isRegistered(address provider) external view returns (bool) {
        return _providers.contains(provider);
    }

    /// @inheritdoc IFineTuningServing
    function serviceCount() external view returns (uint256) {
        return _providers.length();
    }

    /// @inheritdoc IFineTuningServing
    function getServices(uint256 offset, uint256 limit) external view returns (Service[] memory services) {
        uint256 total = _providers.length();
        uint256 end = offset >= total ? offset : (limit > total - offset ? total : offset + limit);
        services = new Service[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            services[i - offset] = _services[_providers.at(i)];
        }
    }

    /// @inheritdoc IFineTuningServing
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _taskOf(taskId);
    }

    /// @inheritdoc IFineTuningServing
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    /// @inheritdoc IFineTuningServing
    function earnings(address provider) external view returns (uint256) {
        return _earnings[provider];
    }

    /// @inheritdoc IFineTuningServing
    function hashDelivery(uint256 taskId, bytes32 modelRoot, bytes32 modelHash, uint256 tokens)
        external
        view
        returns (bytes32)
    {
        return _deliveryDigest(taskId, _taskOf(taskId), modelRoot, modelHash, tokens);
    }

    /// @inheritdoc IFineTuningServing
    function ledger() external view returns (address) {
        return address(_ledger);
    }

    /// @inheritdoc IFineTuningServing
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IFineTuningServing
    function ackTimeout() external view returns (uint256) {
        return _ackTimeout;
    }

    /// @inheritdoc IFineTuningServing
    function unacknowledgedShareBps() external view returns (uint256) {
        return _unacknowledgedShareBps;
    }

    /// @inheritdoc IFineTuningServing
    function timeoutSlashBps() external view returns (uint256) {
        return _timeoutSlashBps;
    }
}
