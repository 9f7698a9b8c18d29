// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IMarket
/// @notice Prices flow space and passes every storage fee on to the reward pool. The 0G SDK reads
/// `pricePerSector()` (0x61ec5082) to compute the fee it attaches to `IFlow.submit`.
/// @dev The flow and the reward pool are fixed at construction; nothing can re-bind them.
interface IMarket {
    /// @notice Emitted after the admin changed the price.
    event PriceUpdated(uint256 previousPrice, uint256 newPrice);

    /// @notice Emitted after the flow paid `fee` for `uploadSectors` file sectors placed after `paddingSectors` of
    /// padding, starting at flow position `beforeLength`; the fee is then forwarded to the reward pool.
    event FeeCharged(uint256 beforeLength, uint256 uploadSectors, uint256 paddingSectors, uint256 fee);

    /// @notice A constructor address argument was the zero address.
    error MarketZeroAddress();

    /// @notice Only the flow may charge fees; `caller` is not it.
    error MarketCallerNotFlow(address caller);

    /// @notice The attached value must be pricePerSector × uploadSectors: `expected` wei, got `received`.
    error MarketIncorrectFee(uint256 expected, uint256 received);

    /// @notice Takes the fee for a submission and forwards it to the reward pool, attributed to the flow range
    /// [beforeLength, beforeLength + paddingSectors + uploadSectors).
    /// @dev Only the flow. Padding is not charged but shares the fee, like 0G's FixedPrice market.
    /// @param beforeLength The flow length before the submission.
    /// @param uploadSectors The sectors the files occupy (charged).
    /// @param paddingSectors The padding placed before them (free).
    function chargeFee(uint256 beforeLength, uint256 uploadSectors, uint256 paddingSectors) external payable;

    /// @notice Sets the price per sector. Only DEFAULT_ADMIN_ROLE. Zero makes storage free.
    /// @dev Admin power (ROLES.md): the price of every future upload, nothing already paid. At a price of 0 anyone
    /// can append for free; the Flow's node height cap (2^32 sectors a node) keeps that from filling the flow in a few
    /// transactions.
    /// @param newPrice Wei per 256-byte sector.
    function setPricePerSector(uint256 newPrice) external;

    /// @notice Wei per 256-byte sector.
    function pricePerSector() external view returns (uint256);

    /// @notice The only address allowed to call `chargeFee`.
    function flow() external view returns (address);

    /// @notice The reward pool the fees go to.
    function reward() external view returns (address);
}
