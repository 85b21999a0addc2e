// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IContributionLedger
 * @notice The ledger's external surface: what the coordinator, the workers and anyone auditing a
 * run call or read. ContributionLedger.sol implements it. The TypeScript ABI the clients use
 * (contracts/ledger-abi.ts) is generated from the compiler's output by scripts/build-contracts.mjs,
 * never written by hand.
 */
interface IContributionLedger {
    /// What `getRun` returns: the stored run plus its id.
    struct RunView {
        uint256 runId;
        address researcher;
        address coordinator;
        address token;
        bool ended;
        uint32 nextRound;
        uint32 roundsRecorded;
        /// The root claims are checked against now (a pending root once its window has passed).
        bytes32 root;
        /// The root waiting out its challenge window; zero when none.
        bytes32 pendingRoot;
        /// When `pendingRoot` becomes claimable (unix seconds); 0 when none is pending.
        uint256 claimableAt;
        uint32 challengeWindow;
        /// A challenge rejected a root: no recording until the researcher calls unfreezeRun.
        bool frozen;
        uint256 funded;
        uint256 allocated;
        uint256 claimed;
        uint256 withdrawn;
    }

    event RunCreated(
        uint256 indexed runId,
        address indexed researcher,
        address indexed coordinator,
        address token,
        bytes32 configHash,
        uint32 challengeWindow
    );
    event RunFunded(uint256 indexed runId, address indexed from, uint256 amount);
    /// `packed` is abi.encodePacked of (address worker, uint96 amount) pairs: 32 bytes per worker.
    event RoundRecorded(
        uint256 indexed runId,
        uint256 indexed round,
        bytes32 modelHash,
        uint256 roundTotal,
        bytes32 cumulativeRoot,
        bytes packed
    );
    /// Emitted with RoundRecorded when the round was paid by a contribution-quality rule: the root of
    /// the round's scoring-group assignment (leaves (worker, group index)) and `scoring`, the
    /// ABI-encoded record of the group scores, the rule's parameters and each worker's credited
    /// work (coordinator/contribution/scoring-record.ts) from which anyone can recompute the list.
    event RoundScored(uint256 indexed runId, uint256 indexed round, bytes32 assignmentRoot, bytes scoring);
    event Claimed(uint256 indexed runId, address indexed account, uint256 amount, uint256 cumulativeAmount);
    /// A fraud proof rejected `rejectedRoot`: `account` had `claimableAmount` under `claimableRoot`
    /// and only `pendingAmount` under the rejected one. The run is frozen from here.
    event RootRejected(
        uint256 indexed runId,
        address indexed challenger,
        bytes32 rejectedRoot,
        bytes32 claimableRoot,
        address account,
        uint256 claimableAmount,
        uint256 pendingAmount
    );
    /// The researcher lifted a freeze; `coordinator` records from now on (may equal `previousCoordinator`).
    event RunUnfrozen(uint256 indexed runId, address indexed by, address previousCoordinator, address coordinator);
    event RunEnded(uint256 indexed runId, address indexed by);
    event Withdrawn(uint256 indexed runId, address indexed to, uint256 amount);

    error ZeroAddress();
    error ZeroAmount();
    error RunNotFound(uint256 runId);
    error NotCoordinator(uint256 runId, address caller);
    error NotResearcher(uint256 runId, address caller);
    error NotResearcherOrCoordinator(uint256 runId, address caller);
    error RunAlreadyEnded(uint256 runId);
    error RunNotEnded(uint256 runId);
    error WrongValue(uint256 expected, uint256 received);
    /// `round` is below `nextRound`: it, or a later round, is already recorded. Roots are cumulative,
    /// so an older round can never be recorded after a newer one.
    error RoundAlreadyRecorded(uint256 runId, uint256 round, uint256 nextRound);
    error BadPacking(uint256 length);
    error AllocationExceedsFunds(uint256 runId, uint256 allocated, uint256 funded);
    error InvalidProof(uint256 runId, address account, uint256 cumulativeAmount);
    error NothingToClaim(uint256 runId, address account);
    /// The roots promise more than was allocated: only a faulty coordinator can cause this.
    error ClaimExceedsAllocation(uint256 runId, uint256 claimed, uint256 allocated);
    error NothingToWithdraw(uint256 runId);
    /// A challenge rejected a pending root; recording waits for the researcher's unfreezeRun.
    error RunFrozen(uint256 runId);
    error RunNotFrozen(uint256 runId);
    /// challengeRoot with no pending root (none recorded, a window of 0, or it became claimable).
    error NoPendingRoot(uint256 runId);
    /// The pending root's window ended at `claimableAt`: it is claimable and can no longer be challenged.
    error ChallengeWindowClosed(uint256 runId, uint256 claimableAt);
    /// Not a fraud: the pending amount is not below the claimable one.
    error ChallengeNotLower(uint256 runId, address account, uint256 claimableAmount, uint256 pendingAmount);
    /// The leaf (account, cumulativeAmount) is not under `root` with the proof given.
    error ChallengeProofInvalid(uint256 runId, bytes32 root, address account, uint256 cumulativeAmount);

    /// `challengeWindow`: seconds each new root stays pending and open to challengeRoot (0: none).
    function createRun(
        address coordinator,
        address token,
        bytes32 configHash,
        uint32 challengeWindow
    ) external returns (uint256 runId);

    /// ETH runs take `amount` as msg.value; token runs pull it from the caller (approve first).
    function fund(uint256 runId, uint256 amount) external payable;

    /// Coordinator only. `cumulativeRoot` covers every worker's total over all rounds so far.
    /// A non-empty `scoring` is emitted in RoundScored with `assignmentRoot` (empty: no scoring).
    function recordRound(
        uint256 runId,
        uint32 round,
        bytes32 modelHash,
        uint256 roundTotal,
        bytes calldata packed,
        bytes32 cumulativeRoot,
        bytes32 assignmentRoot,
        bytes calldata scoring
    ) external;

    /// Pays `account` (whoever sends it) its cumulative amount less what it was already paid.
    function claim(uint256 runId, address account, uint256 cumulativeAmount, bytes32[] calldata proof) external returns (uint256 amount);

    /// Anyone, inside the window: a leaf under the claimable root and a smaller one for the same
    /// account under the pending root reject the pending root and freeze the run.
    function challengeRoot(
        uint256 runId,
        address account,
        uint256 claimableAmount,
        bytes32[] calldata claimableProof,
        uint256 pendingAmount,
        bytes32[] calldata pendingProof
    ) external;

    /// Researcher only, on a frozen run: lifts the freeze; `coordinator` records from now on.
    function unfreezeRun(uint256 runId, address coordinator) external;

    /// Researcher or coordinator: no more funding or rounds; claims stay open.
    function endRun(uint256 runId) external;

    /// Researcher only, once ended: the never-allocated funds.
    function withdraw(uint256 runId) external returns (uint256 amount);

    function runCount() external view returns (uint256);

    function getRun(uint256 runId) external view returns (RunView memory view_);

    function paidOf(uint256 runId, address account) external view returns (uint256);
}
