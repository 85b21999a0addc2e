/**
 * ContributionLedger's ABI, written out by hand so that the typed client works without the build
 * artifact (in the browser, too). test/contracts/abi.test.ts checks it against the compiled ABI.
 */
export const LEDGER_ABI = [
  'function createRun(address coordinator, address token, bytes32 configHash) returns (uint256 runId)',
  'function fund(uint256 runId, uint256 amount) payable',
  'function recordRound(uint256 runId, uint32 round, bytes32 modelHash, uint256 roundTotal, bytes packed, bytes32 cumulativeRoot)',
  'function claim(uint256 runId, address account, uint256 cumulativeAmount, bytes32[] proof) returns (uint256 amount)',
  'function endRun(uint256 runId)',
  'function withdraw(uint256 runId) returns (uint256 amount)',
  'function runCount() view returns (uint256)',
  'function getRun(uint256 runId) view returns (tuple(uint256 runId, address researcher, address coordinator, address token, bool ended, uint32 nextRound, uint32 roundsRecorded, bytes32 root, uint256 funded, uint256 allocated, uint256 claimed, uint256 withdrawn) view_)',
  'function paidOf(uint256 runId, address account) view returns (uint256)',

  'event RunCreated(uint256 indexed runId, address indexed researcher, address indexed coordinator, address token, bytes32 configHash)',
  'event RunFunded(uint256 indexed runId, address indexed from, uint256 amount)',
  'event RoundRecorded(uint256 indexed runId, uint256 indexed round, bytes32 modelHash, uint256 roundTotal, bytes32 cumulativeRoot, bytes packed)',
  'event Claimed(uint256 indexed runId, address indexed account, uint256 amount, uint256 cumulativeAmount)',
  'event RunEnded(uint256 indexed runId, address indexed by)',
  'event Withdrawn(uint256 indexed runId, address indexed to, uint256 amount)',

  'error ZeroAddress()',
  'error ZeroAmount()',
  'error RunNotFound(uint256 runId)',
  'error NotCoordinator(uint256 runId, address caller)',
  'error NotResearcher(uint256 runId, address caller)',
  'error NotResearcherOrCoordinator(uint256 runId, address caller)',
  'error RunAlreadyEnded(uint256 runId)',
  'error RunNotEnded(uint256 runId)',
  'error WrongValue(uint256 expected, uint256 received)',
  'error RoundAlreadyRecorded(uint256 runId, uint256 round, uint256 nextRound)',
  'error BadPacking(uint256 length)',
  'error AllocationExceedsFunds(uint256 runId, uint256 allocated, uint256 funded)',
  'error InvalidProof(uint256 runId, address account, uint256 cumulativeAmount)',
  'error NothingToClaim(uint256 runId, address account)',
  'error ClaimExceedsAllocation(uint256 runId, uint256 claimed, uint256 allocated)',
  'error NothingToWithdraw(uint256 runId)',
  // From OpenZeppelin's libraries, so that their reverts decode too.
  'error ReentrancyGuardReentrantCall()',
  'error SafeERC20FailedOperation(address token)',
  'error SafeCastOverflowedUintDowncast(uint8 bits, uint256 value)',
  'error FailedCall()',
  'error InsufficientBalance(uint256 balance, uint256 needed)',
] as const;

/** The few ERC-20 calls the client needs (funding, balances). */
export const ERC20_ABI = [
  'function approve(address spender, uint256 amount) returns (bool)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function balanceOf(address account) view returns (uint256)',
  'function decimals() view returns (uint8)',
  'function symbol() view returns (string)',
] as const;
