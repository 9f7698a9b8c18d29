// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IFaucet
/// @notice Drips native tokens to developer addresses: at most once per cooldown per address, and at most a drip
/// budget of wei per budget window in total, whoever the recipients are.
/// @dev The faucet service holds DRIPPER_ROLE and pays the gas, so a fresh wallet needs nothing. The per-address
/// cooldown is enforced here as a backstop to the service's own limits; the budget bounds what a leaked dripper
/// key can take (one fresh address per transaction) to one budget per window, until the admin revokes the key.
/// Budget windows are fixed: one starts with the first drip after the previous one ended.
///
/// Admin powers (DEFAULT_ADMIN_ROLE), all of them:
/// - {setDripAmount}, {setCooldown}, {setDripBudget}: change the drip parameters at once (future drips only);
/// - {withdraw}: send any part of the faucet's balance to any address;
/// - AccessControl's `grantRole` / `revokeRole`: give DRIPPER_ROLE (drips, within the parameters) or
///   DEFAULT_ADMIN_ROLE (all of the above) to any address, or take them away; `renounceRole` gives up its own.
/// The admin can move no funds but the faucet's own balance. The dripper can only {drip}.
interface IFaucet {
    /// @notice Emitted after `amount` was sent to `recipient`.
    event Dripped(address indexed recipient, uint256 amount, uint256 nextDripAt);

    /// @notice Emitted after `from` added `amount` to the faucet's balance.
    event Funded(address indexed from, uint256 amount);

    /// @notice Emitted after the admin changed the amount sent per drip.
    event DripAmountUpdated(uint256 previousAmount, uint256 newAmount);

    /// @notice Emitted after the admin changed the per-address cooldown.
    event CooldownUpdated(uint256 previousCooldown, uint256 newCooldown);

    /// @notice Emitted after the admin changed the drip budget (wei) and its window (seconds).
    event DripBudgetUpdated(uint256 previousBudget, uint256 previousWindow, uint256 newBudget, uint256 newWindow);

    /// @notice Emitted after the admin took `amount` out of the faucet.
    event Withdrawn(address indexed to, uint256 amount);

    /// @notice `recipient` was dripped to recently and may claim again at `availableAt` (unix seconds).
    error FaucetCooldownActive(address recipient, uint256 availableAt);

    /// @notice The current budget window already dripped `spent` of its `budget`: one more drip would exceed it.
    /// The budget frees up at `availableAt` (unix seconds), when the window ends.
    error FaucetBudgetExhausted(uint256 spent, uint256 budget, uint256 availableAt);

    /// @notice The faucet holds `balance`, less than one drip of `dripAmount`.
    error FaucetEmpty(uint256 balance, uint256 dripAmount);

    /// @notice `recipient` did not accept `amount` within the gas stipend (it reverted or needs more gas).
    error FaucetTransferFailed(address recipient, uint256 amount);

    /// @notice The zero address can neither receive drips nor withdrawals.
    error FaucetZeroAddress();

    /// @notice A drip amount must be positive and at most the drip budget.
    error FaucetInvalidDripAmount();

    /// @notice A drip budget must cover at least one drip, and its window must be positive; `budget` wei per
    /// `window` seconds do not.
    error FaucetInvalidBudget(uint256 budget, uint256 window);

    /// @notice A withdrawal asked for `amount` but only `balance` is held.
    error FaucetInsufficientBalance(uint256 balance, uint256 amount);

    /// @notice Sends one drip to `recipient`, starts its cooldown and counts the drip against the budget.
    /// @dev Only DRIPPER_ROLE. The recipient's call gets a fixed gas stipend (`DRIP_GAS_STIPEND`), so a
    /// recipient contract cannot make the dripper pay for more. Reverts with FaucetZeroAddress,
    /// FaucetCooldownActive, FaucetEmpty, FaucetBudgetExhausted or FaucetTransferFailed.
    /// @param recipient The address to fund.
    function drip(address payable recipient) external;

    /// @notice Adds the attached value to the faucet's balance.
    function fund() external payable;

    /// @notice Sets the amount sent per drip. Only DEFAULT_ADMIN_ROLE.
    /// @param newAmount Wei per drip, positive and at most the drip budget.
    function setDripAmount(uint256 newAmount) external;

    /// @notice Sets the per-address cooldown. Only DEFAULT_ADMIN_ROLE.
    /// @param newCooldown Seconds between two drips to one address.
    function setCooldown(uint256 newCooldown) external;

    /// @notice Sets the most wei dripped per budget window, and the window's length. Only DEFAULT_ADMIN_ROLE.
    /// @dev The running window keeps what it has spent and now ends `newWindow` seconds after it started.
    /// @param newBudget Wei per window, at least one drip.
    /// @param newWindow Seconds, positive.
    function setDripBudget(uint256 newBudget, uint256 newWindow) external;

    /// @notice Sends `amount` of the faucet's balance to `to`. Only DEFAULT_ADMIN_ROLE.
    /// @param to Receiver of the funds.
    /// @param amount Wei to send.
    function withdraw(address payable to, uint256 amount) external;

    /// @notice Wei sent per drip.
    function dripAmount() external view returns (uint256);

    /// @notice Seconds between two drips to the same address.
    function cooldown() external view returns (uint256);

    /// @notice Most wei dripped per budget window.
    function dripBudget() external view returns (uint256);

    /// @notice Seconds of a budget window.
    function budgetWindow() external view returns (uint256);

    /// @notice When the budget has room for one more drip: 0 if it has now, else the end of the current window.
    function budgetAvailableAt() external view returns (uint256);

    /// @notice Unix time of the last drip to `recipient` (0 if never).
    function lastDripAt(address recipient) external view returns (uint256);

    /// @notice Earliest unix time at which `recipient` can be dripped to again.
    function nextDripAt(address recipient) external view returns (uint256);
}
