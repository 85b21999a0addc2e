/**
 * The few calls of the ERC-20 standard the ledger client needs (funding a token run, balances).
 * Human-readable, since it is a subset of a standard interface, not of our contract: our
 * contract's ABI is generated from the compiler's output (ledger-abi.ts).
 */
export const ERC20_ABI = [
  'function approve(address spender, uint256 amount) returns (bool)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function balanceOf(address account) view returns (uint256)',
  'function decimals() view returns (uint8)',
  'function symbol() view returns (string)',
] as const;
