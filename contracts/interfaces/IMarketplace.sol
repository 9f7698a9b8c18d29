// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IMarketplace
/// @notice Models and datasets whose bytes live on 0G Storage, listed, bought and licensed here; the providers
/// that serve a listed model link their InferenceServing service to its listing.
/// @dev A private item is stored encrypted (0G's v2 ECIES format to the lister's key, or v1 with a content key).
/// Buying pays into escrow; the lister then delivers the 32-byte AES key sealed to the buyer's public key with
/// {grant} (the sealed key is in the {AccessGranted} event, its block in the purchase record), which releases the
/// escrow to the lister's proceeds. A buyer who got no grant within {grantTimeout} seconds takes the payment back
/// with {reclaim} (and loses access). A public item is stored in the clear: buying records the licence and pays
/// the lister at once. The lister may also grant anyone a key without a purchase (for example the provider that
/// serves its private model). Proceeds, fees and reclaims are pull payments.
///
/// Admin powers (DEFAULT_ADMIN_ROLE), all of them:
/// - {setFee}: the platform fee (at most {MAX_FEE_BPS}) and its recipient, for purchases made afterwards;
/// - AccessControl's `grantRole` / `revokeRole` / `renounceRole` of DEFAULT_ADMIN_ROLE.
/// The admin can move nobody's funds: fees are credited to the recipient's proceeds at the purchase's release.
interface IMarketplace {
    /// @notice What an item is.
    enum Kind {
        Model,
        Dataset
    }

    /// @notice What a lister gives {list}.
    /// @param roots Storage roots of the item's stored bytes, in order (one per fragment); 1 to MAX_ROOTS.
    /// @param size Bytes of the item as a buyer gets it (the plaintext of a private item).
    /// @param contentHash keccak256 of those bytes (zero if not given): lets a buyer check a decryption.
    /// @param format The model family or dataset format, for example "zg-bytelm" or "jsonl-chat".
    struct ListingParams {
        Kind kind;
        bool isPrivate;
        uint256 price;
        uint256 size;
        bytes32 contentHash;
        bytes32[] roots;
        string name;
        string description;
        string license;
        string format;
    }

    /// @notice A listing. `active` is false once delisted; `sales` counts purchases not reclaimed.
    struct Listing {
        uint256 id;
        address lister;
        Kind kind;
        bool isPrivate;
        bool active;
        uint64 listedAt;
        uint64 updatedAt;
        uint256 price;
        uint256 size;
        uint256 sales;
        bytes32 contentHash;
        bytes32[] roots;
        string name;
        string description;
        string license;
        string format;
    }

    /// @notice What `buyer` holds of a listing.
    /// @param paid Wei paid (0 for a grant without purchase); `fee` of it goes to the fee recipient.
    /// @param escrowed True while the payment waits for a grant (private items); false once released or reclaimed.
    /// @param boughtAt Unix time of the purchase (0 for a grant without purchase or none at all).
    /// @param grantedBlock Block of the latest {AccessGranted} event for `buyer` (0: no key delivered yet).
    struct Purchase {
        uint256 paid;
        uint256 fee;
        bool escrowed;
        uint64 boughtAt;
        uint64 grantedBlock;
    }

    /// @notice Emitted after `lister` listed item `id`.
    event ItemListed(
        uint256 indexed id, address indexed lister, Kind indexed kind, string name, uint256 price, bool isPrivate
    );

    /// @notice Emitted after the lister changed the price, description or licence of item `id`.
    event ItemUpdated(uint256 indexed id, uint256 price, string description, string license);

    /// @notice Emitted after the lister delisted item `id`: nobody can buy it any more; buyers keep their rights.
    event ItemDelisted(uint256 indexed id);

    /// @notice Emitted after `buyer` paid `price` for item `id`, `fee` of it to the platform.
    event ItemBought(uint256 indexed id, address indexed buyer, uint256 price, uint256 fee, bool escrowed);

    /// @notice Emitted after the lister delivered item `id`'s content key to `grantee`, sealed to its public key.
    event AccessGranted(uint256 indexed id, address indexed grantee, bytes sealedKey);

    /// @notice Emitted after `buyer` took back `amount` paid for item `id` that was never granted in time.
    event PurchaseReclaimed(uint256 indexed id, address indexed buyer, uint256 amount);

    /// @notice Emitted after `provider` linked its InferenceServing service to model `id`.
    event ServiceLinked(uint256 indexed id, address indexed provider);

    /// @notice Emitted after `provider` unlinked its service from model `id`.
    event ServiceUnlinked(uint256 indexed id, address indexed provider);

    /// @notice Emitted after `account` withdrew `amount` of its proceeds.
    event ProceedsWithdrawn(address indexed account, uint256 amount);

    /// @notice Emitted after the admin set the fee (basis points) and its recipient for future purchases.
    event FeeUpdated(uint256 feeBps, address recipient);

    /// @notice No listing has id `id`.
    error MarketUnknownListing(uint256 id);

    /// @notice Only the lister of `id` may do this.
    error MarketNotLister(uint256 id, address caller);

    /// @notice Listing `id` was delisted.
    error MarketListingInactive(uint256 id);

    /// @notice A purchase must pay exactly `price`.
    error MarketWrongPrice(uint256 id, uint256 price, uint256 paid);

    /// @notice `buyer` already bought (or was granted) listing `id`.
    error MarketAlreadyBought(uint256 id, address buyer);

    /// @notice The lister cannot buy its own listing.
    error MarketListerCannotBuy(uint256 id);

    /// @notice Listing `id` is public: there is no key to grant.
    error MarketNotPrivate(uint256 id);

    /// @notice `buyer` has no escrowed purchase of listing `id` to reclaim.
    error MarketNothingToReclaim(uint256 id, address buyer);

    /// @notice The lister may still grant until `reclaimableAt` (unix seconds).
    error MarketGrantPending(uint256 id, address buyer, uint256 reclaimableAt);

    /// @notice A listing field is empty or longer than allowed (`max` bytes or entries); for "size" (zero) and
    /// "price" (above MAX_PRICE wei) `length` is the value given.
    error MarketInvalidField(string field, uint256 length, uint256 max);

    /// @notice A storage root is zero.
    error MarketZeroRoot(uint256 index);

    /// @notice A sealed key is empty or longer than MAX_SEALED_KEY bytes.
    error MarketInvalidSealedKey(uint256 length);

    /// @notice The zero address cannot be granted to or receive fees.
    error MarketZeroAddress();

    /// @notice Only models are served: listing `id` is a dataset.
    error MarketNotAModel(uint256 id);

    /// @notice `provider` has no InferenceServing service.
    error MarketNoService(address provider);

    /// @notice `provider`'s service serves `served`, not the listing's model name.
    error MarketServiceModelMismatch(uint256 id, address provider, string served);

    /// @notice `provider` may not serve private model `id`: it holds no grant for it.
    error MarketNoAccess(uint256 id, address provider);

    /// @notice `provider` is already (or is not) linked to listing `id`.
    error MarketLinkState(uint256 id, address provider, bool linked);

    /// @notice `account` has no proceeds to withdraw.
    error MarketNothingToWithdraw(address account);

    /// @notice A fee above MAX_FEE_BPS.
    error MarketFeeTooHigh(uint256 feeBps, uint256 max);

    /// @notice A grant timeout of zero (a buyer could reclaim at once) or above 2^64 - 1 seconds.
    error MarketInvalidGrantTimeout(uint256 grantTimeout);

    /// @notice Lists an item; the caller is its lister. Roots are not checked here (the SDK checks them on
    /// Storage before it sends the transaction).
    /// @return id The new listing's id (ids start at 1).
    function list(ListingParams calldata params) external returns (uint256 id);

    /// @notice Changes the price, description and licence of an active listing (roots and privacy are fixed: new
    /// content is a new listing). Only the lister.
    function update(uint256 id, uint256 price, string calldata description, string calldata license) external;

    /// @notice Ends sales of a listing. Only the lister. Buyers keep their rights; pending purchases can still be
    /// granted or reclaimed.
    function delist(uint256 id) external;

    /// @notice Buys an active listing for exactly its price. Private: the payment is escrowed until {grant}.
    function buy(uint256 id) external payable;

    /// @notice Delivers the listing's content key sealed to `grantee`'s public key, releasing an escrowed
    /// purchase to the lister's proceeds; to an address without a purchase it records a free grant. Granting again
    /// re-delivers (the latest event counts). Only the lister; private listings only.
    function grant(uint256 id, address grantee, bytes calldata sealedKey) external;

    /// @notice Takes back an escrowed payment that was not granted within {grantTimeout} of the purchase; the
    /// caller's purchase is erased (it may buy again). Pays the caller.
    function reclaim(uint256 id) external;

    /// @notice Links the caller's InferenceServing service to model `id`: the service must serve the listing's
    /// name, and for a private model the caller must be the lister or hold a grant.
    function linkService(uint256 id) external;

    /// @notice Removes the caller's link to model `id`.
    function unlinkService(uint256 id) external;

    /// @notice Pays the caller its proceeds (sales released to it, fees if it is the fee recipient).
    function withdraw() external returns (uint256 amount);

    /// @notice Sets the fee (basis points of each future purchase, at most MAX_FEE_BPS) and its recipient. Admin.
    function setFee(uint256 feeBps, address recipient) external;

    /// @notice The listing `id`.
    function getListing(uint256 id) external view returns (Listing memory);

    /// @notice How many listings exist (the largest id).
    function listingCount() external view returns (uint256);

    /// @notice Up to `limit` listings from id `offset + 1` on.
    function getListings(uint256 offset, uint256 limit) external view returns (Listing[] memory);

    /// @notice What `buyer` holds of listing `id` (all zero if nothing).
    function purchaseOf(uint256 id, address buyer) external view returns (Purchase memory);

    /// @notice Whether `account` may use listing `id`: its lister, or a buyer or grantee whose purchase stands.
    /// For a private listing a paying buyer also needs its key ({Purchase.grantedBlock}).
    function hasAccess(uint256 id, address account) external view returns (bool);

    /// @notice Providers linked to model `id` whose service is still registered and serves the listing's name.
    function servicesOf(uint256 id) external view returns (address[] memory);

    /// @notice Wei `account` can withdraw.
    function proceeds(address account) external view returns (uint256);

    /// @notice The current fee in basis points and its recipient.
    function fee() external view returns (uint256 feeBps, address recipient);

    /// @notice Seconds a lister has to grant an escrowed purchase before the buyer may reclaim it.
    function grantTimeout() external view returns (uint256);

    /// @notice The InferenceServing contract whose services link to models.
    function serving() external view returns (address);
}
