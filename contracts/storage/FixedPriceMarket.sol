// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IMarket} from "../interfaces/IMarket.sol";
import {IReward} from "../interfaces/IReward.sol";

/// @title FixedPriceMarket
/// @notice One admin-set price per sector; every fee goes straight on to the reward pool. See {IMarket}.
/// @dev The flow is deployed after the market, so the deployer passes its CREATE address, computed from its own
/// nonce (scripts/deploy.py checks the prediction). Both bindings are immutable: no setter exists.
contract FixedPriceMarket is IMarket, AccessControl {
    address private immutable _flow;
    IReward private immutable _reward;
    uint256 private _pricePerSector;

    /// @param initialPricePerSector Wei per sector (zero makes storage free).
    /// @param flow_ The only caller of `chargeFee`.
    /// @param reward_ The reward pool the fees go to.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (price, roles).
    constructor(uint256 initialPricePerSector, address flow_, address reward_, address admin) {
        if (flow_ == address(0) || reward_ == address(0) || admin == address(0)) revert MarketZeroAddress();
        _flow = flow_;
        _reward = IReward(reward_);
        _pricePerSector = initialPricePerSector;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IMarket
    function chargeFee(uint256 beforeLength, uint256 uploadSectors, uint256 paddingSectors) external payable {
        if (msg.sender != _flow) revert MarketCallerNotFlow(msg.sender);
        uint256 expected = uploadSectors * _pricePerSector;
        if (msg.value != expected) revert MarketIncorrectFee(expected, msg.value);
        emit FeeCharged(beforeLength, uploadSectors, paddingSectors, msg.value);
        if (msg.value != 0) _reward.fillReward{value: msg.value}(beforeLength, uploadSectors + paddingSectors);
    }

    /// @inheritdoc IMarket
    function setPricePerSector(uint256 newPrice) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 previousPrice = _pricePerSector;
        _pricePerSector = newPrice;
        emit PriceUpdated(previousPrice, newPrice);
    }

    /// @inheritdoc IMarket
    function pricePerSector() external view returns (uint256) {
        return _pricePerSector;
    }

    /// @inheritdoc IMarket
    function flow() external view returns (address) {
        return _flow;
    }

    /// @inheritdoc IMarket
    function reward() external view returns (address) {
        return address(_reward);
    }
}
