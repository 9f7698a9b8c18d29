// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IInferenceServing} from "../interfaces/IInferenceServing.sol";
import {IMarketplace} from "../interfaces/IMarketplace.sol";

/// @title Marketplace
/// @notice Listings of models and datasets stored on 0G Storage, escrowed purchases, sealed-key grants and the
/// InferenceServing services that serve a listed model. See {IMarketplace}.
/// @dev The InferenceServing binding and the grant timeout are immutable; the admin sets only the fee.
contract Marketplace is IMarketplace, AccessControl, ReentrancyGuard {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice Highest fee, in basis points (10%).
    uint256 public constant MAX_FEE_BPS = 1000;
    /// @notice Basis points of a whole price.
    uint256 public constant BPS = 10_000;
    /// @notice Most storage roots of one item.
    uint256 public constant MAX_ROOTS = 64;
    /// @notice Longest name in bytes (a name is never empty: a served model is found by it).
    uint256 public constant MAX_NAME = 64;
    /// @notice Longest description in bytes.
    uint256 public constant MAX_DESCRIPTION = 1024;
    /// @notice Longest licence in bytes.
    uint256 public constant MAX_LICENSE = 64;
    /// @notice Longest format in bytes.
    uint256 public constant MAX_FORMAT = 64;
    /// @notice Longest sealed key in bytes: room for any ECIES seal of a 32-byte key.
    uint256 public constant MAX_SEALED_KEY = 256;
    /// @notice Highest price in wei: a payment is kept in 128 bits, beyond any native token supply.
    uint256 public constant MAX_PRICE = type(uint128).max;

    /// @dev What {buy} reads and writes lives in the first two slots: lister, kind, flags and sales in one,
    /// price and times in the other.
    struct Item {
        address lister;
        Kind kind;
        bool isPrivate;
        bool active;
        uint72 sales;
        uint128 price;
        uint64 listedAt;
        uint64 updatedAt;
        uint256 size;
        bytes32 contentHash;
        bytes32[] roots;
        string name;
        string description;
        string license;
        string format;
    }

    /// @dev One slot per purchase. The fee rate is kept rather than the fee: the fee is `paid * feeBps / BPS`,
    /// fixed at purchase like the rate.
    struct Record {
        uint128 paid;
        uint16 feeBps;
        bool escrowed;
        uint40 boughtAt;
        uint64 grantedBlock;
    }

    /// @dev The fee and its recipient in one slot: every purchase reads both.
    struct FeeConfig {
        address recipient;
        uint16 feeBps;
    }

    IInferenceServing private immutable _serving;
    uint256 private immutable _grantTimeout;

    FeeConfig private _fee;
    uint256 private _listingCount;
    mapping(uint256 id => Item) private _items;
    mapping(uint256 id => mapping(address buyer => Record)) private _purchases;
    mapping(uint256 id => EnumerableSet.AddressSet) private _linked;
    mapping(address account => uint256) private _proceeds;

    /// @param serving_ The InferenceServing whose services link to models.
    /// @param grantTimeout_ Seconds a lister has to grant an escrowed purchase; positive, at most 2^64 - 1.
    /// @param initialFeeBps The platform fee in basis points, at most MAX_FEE_BPS.
    /// @param feeRecipient Who is credited the fees.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the fee and roles).
    constructor(
        IInferenceServing serving_,
        uint256 grantTimeout_,
        uint256 initialFeeBps,
        address feeRecipient,
        address admin
    ) {
        if (address(serving_) == address(0) || admin == address(0)) revert MarketZeroAddress();
        // Bounded so that a purchase's reclaim time never overflows.
        if (grantTimeout_ == 0 || grantTimeout_ > type(uint64).max) revert MarketInvalidGrantTimeout(grantTimeout_);
        _serving = serving_;
        _grantTimeout = grantTimeout_;
        _setFee(initialFeeBps, feeRecipient);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------- listings

    /// @inheritdoc IMarketplace
    function list(ListingParams calldata params) external returns (uint256 id) {
        uint256 length = bytes(params.name).length;
        if (length == 0 || length > MAX_NAME) revert MarketInvalidField("name", length, MAX_NAME);
        length = bytes(params.description).length;
        if (length > MAX_DESCRIPTION) revert MarketInvalidField("description", length, MAX_DESCRIPTION);
        length = bytes(params.license).length;
        if (length > MAX_LICENSE) revert MarketInvalidField("license", length, MAX_LICENSE);
        length = bytes(params.format).length;
        if (length > MAX_FORMAT) revert MarketInvalidField("format", length, MAX_FORMAT);
        if (params.size == 0) revert MarketInvalidField("size", 0, type(uint256).max);
        if (params.price > MAX_PRICE) revert MarketInvalidField("price", params.price, MAX_PRICE);
        uint256 count = params.roots.length;
        if (count == 0 || count > MAX_ROOTS) revert MarketInvalidField("roots", count, MAX_ROOTS);
        for (uint256 i = 0; i < count; ++i) {
            if (params.roots[i] == bytes32(0)) revert MarketZeroRoot(i);
        }

        id = ++_listingCount;
        Item storage item = _items[id];
        item.lister = msg.sender;
        item.kind = params.kind;
        item.isPrivate = params.isPrivate;
        item.active = true;
        // price <= MAX_PRICE was checked; timestamps fit 64 bits.
        item.price = uint128(params.price);
        item.listedAt = uint64(block.timestamp);
        item.updatedAt = uint64(block.timestamp);
        item.size = params.size;
        item.contentHash = params.contentHash;
        item.roots = params.roots;
        item.name = params.name;
        item.description = params.description;
        item.license = params.license;
        item.format = params.format;
        emit ItemListed(id, msg.sender, params.kind, params.name, params.price, params.isPrivate);
    }

    /// @inheritdoc IMarketplace
    function update(uint256 id, uint256 price, string calldata description, string calldata license) external {
        Item storage item = _listerOf(id);
        if (price > MAX_PRICE) revert MarketInvalidField("price", price, MAX_PRICE);
        if (bytes(description).length > MAX_DESCRIPTION) {
            revert MarketInvalidField("description", bytes(description).length, MAX_DESCRIPTION);
        }
        if (bytes(license).length > MAX_LICENSE) {
            revert MarketInvalidField("license", bytes(license).length, MAX_LICENSE);
        }
        item.price = uint128(price);
        item.updatedAt = uint64(block.timestamp);
        item.description = description;
        item.license = license;
        emit ItemUpdated(id, price, description, license);
    }

    /// @inheritdoc IMarketplace
    function delist(uint256 id) external {
        Item storage item = _listerOf(id);
        item.active = false;
        emit ItemDelisted(id);
    }

    // ---------------------------------------------------------------- purchases

    /// @inheritdoc IMarketplace
    function buy(uint256 id) external payable {
        Item storage item = _activeOf(id);
        address lister = item.lister;
        if (msg.sender == lister) revert MarketListerCannotBuy(id);
        uint256 price = item.price;
        if (msg.value != price) revert MarketWrongPrice(id, price, msg.value);
        Record storage record = _purchases[id][msg.sender];
        if (_holds(record)) revert MarketAlreadyBought(id, msg.sender);

        FeeConfig memory config = _fee;
        bool escrowed = item.isPrivate;
        // price <= MAX_PRICE (checked when set); the timestamp fits 40 bits for the next 30,000 years.
        _purchases[id][msg.sender] = Record({
            paid: uint128(price),
            feeBps: config.feeBps,
            escrowed: escrowed,
            boughtAt: uint40(block.timestamp),
            grantedBlock: 0
        });
        ++item.sales;
        uint256 platformFee = price * config.feeBps / BPS;
        if (!escrowed) _release(lister, config.recipient, price, platformFee);
        emit ItemBought(id, msg.sender, price, platformFee, escrowed);
    }

    /// @inheritdoc IMarketplace
    function grant(uint256 id, address grantee, bytes calldata sealedKey) external {
        Item storage item = _itemOf(id);
        address lister = item.lister;
        if (lister != msg.sender) revert MarketNotLister(id, msg.sender);
        if (!item.isPrivate) revert MarketNotPrivate(id);
        if (grantee == address(0)) revert MarketZeroAddress();
        if (sealedKey.length == 0 || sealedKey.length > MAX_SEALED_KEY) revert MarketInvalidSealedKey(sealedKey.length);

        Record memory record = _purchases[id][grantee];
        if (record.escrowed) {
            record.escrowed = false;
            _release(lister, _fee.recipient, record.paid, _feeOf(record));
        }
        // Block numbers fit 64 bits.
        record.grantedBlock = uint64(block.number);
        _purchases[id][grantee] = record;
        emit AccessGranted(id, grantee, sealedKey);
    }

    /// @inheritdoc IMarketplace
    function reclaim(uint256 id) external nonReentrant {
        Record memory record = _purchases[id][msg.sender];
        if (!record.escrowed) revert MarketNothingToReclaim(id, msg.sender);
        uint256 reclaimableAt = record.boughtAt + _grantTimeout;
        if (block.timestamp < reclaimableAt) revert MarketGrantPending(id, msg.sender, reclaimableAt);

        delete _purchases[id][msg.sender];
        --_items[id].sales;
        emit PurchaseReclaimed(id, msg.sender, record.paid);
        Address.sendValue(payable(msg.sender), record.paid);
    }

    // ---------------------------------------------------------------- served models

    /// @inheritdoc IMarketplace
    function linkService(uint256 id) external {
        Item storage item = _activeOf(id);
        if (item.kind != Kind.Model) revert MarketNotAModel(id);
        if (!_serving.isRegistered(msg.sender)) revert MarketNoService(msg.sender);
        string memory served = _serving.getService(msg.sender).model;
        if (keccak256(bytes(served)) != keccak256(bytes(item.name))) {
            revert MarketServiceModelMismatch(id, msg.sender, served);
        }
        if (item.isPrivate && !hasAccess(id, msg.sender)) revert MarketNoAccess(id, msg.sender);
        if (!_linked[id].add(msg.sender)) revert MarketLinkState(id, msg.sender, true);
        emit ServiceLinked(id, msg.sender);
    }

    /// @inheritdoc IMarketplace
    function unlinkService(uint256 id) external {
        if (!_linked[id].remove(msg.sender)) revert MarketLinkState(id, msg.sender, false);
        emit ServiceUnlinked(id, msg.sender);
    }

    // ---------------------------------------------------------------- money

    /// @inheritdoc IMarketplace
    function withdraw() external nonReentrant returns (uint256 amount) {
        amount = _proceeds[msg.sender];
        if (amount == 0) revert MarketNothingToWithdraw(msg.sender);
        _proceeds[msg.sender] = 0;
        emit ProceedsWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc IMarketplace
    function setFee(uint256 feeBps, address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFee(feeBps, recipient);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IMarketplace
    function getListing(uint256 id) public view returns (Listing memory listing) {
        Item storage item = _itemOf(id);
        listing = Listing({
            id: id,
            lister: item.lister,
            kind: item.kind,
            isPrivate: item.isPrivate,
            active: item.active,
            listedAt: item.listedAt,
            updatedAt: item.updatedAt,
            price: item.price,
            size: item.size,
            sales: item.sales,
            contentHash: item.contentHash,
            roots: item.roots,
            name: item.name,
            description: item.description,
            license: item.license,
            format: item.format
        });
    }

    /// @inheritdoc IMarketplace
    function listingCount() external view returns (uint256) {
        return _listingCount;
    }

    /// @inheritdoc IMarketplace
    function getListings(uint256 offset, uint256 limit) external view returns (Listing[] memory listings) {
        uint256 total = _listingCount;
        uint256 end = offset >= total ? offset : (limit > total - offset ? total : offset + limit);
        listings = new Listing[](end - offset);
        for (uint256 i = offset; i < end; ++i) {
            listings[i - offset] = getListing(i + 1);
        }
    }

    /// @inheritdoc IMarketplace
    function purchaseOf(uint256 id, address buyer) external view returns (Purchase memory) {
        Record memory record = _purchases[id][buyer];
        return Purchase({
            paid: record.paid,
            fee: _feeOf(record),
            escrowed: record.escrowed,
            boughtAt: record.boughtAt,
            grantedBlock: record.grantedBlock
        });
    }

    /// @inheritdoc IMarketplace
    function hasAccess(uint256 id, address account) public view returns (bool) {
        Item storage item = _items[id];
        address lister = item.lister;
        if (lister == address(0)) return false;
        if (account == lister) return true;
        Record storage record = _purchases[id][account];
        if (!_holds(record)) return false;
        return !item.isPrivate || record.grantedBlock != 0;
    }

    /// @inheritdoc IMarketplace
    function servicesOf(uint256 id) external view returns (address[] memory providers) {
        EnumerableSet.AddressSet storage linked = _linked[id];
        uint256 count = linked.length();
        providers = new address[](count);
        if (count == 0) return providers;
        bytes32 name = keccak256(bytes(_items[id].name));
        uint256 kept;
        for (uint256 i = 0; i < count; ++i) {
            address provider = linked.at(i);
            if (!_serving.isRegistered(provider)) continue;
            if (keccak256(bytes(_serving.getService(provider).model)) != name) continue;
            providers[kept++] = provider;
        }
        // Drops the slots of the providers left out.
        assembly ("memory-safe") {
            mstore(providers, kept)
        }
    }

    /// @inheritdoc IMarketplace
    function proceeds(address account) external view returns (uint256) {
        return _proceeds[account];
    }

    /// @inheritdoc IMarketplace
    function fee() external view returns (uint256 feeBps, address recipient) {
        FeeConfig memory config = _fee;
        return (config.feeBps, config.recipient);
    }

    /// @inheritdoc IMarketplace
    function grantTimeout() external view returns (uint256) {
        return _grantTimeout;
    }

    /// @inheritdoc IMarketplace
    function serving() external view returns (address) {
        return address(_serving);
    }

    // ---------------------------------------------------------------- internals

    function _setFee(uint256 feeBps, address recipient) private {
        if (feeBps > MAX_FEE_BPS) revert MarketFeeTooHigh(feeBps, MAX_FEE_BPS);
        if (recipient == address(0)) revert MarketZeroAddress();
        // feeBps <= MAX_FEE_BPS fits 16 bits.
        _fee = FeeConfig({recipient: recipient, feeBps: uint16(feeBps)});
        emit FeeUpdated(feeBps, recipient);
    }

    /// @dev Credits a released payment: the fee to the fee recipient, the rest to the lister.
    function _release(address lister, address recipient, uint256 paid, uint256 platformFee) private {
        _proceeds[lister] += paid - platformFee;
        if (platformFee != 0) _proceeds[recipient] += platformFee;
    }

    /// @dev A listing exists once it has a lister (never zero: the lister is its sender), which saves reading
    /// the count.
    function _itemOf(uint256 id) private view returns (Item storage item) {
        item = _items[id];
        if (item.lister == address(0)) revert MarketUnknownListing(id);
    }

    /// @dev The active listing `id` of the caller.
    function _listerOf(uint256 id) private view returns (Item storage item) {
        item = _itemOf(id);
        if (item.lister != msg.sender) revert MarketNotLister(id, msg.sender);
        if (!item.active) revert MarketListingInactive(id);
    }

    function _activeOf(uint256 id) private view returns (Item storage item) {
        item = _itemOf(id);
        if (!item.active) revert MarketListingInactive(id);
    }

    /// @dev A purchase stands once bought or granted; reclaiming erases it.
    function _holds(Record storage record) private view returns (bool) {
        return record.boughtAt != 0 || record.grantedBlock != 0;
    }

    function _feeOf(Record memory record) private pure returns (uint256) {
        return uint256(record.paid) * record.feeBps / BPS;
    }
}
