// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IFineTuningServing
/// @notice Fine-tuning tasks paid from the compute Ledger: a user points a provider's fine-tuning service at a dataset
/// on 0G Storage, the provider trains (a LoRA adapter of the service's base model), stores the result on Storage
/// encrypted to the user, delivers its root with a signed statement of the model and the tokens trained, and is
/// paid tokens × price once the user acknowledges.
/// @dev Money: {createTask} moves the task's fee cap from the user's Ledger balance into this contract (the user's
/// own transaction authorizes it; see ILedger.reserve). Whatever the task does not pay the provider returns to the
/// user's Ledger balance. States: Created → InProgress ({start}) → Delivered ({deliver}) → Acknowledged
/// ({acknowledge}) → Settled ({settle}); Created → Cancelled ({cancel} by the user, {refuse} by the provider);
/// Created or InProgress → TimedOut ({claimTimeout} once the deadline passed without a delivery: the reservation
/// comes back with {timeoutSlashBps} of the provider's stake); Delivered → Settled by {settle} after
/// {ackTimeout} without acknowledgement: the provider gets {unacknowledgedShareBps} of the fee.
/// The result file is stored v2-encrypted (0G's ECIES file format) to the user's public key, so it carries its own
/// key: nothing else is released. The delivery statement is EIP-712 typed data signed by the service's signer:
/// `Delivery(uint256 taskId,address user,bytes32 datasetRoot,bytes32 modelRoot,bytes32 modelHash,uint256 tokens)`,
/// `modelHash` = keccak256 of the plaintext result, which the user's client checks after decrypting.
/// There is no privileged role: the parameters are constructor arguments.
interface IFineTuningServing {
    /// @notice Where a task is.
    enum TaskState {
        None,
        Created,
        InProgress,
        Delivered,
        Acknowledged,
        Settled,
        Cancelled,
        TimedOut
    }

    /// @notice What a provider registers or updates.
    /// @param model The base model it fine-tunes (tasks must name it).
    /// @param pricePerToken Wei per token trained (dataset tokens × epochs).
    /// @param maxDatasetSize Largest dataset accepted, in bytes.
    /// @param maxDuration Seconds from a task's creation to its deadline.
    /// @param signer The key that signs deliveries.
    struct ServiceParams {
        string url;
        string model;
        uint256 pricePerToken;
        uint256 maxDatasetSize;
        uint256 maxDuration;
        address signer;
    }

    /// @notice A registered fine-tuning service. `openTasks` counts tasks not yet ended (it must be 0 to remove).
    struct Service {
        address provider;
        address signer;
        uint256 pricePerToken;
        uint256 maxDatasetSize;
        uint256 maxDuration;
        uint256 stake;
        uint256 openTasks;
        uint256 updatedAt;
        string url;
        string model;
    }

    /// @notice What a user gives {createTask}.
    /// @param hyperparameters JSON, e.g. {"epochs":3}; at most MAX_HYPERPARAMETERS bytes, recorded in the event.
    struct TaskParams {
        address provider;
        bytes32 datasetRoot;
        uint256 datasetSize;
        string baseModel;
        string hyperparameters;
        uint256 feeCap;
    }

    /// @notice A task. `fee` is set on delivery (tokens × the price at creation).
    struct Task {
        address user;
        address provider;
        TaskState state;
        uint64 createdAt;
        uint64 deadline;
        uint64 deliveredAt;
        uint256 pricePerToken;
        uint256 feeCap;
        uint256 tokens;
        uint256 fee;
        bytes32 datasetRoot;
        bytes32 hyperparametersHash;
        bytes32 modelRoot;
        bytes32 modelHash;
    }

    event ServiceRegistered(address indexed provider, string model, uint256 pricePerToken, uint256 stake);
    event ServiceUpdated(address indexed provider, string model, uint256 pricePerToken, uint256 stake);
    event ServiceRemoved(address indexed provider, uint256 stake);
    event TaskCreated(
        uint256 indexed taskId,
        address indexed user,
        address indexed provider,
        bytes32 datasetRoot,
        uint256 datasetSize,
        string baseModel,
        string hyperparameters,
        uint256 feeCap,
        uint256 deadline
    );
    event TaskStarted(uint256 indexed taskId, address indexed provider);
    event TaskDelivered(uint256 indexed taskId, bytes32 modelRoot, bytes32 modelHash, uint256 tokens, uint256 fee);
    event TaskAcknowledged(uint256 indexed taskId);
    /// @notice `paid` to the provider's earnings, `refunded` to the user's Ledger balance.
    event TaskSettled(uint256 indexed taskId, uint256 paid, uint256 refunded, bool acknowledged);
    event TaskCancelled(uint256 indexed taskId, address indexed by, uint256 refunded);
    /// @notice The deadline passed undelivered: the reservation and `slashed` of the provider's stake went back.
    event TaskTimedOut(uint256 indexed taskId, uint256 refunded, uint256 slashed);
    event EarningsWithdrawn(address indexed provider, uint256 amount);

    error FineTuningZeroAddress();
    error FineTuningInvalidParameter(string name, uint256 value);
    error FineTuningServiceExists(address provider);
    error FineTuningUnknownService(address provider);
    error FineTuningInsufficientStake(uint256 stake, uint256 minStake);
    error FineTuningOpenTasks(address provider, uint256 openTasks);
    error FineTuningWrongModel(string wanted, string served);
    error FineTuningDatasetTooLarge(uint256 size, uint256 maxSize);
    error FineTuningHyperparametersTooLong(uint256 length, uint256 max);
    error FineTuningUnknownTask(uint256 taskId);
    /// @notice The task is in `state`, which does not allow this.
    error FineTuningWrongState(uint256 taskId, TaskState state);
    error FineTuningNotUser(uint256 taskId, address caller);
    error FineTuningNotProvider(uint256 taskId, address caller);
    error FineTuningDeadlinePassed(uint256 taskId, uint256 deadline);
    error FineTuningDeadlineNotPassed(uint256 taskId, uint256 deadline);
    error FineTuningAckPending(uint256 taskId, uint256 settleableAt);
    error FineTuningFeeAboveCap(uint256 taskId, uint256 fee, uint256 feeCap);
    error FineTuningInvalidSignature(uint256 taskId, address signer);
    error FineTuningNothingToWithdraw(address provider);
    /// @notice Only the ledger sends native tokens here without a call (a task's reservation); `from` is not it.
    error FineTuningUnexpectedTransfer(address from);

    function registerService(ServiceParams calldata params) external payable;

    /// @notice Changes the service (new tasks only; `msg.value` adds stake).
    function updateService(ServiceParams calldata params) external payable;

    /// @notice Removes the caller's service once it has no open task; its stake becomes earnings.
    function removeService() external;

    /// @notice Creates a task, moving `feeCap` from the caller's Ledger balance here.
    function createTask(TaskParams calldata params) external returns (uint256 taskId);

    /// @notice The user takes a task back before the provider started it.
    function cancel(uint256 taskId) external;

    /// @notice The provider declines a task it has not started (dataset not valid, busy...).
    function refuse(uint256 taskId) external;

    /// @notice The provider starts a created task (the user can no longer cancel it).
    function start(uint256 taskId) external;

    /// @notice The provider delivers before the deadline: the result's root and plaintext hash, the tokens trained
    /// (fee = tokens × price, at most the cap), and the service signer's EIP-712 Delivery signature.
    function deliver(uint256 taskId, bytes32 modelRoot, bytes32 modelHash, uint256 tokens, bytes calldata signature)
        external;

    /// @notice The user accepts a delivery.
    function acknowledge(uint256 taskId) external;

    /// @notice Pays an acknowledged task (the full fee), or a delivery left unacknowledged for {ackTimeout}
    /// ({unacknowledgedShareBps} of the fee); the rest of the reservation returns to the user. Anyone may call.
    function settle(uint256 taskId) external;

    /// @notice Ends a task whose deadline passed undelivered: the reservation and {timeoutSlashBps} of the
    /// provider's stake return to the user's Ledger balance. Anyone may call.
    function claimTimeout(uint256 taskId) external;

    function withdrawEarnings() external returns (uint256 amount);

    function getService(address provider) external view returns (Service memory);
    function isRegistered(address provider) external view returns (bool);
    function serviceCount() external view returns (uint256);
    function getServices(uint256 offset, uint256 limit) external view returns (Service[] memory);
    function getTask(uint256 taskId) external view returns (Task memory);
    function taskCount() external view returns (uint256);
    function earnings(address provider) external view returns (uint256);
    /// @notice The EIP-712 digest the service signer signs for a delivery.
    function hashDelivery(uint256 taskId, bytes32 modelRoot, bytes32 modelHash, uint256 tokens)
        external
        view
        returns (bytes32);
    function ledger() external view returns (address);
    function minStake() external view returns (uint256);
    function ackTimeout() external view returns (uint256);
    function unacknowledgedShareBps() external view returns (uint256);
    function timeoutSlashBps() external view returns (uint256);
}
