// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IInferenceServing
/// @notice The inference provider registry and the per-(user, provider) sub-accounts providers are paid from.
///
/// Payment protocol: every request a user sends a provider carries the user's EIP-712 {Voucher} for the
/// cumulative amount the user owes that provider so far, with a nonce that grows with every request. Every
/// response carries the provider's EIP-712 {Receipt} over (request hash, usage, fee), signed by the service's
/// signer; the client checks it, and its next voucher covers that fee and names the receipt. The provider settles
/// the latest voucher of each user whenever it likes — one signature check pays for any number of requests — and
/// is paid `amount - settled` out of the sub-account: never more than the user signed, never twice.
///
/// Sub-accounts are funded and refunded through the Ledger only. A refund waits out `refundLock()` seconds,
/// which is longer than any provider's settlement interval, so a user cannot take back money it already
/// promised in a voucher before the provider had time to settle it.
/// @dev EIP-712 domain: name "0G InferenceServing", version "1", the chain id and this contract's address.
interface IInferenceServing {
    /// @notice What a service sells.
    enum ServiceType {
        Chatbot,
        FineTuning
    }

    /// @notice What a client can check about a response.
    enum Verifiability {
        None,
        SignedReceipts,
        TeeAttested
    }

    /// @notice Why {settleBatch} skipped a voucher: each reason is the error {settle} reverts with for it.
    /// @dev None: settled (never in a {VoucherSkipped} event). WrongProvider: the caller is not the voucher's
    /// provider (InferenceWrongProvider). InvalidSignature: not the user's signature, malformed, or malleated to
    /// a high s (InferenceInvalidSignature). StaleVoucher: nonce not above the last settled one
    /// (InferenceStaleVoucher). AmountBelowSettled: cumulative amount below the settled total
    /// (InferenceAmountBelowSettled). InsufficientBalance: the sub-account cannot pay what is due
    /// (InferenceInsufficientBalance). ValueTooLarge: the amount or nonce does not fit its packed bits
    /// (InferenceValueTooLarge).
    enum SkipReason {
        None,
        WrongProvider,
        InvalidSignature,
        StaleVoucher,
        AmountBelowSettled,
        InsufficientBalance,
        ValueTooLarge
    }

    /// @notice What a provider registers or updates.
    struct ServiceParams {
        ServiceType serviceType;
        Verifiability verifiability;
        string url;
        string model;
        uint256 inputPrice;
        uint256 outputPrice;
        address signer;
    }

    /// @notice A registered service.
    /// @param signer The key that signs the service's receipts.
    /// @param inputPrice Wei per input (prompt) token.
    /// @param outputPrice Wei per output (generated) token.
    /// @param stake Wei locked while the service is registered; returned (as earnings) when it is removed.
    /// @param updatedAt Unix time of the last registration or update.
    /// @param url Where the OpenAI-compatible API is served.
    /// @param model The model name the API serves.
    struct Service {
        address provider;
        ServiceType serviceType;
        Verifiability verifiability;
        address signer;
        uint256 inputPrice;
        uint256 outputPrice;
        uint256 stake;
        uint256 updatedAt;
        string url;
        string model;
    }

    /// @notice A user's sub-account with one provider.
    /// @param balance Wei the provider can still be paid from.
    /// @param settled Cumulative wei paid to the provider (voucher amounts are cumulative).
    /// @param nonce Nonce of the last settled voucher; a voucher settles only with a higher one.
    /// @param refundPending Wei asked back, released at `refundUnlockAt` (capped by the balance then).
    /// @param refundUnlockAt Unix time from which the pending refund can be processed.
    /// @param acknowledgedSigner The provider signer the user accepted receipts from (zero if none).
    struct SubAccount {
        uint256 balance;
        uint256 settled;
        uint256 nonce;
        uint256 refundPending;
        uint256 refundUnlockAt;
        address acknowledgedSigner;
    }

    /// @notice What a user signs with every request (EIP-712 type
    /// `Voucher(address user,address provider,uint256 amount,uint256 nonce,bytes32 requestHash,bytes32 ack)`).
    /// @param amount Cumulative wei owed to `provider` since the sub-account was opened.
    /// @param nonce Strictly increasing per (user, provider): one per request.
    /// @param requestHash keccak256 of the body of the request the voucher was sent with.
    /// @param ack EIP-712 digest of the last provider receipt the user accepted (zero for none).
    struct Voucher {
        address user;
        address provider;
        uint256 amount;
        uint256 nonce;
        bytes32 requestHash;
        bytes32 ack;
    }

    /// @notice What the provider's signer signs with every response (EIP-712 type `Receipt(address user,
    /// address provider,bytes32 requestHash,uint256 nonce,uint256 inputTokens,uint256 outputTokens,uint256 fee,
    /// uint256 cumulative)`); checked off chain by the client, here only hashed (for disputes and tooling).
    /// @param nonce The nonce of the voucher the request carried.
    /// @param fee inputTokens × inputPrice + outputTokens × outputPrice.
    /// @param cumulative What the user owes after this request: the next voucher's amount.
    struct Receipt {
        address user;
        address provider;
        bytes32 requestHash;
        uint256 nonce;
        uint256 inputTokens;
        uint256 outputTokens;
        uint256 fee;
        uint256 cumulative;
    }

    /// @notice Emitted after `provider` registered a service, locking `stake`.
    event ServiceRegistered(
        address indexed provider,
        ServiceType serviceType,
        string url,
        string model,
        uint256 inputPrice,
        uint256 outputPrice,
        address signer,
        uint256 stake
    );

    /// @notice Emitted after `provider` changed its service; `stake` is the stake now locked.
    event ServiceUpdated(
        address indexed provider,
        ServiceType serviceType,
        string url,
        string model,
        uint256 inputPrice,
        uint256 outputPrice,
        address signer,
        uint256 stake
    );

    /// @notice Emitted after `provider` removed its service; its `stake` was added to its earnings.
    event ServiceRemoved(address indexed provider, uint256 stake);

    /// @notice Emitted after `user` accepted receipts signed by `signer` for `provider`.
    event SignerAcknowledged(address indexed user, address indexed provider, address signer);

    /// @notice Emitted after the ledger added `amount` to `user`'s sub-account with `provider` (now `balance`).
    event SubAccountFunded(address indexed user, address indexed provider, uint256 amount, uint256 balance);

    /// @notice Emitted after `user` asked for `amount` back from its sub-account with `provider`.
    event RefundRequested(address indexed user, address indexed provider, uint256 amount, uint256 unlockAt);

    /// @notice Emitted after `amount` went back from the sub-account (now `balance`) to the user's ledger balance.
    event RefundProcessed(address indexed user, address indexed provider, uint256 amount, uint256 balance);

    /// @notice Emitted after a voucher of `user` paid `provider` `paid` wei, bringing the settled total to
    /// `cumulative` at `nonce`.
    event VoucherSettled(
        address indexed user, address indexed provider, uint256 paid, uint256 cumulative, uint256 nonce
    );

    /// @notice Emitted after {settleBatch} skipped the voucher of `user` at `nonce` for `reason`, changing nothing;
    /// `provider` is the caller.
    event VoucherSkipped(address indexed user, address indexed provider, uint256 nonce, SkipReason reason);

    /// @notice Emitted after `provider` withdrew `amount` of its earnings.
    event EarningsWithdrawn(address indexed provider, uint256 amount);

    /// @notice Only the ledger moves funds in and out of sub-accounts; `caller` is not it.
    error InferenceCallerNotLedger(address caller);

    /// @notice A constructor address argument was the zero address.
    error InferenceZeroAddress();

    /// @notice `provider` already has a service: update it instead.
    error InferenceServiceExists(address provider);

    /// @notice `provider` has no service.
    error InferenceUnknownService(address provider);

    /// @notice A service must lock at least `minStake`; it would lock `stake`.
    error InferenceInsufficientStake(uint256 stake, uint256 minStake);

    /// @notice A service needs a non-empty url and model and a non-zero signer.
    error InferenceInvalidService();

    /// @notice Amounts must be positive.
    error InferenceZeroAmount();

    /// @notice `value` does not fit the bits it is kept in (96 for wei amounts, 64 for nonces).
    error InferenceValueTooLarge(uint256 value);

    /// @notice The sub-account of `user` with `provider` holds `balance`, less than the `amount` needed.
    error InferenceInsufficientBalance(address user, address provider, uint256 balance, uint256 amount);

    /// @notice The refund of `user` from `provider` unlocks at `unlockAt`.
    error InferenceRefundLocked(address user, address provider, uint256 unlockAt);

    /// @notice `user` has no pending refund from `provider`.
    error InferenceNoRefundPending(address user, address provider);

    /// @notice Only a voucher's provider settles it: the caller is `caller`, the voucher names `provider`.
    error InferenceWrongProvider(address caller, address provider);

    /// @notice The voucher names `user` but was signed by `signer` (zero for a malformed signature).
    error InferenceInvalidSignature(address user, address signer);

    /// @notice The voucher's `nonce` is not above the last settled nonce `lastNonce` of `user` (replayed or stale).
    error InferenceStaleVoucher(address user, uint256 nonce, uint256 lastNonce);

    /// @notice The voucher's cumulative `amount` is below the `settled` total of `user`.
    error InferenceAmountBelowSettled(address user, uint256 amount, uint256 settled);

    /// @notice A batch needs one signature per voucher.
    error InferenceLengthMismatch(uint256 vouchers, uint256 signatures);

    /// @notice `provider` has no earnings to withdraw.
    error InferenceNothingToWithdraw(address provider);

    /// @notice Registers the caller's service, locking the attached value (at least `minStake()`) as stake.
    /// @dev Reverts with InferenceServiceExists, InferenceInsufficientStake or InferenceInvalidService.
    /// @param params The service.
    function registerService(ServiceParams calldata params) external payable;

    /// @notice Changes the caller's service; the attached value (may be zero) is added to its stake.
    /// @dev A new signer needs a new acknowledgement from each user (see {acknowledgeSigner}).
    /// @param params The service.
    function updateService(ServiceParams calldata params) external payable;

    /// @notice Removes the caller's service and adds its stake to its earnings. Vouchers users already signed
    /// can still be settled; new funds can no longer be transferred to it.
    function removeService() external;

    /// @notice Records that the caller accepts receipts signed by `provider`'s current signer.
    /// @param provider A registered provider.
    function acknowledgeSigner(address provider) external;

    /// @notice Adds the attached value to `user`'s sub-account with `provider`. Only the ledger.
    /// @param user The user.
    /// @param provider A registered provider.
    function depositFund(address user, address provider) external payable;

    /// @notice Starts (or replaces) `user`'s refund of `amount` from `provider`. Only the ledger.
    /// @param user The user.
    /// @param provider The provider.
    /// @param amount Wei, positive and at most the sub-account's balance.
    /// @return unlockAt Unix time from which the refund can be processed.
    function requestRefund(address user, address provider, uint256 amount) external returns (uint256 unlockAt);

    /// @notice Sends the unlocked pending refund of `user` from `provider` (capped by the balance) to the
    /// ledger. Only the ledger.
    /// @param user The user.
    /// @param provider The provider.
    /// @return amount Wei sent back to the ledger.
    function processRefund(address user, address provider) external returns (uint256 amount);

    /// @notice Settles one voucher: pays the caller (the voucher's provider) `amount - settled` out of the
    /// user's sub-account.
    /// @dev Reverts with InferenceWrongProvider, InferenceInvalidSignature, InferenceStaleVoucher,
    /// InferenceAmountBelowSettled, InferenceInsufficientBalance or InferenceValueTooLarge.
    /// @param voucher The user's latest voucher.
    /// @param signature The user's EIP-712 signature of it (65 bytes: r, s, v).
    /// @return paid Wei added to the caller's earnings.
    function settle(Voucher calldata voucher, bytes calldata signature) external returns (uint256 paid);

    /// @notice Settles many vouchers (of different users) in one transaction, skipping those that cannot settle:
    /// one bad voucher does not hold back the others. Each voucher that settles pays exactly what {settle} would
    /// and emits {VoucherSettled}; each one that cannot changes nothing and emits {VoucherSkipped} with the
    /// {SkipReason} matching the error {settle} would revert with. The caller is paid only for vouchers naming it
    /// as provider: a batch sent by anyone else skips every voucher and pays nobody. Vouchers are taken in order,
    /// so a user's second voucher in one batch needs a higher nonce than its first (a repeat is StaleVoucher).
    /// @dev Reverts, settling nothing, only for a malformed call (InferenceLengthMismatch); everything that can be
    /// wrong with one voucher (provider, signature, nonce, amount, balance, packed limits) is a skip, which the
    /// provider reads from the receipt's events.
    /// @param vouchers Vouchers, each naming the caller as provider.
    /// @param signatures One signature per voucher.
    /// @return paid Wei added to the caller's earnings.
    function settleBatch(Voucher[] calldata vouchers, bytes[] calldata signatures) external returns (uint256 paid);

    /// @notice Sends the caller all its earnings (settled vouchers and returned stake).
    /// @return amount Wei sent.
    function withdrawEarnings() external returns (uint256 amount);

    /// @notice The service of `provider`; reverts with InferenceUnknownService if there is none.
    function getService(address provider) external view returns (Service memory);

    /// @notice True if `provider` has a service.
    function isRegistered(address provider) external view returns (bool);

    /// @notice Number of registered services.
    function serviceCount() external view returns (uint256);

    /// @notice Up to `limit` services, starting at index `offset` of the registry.
    function getServices(uint256 offset, uint256 limit) external view returns (Service[] memory);

    /// @notice The sub-account of `user` with `provider` (all zero if never funded).
    function getSubAccount(address user, address provider) external view returns (SubAccount memory);

    /// @notice The sub-accounts of many users with one provider (what a provider reads before settling).
    function getSubAccounts(address provider, address[] calldata users) external view returns (SubAccount[] memory);

    /// @notice Wei `provider` can withdraw.
    function earnings(address provider) external view returns (uint256);

    /// @notice EIP-712 digest of `voucher` (what the user signs).
    function hashVoucher(Voucher calldata voucher) external view returns (bytes32);

    /// @notice EIP-712 digest of `receipt` (what the provider's signer signs).
    function hashReceipt(Receipt calldata receipt) external view returns (bytes32);

    /// @notice Seconds a refund waits before it can be processed.
    function refundLock() external view returns (uint256);

    /// @notice Least stake a service must lock.
    function minStake() external view returns (uint256);

    /// @notice The Ledger, the only contract that moves funds in and out of sub-accounts.
    function ledger() external view returns (address);
}
