// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ILedger} from "../interfaces/ILedger.sol";
import {IInferenceServing} from "../interfaces/IInferenceServing.sol";

/// @title Ledger
/// @notice Users' main accounts of the compute network. See {ILedger}.
/// @dev The serving and fine-tuning contracts are deployed after the ledger, so the deployer passes their CREATE
/// addresses, computed from its own nonce (scripts/deploy.py checks the predictions). The bindings are immutable;
/// there are no roles.
contract Ledger is ILedger, ReentrancyGuard {
    IInferenceServing private immutable _serving;
    address private immutable _fineTuning;
    mapping(address user => uint256) private _balances;

    /// @param serving_ The InferenceServing contract holding the sub-accounts.
    /// @param fineTuning_ The FineTuningServing contract holding the fine-tuning reservations.
    constructor(address serving_, address fineTuning_) {
        if (serving_ == address(0) || fineTuning_ == address(0)) revert LedgerZeroAddress();
        _serving = IInferenceServing(serving_);
        _fineTuning = fineTuning_;
    }

    /// @notice Only the serving contract sends value here: refunds coming back, credited by {processRefund}.
    receive() external payable {
        if (msg.sender != address(_serving)) revert LedgerUnexpectedTransfer(msg.sender);
    }

    /// @inheritdoc ILedger
    function deposit() external payable {
        _deposit(msg.sender);
    }

    /// @inheritdoc ILedger
    function depositFor(address user) external payable {
        if (user == address(0)) revert LedgerZeroAddress();
        _deposit(user);
    }

    /// @inheritdoc ILedger
    function withdraw(uint256 amount) external nonReentrant {
        uint256 balance = _debit(msg.sender, amount);
        emit Withdrawn(msg.sender, amount, balance);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc ILedger
    function transferFund(address provider, uint256 amount) external nonReentrant {
        uint256 balance = _debit(msg.sender, amount);
        emit FundTransferred(msg.sender, provider, amount, balance);
        _serving.depositFund{value: amount}(msg.sender, provider);
    }

    /// @inheritdoc ILedger
    function requestRefund(address provider, uint256 amount) external {
        _serving.requestRefund(msg.sender, provider, amount);
    }

    /// @inheritdoc ILedger
    function processRefund(address provider) external nonReentrant returns (uint256 amount) {
        amount = _serving.processRefund(msg.sender, provider);
        uint256 balance = _balances[msg.sender] + amount;
        _balances[msg.sender] = balance;
        emit FundReturned(msg.sender, provider, amount, balance);
    }

    /// @inheritdoc ILedger
    function reserve(address user, uint256 amount) external nonReentrant {
        if (msg.sender != _fineTuning) revert LedgerCallerNotFineTuning(msg.sender);
        uint256 balance = _debit(user, amount);
        emit FundReserved(user, msg.sender, amount, balance);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc ILedger
    function balanceOf(address user) external view returns (uint256) {
        return _balances[user];
    }

    /// @inheritdoc ILedger
    function serving() external view returns (address) {
        return address(_serving);
    }

    /// @inheritdoc ILedger
    function fineTuning() external view returns (address) {
        return _fineTuning;
    }

    function _deposit(address user) private {
        if (msg.value == 0) revert LedgerZeroAmount();
        uint256 balance = _balances[user] + msg.value;
        _balances[user] = balance;
        emit Deposited(user, msg.sender, msg.value, balance);
    }

    function _debit(address user, uint256 amount) private returns (uint256 balance) {
        if (amount == 0) revert LedgerZeroAmount();
        balance = _balances[user];
        if (amount > balance) revert LedgerInsufficientBalance(user, balance, amount);
        balance -= amount;
        _balances[user] = balance;
    }
}
