// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IFaucet} from "../interfaces/IFaucet.sol";

/// @title Faucet
/// @notice Native-token faucet for the local 0G network. See {IFaucet}.
contract Faucet is IFaucet, AccessControl, ReentrancyGuard {
    /// @notice Role allowed to call {drip}: the faucet service's hot key.
    bytes32 public constant DRIPPER_ROLE = keccak256("DRIPPER_ROLE");

    /// @notice Gas a drip's recipient gets: enough for a smart wallet's receive (a proxy's delegatecall and an
    /// event), too little for a recipient contract to burn the dripper's gas.
    uint256 public constant DRIP_GAS_STIPEND = 30_000;

    uint256 private _dripAmount;
    uint256 private _cooldown;
    uint256 private _dripBudget;
    uint256 private _budgetWindow;
    uint256 private _windowStart;
    uint256 private _windowSpent;
    mapping(address recipient => uint256 timestamp) private _lastDripAt;

    /// @param initialDripAmount Wei per drip, positive and at most `initialBudget`.
    /// @param initialCooldown Seconds between two drips to one address.
    /// @param initialBudget Most wei dripped per budget window.
    /// @param initialBudgetWindow Seconds of a budget window, positive.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (parameters, withdrawals, roles).
    /// @param dripper Holder of DRIPPER_ROLE.
    constructor(
        uint256 initialDripAmount,
        uint256 initialCooldown,
        uint256 initialBudget,
        uint256 initialBudgetWindow,
        address admin,
        address dripper
    ) payable {
        if (initialDripAmount == 0) revert FaucetInvalidDripAmount();
        _checkBudget(initialDripAmount, initialBudget, initialBudgetWindow);
        if (admin == address(0) || dripper == address(0)) revert FaucetZeroAddress();
        _dripAmount = initialDripAmount;
        _cooldown = initialCooldown;
        _dripBudget = initialBudget;
        _budgetWindow = initialBudgetWindow;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(DRIPPER_ROLE, dripper);
        if (msg.value > 0) emit Funded(msg.sender, msg.value);
    }

    /// @notice Plain transfers fund the faucet.
    receive() external payable {
        emit Funded(msg.sender, msg.value);
    }

    /// @inheritdoc IFaucet
    function drip(address payable recipient) external onlyRole(DRIPPER_ROLE) nonReentrant {
        if (recipient == address(0)) revert FaucetZeroAddress();
        uint256 availableAt = nextDripAt(recipient);
        if (block.timestamp < availableAt) revert FaucetCooldownActive(recipient, availableAt);
        uint256 amount = _dripAmount;
        if (address(this).balance < amount) revert FaucetEmpty(address(this).balance, amount);
        (uint256 windowStart, uint256 spent) = _currentWindow();
        if (spent + amount > _dripBudget) {
            revert FaucetBudgetExhausted(spent, _dripBudget, windowStart + _budgetWindow);
        }

        _lastDripAt[recipient] = block.timestamp;
        _windowStart = windowStart;
        _windowSpent = spent + amount;
        emit Dripped(recipient, amount, block.timestamp + _cooldown);
        bool sent;
        // No return data is copied: the recipient's gas stays bounded by the stipend, memory included.
        assembly ("memory-safe") {
            sent := call(DRIP_GAS_STIPEND, recipient, amount, 0, 0, 0, 0)
        }
        if (!sent) revert FaucetTransferFailed(recipient, amount);
    }

    /// @inheritdoc IFaucet
    function fund() external payable {
        emit Funded(msg.sender, msg.value);
    }

    /// @inheritdoc IFaucet
    function setDripAmount(uint256 newAmount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newAmount == 0 || newAmount > _dripBudget) revert FaucetInvalidDripAmount();
        emit DripAmountUpdated(_dripAmount, newAmount);
        _dripAmount = newAmount;
    }

    /// @inheritdoc IFaucet
    function setCooldown(uint256 newCooldown) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit CooldownUpdated(_cooldown, newCooldown);
        _cooldown = newCooldown;
    }

    /// @inheritdoc IFaucet
    function setDripBudget(uint256 newBudget, uint256 newWindow) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkBudget(_dripAmount, newBudget, newWindow);
        emit DripBudgetUpdated(_dripBudget, _budgetWindow, newBudget, newWindow);
        _dripBudget = newBudget;
        _budgetWindow = newWindow;
    }

    /// @inheritdoc IFaucet
    function withdraw(address payable to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        if (to == address(0)) revert FaucetZeroAddress();
        if (address(this).balance < amount) revert FaucetInsufficientBalance(address(this).balance, amount);
        emit Withdrawn(to, amount);
        Address.sendValue(to, amount);
    }

    /// @inheritdoc IFaucet
    function dripAmount() external view returns (uint256) {
        return _dripAmount;
    }

    /// @inheritdoc IFaucet
    function cooldown() external view returns (uint256) {
        return _cooldown;
    }

    /// @inheritdoc IFaucet
    function dripBudget() external view returns (uint256) {
        return _dripBudget;
    }

    /// @inheritdoc IFaucet
    function budgetWindow() external view returns (uint256) {
        return _budgetWindow;
    }

    /// @inheritdoc IFaucet
    function budgetAvailableAt() external view returns (uint256) {
        (uint256 windowStart, uint256 spent) = _currentWindow();
        return spent + _dripAmount > _dripBudget ? windowStart + _budgetWindow : 0;
    }

    /// @inheritdoc IFaucet
    function lastDripAt(address recipient) external view returns (uint256) {
        return _lastDripAt[recipient];
    }

    /// @inheritdoc IFaucet
    function nextDripAt(address recipient) public view returns (uint256) {
        uint256 last = _lastDripAt[recipient];
        return last == 0 ? 0 : last + _cooldown;
    }

    /// @dev The budget window a drip now falls in: the running one, or a fresh one starting now if it ended.
    function _currentWindow() private view returns (uint256 windowStart, uint256 spent) {
        windowStart = _windowStart;
        if (block.timestamp >= windowStart + _budgetWindow) return (block.timestamp, 0);
        spent = _windowSpent;
    }

    function _checkBudget(uint256 amount, uint256 budget, uint256 window) private pure {
        if (budget < amount || window == 0) revert FaucetInvalidBudget(budget, window);
    }
}
