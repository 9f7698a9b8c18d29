// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IFaucet
/// @notice Drips native tokens to developer addresses, at most once per cooldown per address.
/// @dev The faucet service holds DRIPPER_ROLE and pays the gas, so a fresh wallet needs nothing.
/// The per-address cooldown is enforced here as a backstop to the service's own limits.
interface IFaucet {
    /// @notice Emitted after `amount` was sent to `recipient`.
    event Dripped(address indexed recipient, uint256 amount, uint256 nextDripAt);

    /// @notice Emitted after `from` added `amount` to the faucet's balance.
    event Funded(address indexed from, uint256 amount);

    /// @notice Emitted after the admin changed the amount sent per drip.
    event DripAmountUpdated(uint256 previousAmount, uint256 newAmount);

    /// @notice Emitted after the admin changed the per-address cooldown.
    event CooldownUpdated(uint256 previousCooldown, uint256 newCooldown);

    /// @notice Emitted after the admin took `amount` out of the faucet.
    event Withdrawn(address indexed to, uint256 amount);

    /// @notice `recipient` was dripped to recently and may claim again at `availableAt` (unix seconds).
    error FaucetCooldownActive(address recipient, uint256 availableAt);

    /// @notice The faucet holds `balance`, less than one drip of `dripAmount`.
    error FaucetEmpty(uint256 balance, uint256 dripAmount);

    /// @notice The zero address can neither receive drips nor withdrawals.
    error FaucetZeroAddress();

    /// @notice A drip amount must be positive.
    error FaucetInvalidDripAmount();

    /// @notice A withdrawal asked for `amount` but only `balance` is held.
    error FaucetInsufficientBalance(uint256 balance, uint256 amount);

    /// @notice Sends one drip to `recipient` and starts its cooldown.
    /// @dev Only DRIPPER_ROLE. Reverts with FaucetCooldownActive or FaucetEmpty.
    /// @param recipient The address to fund.
    function drip(address payable recipient) external;

    /// @notice Adds the attached value to the faucet's balance.
    function fund() external payable;

    /// @notice Sets the amount sent per drip. Only DEFAULT_ADMIN_ROLE.
    /// @param newAmount Wei per drip, positive.
    function setDripAmount(uint256 newAmount) external;

    /// @notice Sets the per-address cooldown. Only DEFAULT_ADMIN_ROLE.
    /// @param newCooldown Seconds between two drips to one address.
    function setCooldown(uint256 newCooldown) external;

    /// @notice Sends `amount` of the faucet's balance to `to`. Only DEFAULT_ADMIN_ROLE.
    /// @param to Receiver of the funds.
    /// @param amount Wei to send.
    function withdraw(address payable to, uint256 amount) external;

    /// @notice Wei sent per drip.
    function dripAmount() external view returns (uint256);

    /// @notice Seconds between two drips to the same address.
    function cooldown() external view returns (uint256);

    /// @notice Unix time of the last drip to `recipient` (0 if never).
    function lastDripAt(address recipient) external view returns (uint256);

    /// @notice Earliest unix time at which `recipient` can be dripped to again.
    function nextDripAt(address recipient) external view returns (uint256);
}
