// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ILedger
/// @notice A user's main account on the compute network. Users deposit native tokens here, move them into
/// per-provider sub-accounts (held by the InferenceServing contract, where providers settle the vouchers users
/// signed), ask for unspent sub-account funds back — released only after the serving contract's refund timelock,
/// so a provider always has time to settle what it was already promised — and withdraw. Every payout is a pull:
/// it goes to the caller, never to a third party. Fine-tuning tasks are paid from the same balance: creating one
/// reserves its fee cap (see {reserve}), and what the task does not pay comes back through {depositFor}.
/// @dev The serving and fine-tuning contracts are fixed at construction; nothing can re-bind them. The ledger
/// holds exactly the sum of all balances: funds in sub-accounts live in the serving contract, reservations in the
/// fine-tuning contract.
interface ILedger {
    /// @notice Emitted after `from` added `amount` to `user`'s balance, which is now `balance`.
    event Deposited(address indexed user, address indexed from, uint256 amount, uint256 balance);

    /// @notice Emitted after `user` took `amount` out of the ledger; `balance` is left.
    event Withdrawn(address indexed user, uint256 amount, uint256 balance);

    /// @notice Emitted after `user` moved `amount` from its balance (now `balance`) into its sub-account with
    /// `provider`.
    event FundTransferred(address indexed user, address indexed provider, uint256 amount, uint256 balance);

    /// @notice Emitted after `amount` of `user`'s sub-account with `provider` came back to its balance (now
    /// `balance`) once the refund timelock had passed.
    event FundReturned(address indexed user, address indexed provider, uint256 amount, uint256 balance);

    /// @notice Emitted after `amount` of `user`'s balance (now `balance`) moved to `fineTuning` as the fee cap of
    /// a task `user` created.
    event FundReserved(address indexed user, address indexed fineTuning, uint256 amount, uint256 balance);

    /// @notice Amounts must be positive.
    error LedgerZeroAmount();

    /// @notice The zero address has no account.
    error LedgerZeroAddress();

    /// @notice `user` holds `balance`, less than the `amount` asked for.
    error LedgerInsufficientBalance(address user, uint256 balance, uint256 amount);

    /// @notice Only the serving contract sends native tokens to the ledger (returned refunds); `from` is not it.
    error LedgerUnexpectedTransfer(address from);

    /// @notice Only the fine-tuning contract reserves funds; `caller` is not it.
    error LedgerCallerNotFineTuning(address caller);

    /// @notice Adds the attached value to the caller's balance.
    function deposit() external payable;

    /// @notice Adds the attached value to `user`'s balance (e.g. a faucet or an employer paying for someone).
    /// @param user The account credited.
    function depositFor(address user) external payable;

    /// @notice Sends `amount` of the caller's balance to the caller.
    /// @dev Reverts with LedgerInsufficientBalance. Funds in sub-accounts are not part of the balance: get them
    /// back first with {requestRefund} and {processRefund}.
    /// @param amount Wei to withdraw.
    function withdraw(uint256 amount) external;

    /// @notice Moves `amount` of the caller's balance into its sub-account with `provider`, from which that
    /// provider can settle the caller's vouchers.
    /// @dev Reverts with LedgerInsufficientBalance, or the serving contract's error if `provider` has no service.
    /// @param provider The provider to fund.
    /// @param amount Wei to move.
    function transferFund(address provider, uint256 amount) external;

    /// @notice Asks for `amount` of the caller's sub-account with `provider` back; it can be processed after the
    /// serving contract's refund timelock. A new request replaces a pending one and restarts the timelock.
    /// @param provider The provider whose sub-account is drained.
    /// @param amount Wei asked back; at most the sub-account's balance.
    function requestRefund(address provider, uint256 amount) external;

    /// @notice Once the timelock has passed, moves the pending refund (capped by what the provider has not
    /// settled meanwhile) from the sub-account with `provider` back to the caller's balance.
    /// @param provider The provider of the sub-account.
    /// @return amount Wei returned to the balance.
    function processRefund(address provider) external returns (uint256 amount);

    /// @notice Moves `amount` of `user`'s balance to the fine-tuning contract: the fee cap of the task `user`
    /// is creating there.
    /// @dev Only the fine-tuning contract calls it (LedgerCallerNotFineTuning), from the `createTask`
    /// transaction `user` sent, so the user's own transaction authorizes the debit. Reverts with LedgerZeroAmount
    /// or LedgerInsufficientBalance. The fine-tuning contract returns what the task does not pay its provider with
    /// {depositFor}.
    /// @param user The account debited: the task's creator.
    /// @param amount Wei reserved.
    function reserve(address user, uint256 amount) external;

    /// @notice Wei `user` holds in the ledger (outside any sub-account).
    function balanceOf(address user) external view returns (uint256);

    /// @notice The InferenceServing contract that holds the sub-accounts.
    function serving() external view returns (address);

    /// @notice The FineTuningServing contract that holds the reservations of fine-tuning tasks.
    function fineTuning() external view returns (address);
}
