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

    uint256 private _dripAmount;
    uint256 private _cooldown;
    mapping(address recipient => uint256 timestamp) private _lastDripAt;

    /// @param initialDripAmount Wei per drip, positive.
    /// @param initialCooldown Seconds between two drips to one address.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (parameters, withdrawals, roles).
    /// @param dripper Holder of DRIPPER_ROLE.
    constructor(uint256 initialDripAmount, uint256 initialCooldown, address admin, address dripper) payable {
        if (initialDripAmount == 0) revert FaucetInvalidDripAmount();
        if (admin == address(0) || dripper == address(0)) revert FaucetZeroAddress();
        _dripAmount = initialDripAmount;
        _cooldown = initialCooldown;
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

        _lastDripAt[recipient] = block.timestamp;
        emit Dripped(recipient, amount, block.timestamp + _cooldown);
        Address.sendValue(recipient, amount);
    }

    /// @inheritdoc IFaucet
    function fund() external payable {
        emit Funded(msg.sender, msg.value);
    }

    /// @inheritdoc IFaucet
    function setDripAmount(uint256 newAmount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newAmount == 0) revert FaucetInvalidDripAmount();
        emit DripAmountUpdated(_dripAmount, newAmount);
        _dripAmount = newAmount;
    }

    /// @inheritdoc IFaucet
    function setCooldown(uint256 newCooldown) external onlyRole(DEFAULT_ADMIN_ROLE) {
        emit CooldownUpdated(_cooldown, newCooldown);
        _cooldown = newCooldown;
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
    function lastDripAt(address recipient) external view returns (uint256) {
        return _lastDripAt[recipient];
    }

    /// @inheritdoc IFaucet
    function nextDripAt(address recipient) public view returns (uint256) {
        uint256 last = _lastDripAt[recipient];
        return last == 0 ? 0 : last + _cooldown;
    }
}
