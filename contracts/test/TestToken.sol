// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A plain ERC-20 for tests and the local demo: anyone may mint.
contract TestToken is ERC20 {
    constructor() ERC20("Cohort Test Token", "CTT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
