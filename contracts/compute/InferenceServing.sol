// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IInferenceServing} from "../interfaces/IInferenceServing.sol";

/// @title InferenceServing
/// @notice Provider registry and voucher settlement of the compute network. See {IInferenceServing}.
/// @dev No roles: parameters and the ledger binding are immutable. The ledger is deployed first with this
/// contract's CREATE address (scripts/deploy.py checks the prediction).
contract InferenceServing is IInferenceServing, EIP712, ReentrancyGuard {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice EIP-712 type hash of {Voucher}.
    bytes32 public constant VOUCHER_TYPEHASH = keccak256(
        "Voucher(address user,address provider,uint256 amount,uint256 nonce,bytes32 requestHash,bytes32 ack)"
    );

    /// @notice EIP-712 type hash of {Receipt}.
    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(address user,address provider,bytes32 requestHash,uint256 nonce,uint256 inputTokens,"
        "uint256 outputTokens,uint256 fee,uint256 cumulative)"
    );

    /// @dev One storage slot per settlement: balance, settled total and nonce are all a voucher touches.
    struct Account {
        uint96 balance;
        uint96 settled;
        uint64 nonce;
        uint96 refundPending;
        uint64 refundUnlockAt;
        address acknowledgedSigner;
    }

    address private immutable _ledger;
    uint256 private immutable _refundLock;
    uint256 private immutable _minStake;

    EnumerableSet.AddressSet private _providers;
    mapping(address provider => Service) private _services;
    mapping(address user => mapping(address provider => Account)) private _accounts;
    mapping(address provider => uint256) private _earnings;

    /// @param ledger_ The Ledger: the only contract allowed to fund and refund sub-accounts.
    /// @param refundLock_ Seconds a refund waits; must exceed every provider's settlement interval.
    /// @param minStake_ Least stake a service must lock.
    constructor(address ledger_, uint256 refundLock_, uint256 minStake_) EIP712("0G InferenceServing", "1") {
        if (ledger_ == address(0)) revert InferenceZeroAddress();
        _ledger = ledger_;
        _refundLock = refundLock_;
        _minStake = minStake_;
    }

    modifier onlyLedger() {
        if (msg.sender != _ledger) revert InferenceCallerNotLedger(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- registry

    /// @inheritdoc IInferenceServing
    function registerService(ServiceParams calldata params) external payable {
        if (_providers.contains(msg.sender)) revert InferenceServiceExists(msg.sender);
        if (msg.value < _minStake) revert InferenceInsufficientStake(msg.value, _minStake);
        _providers.add(msg.sender);
        Service storage service = _services[msg.sender];
        service.provider = msg.sender;
        service.stake = msg.value;
        _writeService(service, params);
        emit ServiceRegistered(
            msg.sender,
            params.serviceType,
            params.url,
            params.model,
            params.inputPrice,
            params.outputPrice,
            params.signer,
            msg.value
        );
    }

    /// @inheritdoc IInferenceServing
    function updateService(ServiceParams calldata params) external payable {
        if (!_providers.contains(msg.sender)) revert InferenceUnknownService(msg.sender);
        Service storage service = _services[msg.sender];
        service.stake += msg.value;
        _writeService(service, params);
        emit ServiceUpdated(
            msg.sender,
            params.serviceType,
            params.url,
            params.model,
            params.inputPrice,
            params.outputPrice,
            params.signer,
            service.stake
        );
    }

    /// @inheritdoc IInferenceServing
    function removeService() external {
        if (!_providers.contains(msg.sender)) revert InferenceUnknownService(msg.sender);
        uint256 stake = _services[msg.sender].stake;
        _providers.remove(msg.sender);
        delete _services[msg.sender];
        _earnings[msg.sender] += stake;
        emit ServiceRemoved(msg.sender, stake);
    }

    /// @inheritdoc IInferenceServing
    function acknowledgeSigner(address provider) external {
        if (!_providers.contains(provider)) revert InferenceUnknownService(provider);
        address signer = _services[provider].signer;
        _accounts[msg.sender][provider].acknowledgedSigner = signer;
        emit SignerAcknowledged(msg.sender, provider, signer);
    }

    function _writeService(Service storage service, ServiceParams calldata params) private {
        if (bytes(params.url).length == 0 || bytes(params.model).length == 0 || params.signer == address(0)) {
            revert InferenceInvalidService();
        }
        service.serviceType = params.serviceType;
        service.verifiability = params.verifiability;
        service.signer = params.signer;
        service.inputPrice = params.inputPrice;
        service.outputPrice = params.outputPrice;
        service.updatedAt = block.timestamp;
        service.url = params.url;
        service.model = params.model;
    }

    // ---------------------------------------------------------------- sub-accounts (ledger only)

    /// @inheritdoc IInferenceServing
    function depositFund(address user, address provider) external payable onlyLedger {
        if (!_providers.contains(provider)) revert InferenceUnknownService(provider);
        if (msg.value == 0) revert InferenceZeroAmount();
        Account storage account = _accounts[user][provider];
        uint256 balance = account.balance + msg.value;
        account.balance = _toUint96(balance);
        emit SubAccountFunded(user, provider, msg.value, balance);
    }

    /// @inheritdoc IInferenceServing
    function requestRefund(address user, address provider, uint256 amount)
        external
        onlyLedger
        returns (uint256 unlockAt)
    {
        if (amount == 0) revert InferenceZeroAmount();
        Account storage account = _accounts[user][provider];
        uint256 balance = account.balance;
        if (amount > balance) revert InferenceInsufficientBalance(user, provider, balance, amount);
        unlockAt = block.timestamp + _refundLock;
        // Both fit: amount <= balance (96 bits); unlockAt is a timestamp plus an immutable lock.
        account.refundPending = uint96(amount);
        account.refundUnlockAt = uint64(unlockAt);
        emit RefundRequested(user, provider, amount, unlockAt);
    }

    /// @inheritdoc IInferenceServing
    function processRefund(address user, address provider) external onlyLedger nonReentrant returns (uint256 amount) {
        Account storage account = _accounts[user][provider];
        uint256 pending = account.refundPending;
        if (pending == 0) revert InferenceNoRefundPending(user, provider);
        uint256 unlockAt = account.refundUnlockAt;
        if (block.timestamp < unlockAt) revert InferenceRefundLocked(user, provider, unlockAt);
        uint256 balance = account.balance;
        // Settlements since the request may have spent part of what was asked back.
        amount = pending < balance ? pending : balance;
        account.balance = uint96(balance - amount);
        account.refundPending = 0;
        account.refundUnlockAt = 0;
        emit RefundProcessed(user, provider, amount, balance - amount);
        if (amount != 0) Address.sendValue(payable(_ledger), amount);
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IInferenceServing
    function settle(Voucher calldata voucher, bytes calldata signature) external returns (uint256 paid) {
        SkipReason reason;
        (reason, paid) = _settle(voucher, signature);
        if (reason != SkipReason.None) _revertUnsettled(reason, voucher, signature);
        _earnings[msg.sender] += paid;
    }

    /// @inheritdoc IInferenceServing
    function settleBatch(Voucher[] calldata vouchers, bytes[] calldata signatures) external returns (uint256 paid) {
        uint256 count = vouchers.length;
        if (signatures.length != count) revert InferenceLengthMismatch(count, signatures.length);
        for (uint256 i = 0; i < count; ++i) {
            Voucher calldata voucher = vouchers[i];
            (SkipReason reason, uint256 due) = _settle(voucher, signatures[i]);
            if (reason == SkipReason.None) paid += due;
            else emit VoucherSkipped(voucher.user, msg.sender, voucher.nonce, reason);
        }
        _earnings[msg.sender] += paid;
    }

    /// @dev Checks one voucher and, if it can settle, moves its due amount out of the sub-account (the caller
    /// credits the earnings). If it cannot, changes nothing and returns why: the caller reverts or skips.
    function _settle(Voucher calldata voucher, bytes calldata signature)
        private
        returns (SkipReason reason, uint256 due)
    {
        address user = voucher.user;
        if (voucher.provider != msg.sender) return (SkipReason.WrongProvider, 0);
        (address signer, ECDSA.RecoverError error,) =
            ECDSA.tryRecover(_hashTypedDataV4(_voucherStructHash(voucher)), signature);
        if (error != ECDSA.RecoverError.NoError || signer != user) return (SkipReason.InvalidSignature, 0);

        Account storage account = _accounts[user][msg.sender];
        if (voucher.nonce <= account.nonce) return (SkipReason.StaleVoucher, 0);
        uint256 settled = account.settled;
        if (voucher.amount < settled) return (SkipReason.AmountBelowSettled, 0);
        due = voucher.amount - settled;
        uint256 balance = account.balance;
        if (due > balance) return (SkipReason.InsufficientBalance, 0);
        if (voucher.amount > type(uint96).max || voucher.nonce > type(uint64).max) {
            return (SkipReason.ValueTooLarge, 0);
        }

        // All three fit: due <= balance, and amount and nonce were bounded just above.
        account.balance = uint96(balance - due);
        account.settled = uint96(voucher.amount);
        account.nonce = uint64(voucher.nonce);
        emit VoucherSettled(user, msg.sender, due, voucher.amount, voucher.nonce);
    }

    /// @dev Reverts {settle} with the error matching `reason`; its arguments are read again, on failure only.
    function _revertUnsettled(SkipReason reason, Voucher calldata voucher, bytes calldata signature) private view {
        address user = voucher.user;
        Account storage account = _accounts[user][msg.sender];
        if (reason == SkipReason.WrongProvider) revert InferenceWrongProvider(msg.sender, voucher.provider);
        if (reason == SkipReason.InvalidSignature) {
            (address signer,,) = ECDSA.tryRecover(_hashTypedDataV4(_voucherStructHash(voucher)), signature);
            revert InferenceInvalidSignature(user, signer);
        }
        if (reason == SkipReason.StaleVoucher) revert InferenceStaleVoucher(user, voucher.nonce, account.nonce);
        if (reason == SkipReason.AmountBelowSettled) {
            revert InferenceAmountBelowSettled(user, voucher.amount, account.settled);
        }
        if (reason == SkipReason.InsufficientBalance) {
            revert InferenceInsufficientBalance(user, msg.sender, account.balance, voucher.amount - account.settled);
        }
        revert InferenceValueTooLarge(voucher.amount > type(uint96).max ? voucher.amount : voucher.nonce);
    }

    /// @inheritdoc IInferenceServing
    function withdrawEarnings() external nonReentrant returns (uint256 amount) {
        amount = _earnings[msg.sender];
        if (amount == 0) revert InferenceNothingToWithdraw(msg.sender);
        _earnings[msg.sender] = 0;
        emit EarningsWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IInferenceServing
    function getService(address provider) external view returns (Service memory) {
        if (!_providers.contains(provider)) revert InferenceUnknownService(provider);
        return _services[provider];
    }

    /// @inheritdoc IInferenceServing
    function isRegistered(address provider) external view returns (bool) {
        return _providers.contains(provider);
    }

    /// @inheritdoc IInferenceServing
    function serviceCount() external view returns (uint256) {
        return _providers.length();
    }

    /// @inheritdoc IInferenceServing
    function getServices(uint256 offset, uint256 limit) external view returns (Service[] memory services) {
        uint256 total = _providers.length();
        uint256 end = offset >= total ? offset : (limit > total - offset ? total : offset + limit);
        services = new Service[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            services[i - offset] = _services[_providers.at(i)];
        }
    }

    /// @inheritdoc IInferenceServing
    function getSubAccount(address user, address provider) public view returns (SubAccount memory) {
        Account storage account = _accounts[user][provider];
        return SubAccount({
            balance: account.balance,
            settled: account.settled,
            nonce: account.nonce,
            refundPending: account.refundPending,
            refundUnlockAt: account.refundUnlockAt,
            acknowledgedSigner: account.acknowledgedSigner
        });
    }

    /// @inheritdoc IInferenceServing
    function getSubAccounts(address provider, address[] calldata users)
        external
        view
        returns (SubAccount[] memory accounts)
    {
        accounts = new SubAccount[](users.length);
        for (uint256 i = 0; i < users.length; ++i) {
            accounts[i] = getSubAccount(users[i], provider);
        }
    }

    /// @inheritdoc IInferenceServing
    function earnings(address provider) external view returns (uint256) {
        return _earnings[provider];
    }

    /// @inheritdoc IInferenceServing
    function hashVoucher(Voucher calldata voucher) external view returns (bytes32) {
        return _hashTypedDataV4(_voucherStructHash(voucher));
    }

    /// @inheritdoc IInferenceServing
    function hashReceipt(Receipt calldata receipt) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(RECEIPT_TYPEHASH, receipt)));
    }

    /// @inheritdoc IInferenceServing
    function refundLock() external view returns (uint256) {
        return _refundLock;
    }

    /// @inheritdoc IInferenceServing
    function minStake() external view returns (uint256) {
        return _minStake;
    }

    /// @inheritdoc IInferenceServing
    function ledger() external view returns (address) {
        return _ledger;
    }

    function _voucherStructHash(Voucher calldata voucher) private pure returns (bytes32) {
        return keccak256(abi.encode(VOUCHER_TYPEHASH, voucher));
    }

    function _toUint96(uint256 value) private pure returns (uint96) {
        if (value > type(uint96).max) revert InferenceValueTooLarge(value);
        return uint96(value);
    }
}
