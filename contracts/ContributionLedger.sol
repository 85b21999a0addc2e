// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IContributionLedger} from "./IContributionLedger.sol";

/**
 * @title ContributionLedger
 * @notice Records each federated-learning round's contributions and lets workers pull their rewards.
 *
 * A researcher creates a run, naming the one coordinator address allowed to record and the reward
 * token (address(0) for ETH), then funds it. After each round the coordinator records:
 *  - the round's (worker, amount) list, only emitted in `RoundRecorded` so that anyone can check it;
 *  - `roundTotal`, the coordinator's claim of that list's sum, added to the run's allocation;
 *  - the Merkle root of every worker's CUMULATIVE amount over all rounds so far.
 * A worker claims with a proof against the claimable root and is paid the difference between that
 * cumulative amount and what it was already paid, so one claim at the end collects every round.
 *
 * Challenge window: a run created with `challengeWindow` > 0 seconds holds each new root as
 * pending; it becomes claimable `challengeWindow` seconds after it was recorded, and until then
 * claims use the previous claimable root. Recording again inside the window replaces the pending
 * root and restarts the window. Cumulative amounts may only grow, so during the window anyone may
 * call `challengeRoot` with one address's leaf under the claimable root and its leaf under the
 * pending root with a smaller amount: the pending root is rejected, the claimable root stays, and
 * the run is frozen (no recording) until its researcher calls `unfreezeRun`, naming the coordinator
 * to record from then on. A window of 0 makes every root claimable at once (the demo chain).
 *
 * Trust: the list is not summed on-chain (that would cost gas linear in workers); the contract
 * instead bounds what a wrong coordinator can do. Allocation never exceeds funding, and claims never
 * exceed allocation, so the researcher's unallocated funds stay safe whatever the roots say. The
 * events let anyone rebuild every root and check every `roundTotal` off-chain.
 *
 * Leaves follow the StandardMerkleTree of OpenZeppelin's merkle-tree library with leaf types
 * ['address', 'uint256']: keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount)))).
 */
/// Its external surface (functions, events, errors, RunView) is IContributionLedger.sol; the
/// TypeScript ABI is generated from this contract's compiled ABI (scripts/build-contracts.mjs).
contract ContributionLedger is IContributionLedger, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// Slots are grouped by who reads them together: recordRound touches slots 0–3 and writes three
    /// of them whatever the number of workers; claim reads root, allocated/claimed and token.
    struct Run {
        // slot 0
        address coordinator;
        uint32 nextRound; // lowest round number that may still be recorded
        uint32 roundsRecorded;
        bool ended;
        bool frozen; // a challenge rejected a pending root; the researcher must unfreezeRun
        // slot 1
        bytes32 root; // the claimable root
        // slot 2
        uint128 allocated;
        uint128 claimed;
        // slot 3
        uint128 funded;
        uint128 withdrawn;
        // slot 4: claim reads token; recordRound reads the window and, with one, the pending time
        address token;
        uint64 pendingSince; // when pendingRoot was recorded; 0 when nothing is pending
        uint32 challengeWindow; // seconds; 0: roots are claimable at once
        // slot 5
        address researcher;
        // slot 6
        bytes32 pendingRoot;
    }

    uint256 private _runCount;
    mapping(uint256 runId => Run) private _runs;
    mapping(uint256 runId => mapping(address account => uint256)) private _paid;

    /**
     * @notice Creates a run owned by the caller.
     * @param coordinator the only address allowed to record rounds.
     * @param token the ERC-20 paid out, or address(0) for ETH.
     * @param configHash a commitment to the run's off-chain settings (allowlist, caps, rate); only emitted.
     * @param challengeWindow seconds a new root waits, open to challenges, before it is claimable (0: none).
     */
    function createRun(
        address coordinator,
        address token,
        bytes32 configHash,
        uint32 challengeWindow
    ) external returns (uint256 runId) {
        if (coordinator == address(0)) revert ZeroAddress();
        runId = ++_runCount;
        Run storage run = _runs[runId];
        run.researcher = msg.sender;
        run.coordinator = coordinator;
        run.token = token;
        run.challengeWindow = challengeWindow;
        emit RunCreated(runId, msg.sender, coordinator, token, configHash, challengeWindow);
    }

    /**
     * @notice Adds `amount` to a run. ETH runs take it as msg.value (which must equal `amount`);
     * token runs pull it with transferFrom and credit what actually arrived. Anyone may fund;
     * whatever is never allocated goes back to the researcher.
     */
    function fund(uint256 runId, uint256 amount) external payable nonReentrant {
        Run storage run = _existing(runId);
        if (run.ended) revert RunAlreadyEnded(runId);
        if (amount == 0) revert ZeroAmount();
        address token = run.token;
        if (token == address(0)) {
            if (msg.value != amount) revert WrongValue(amount, msg.value);
        } else {
            if (msg.value != 0) revert WrongValue(0, msg.value);
            // Interaction first is deliberate here: crediting the measured balance change is the
            // only way to be right for fee-on-transfer tokens. nonReentrant covers the ordering.
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
            amount = IERC20(token).balanceOf(address(this)) - before;
            if (amount == 0) revert ZeroAmount();
        }
        run.funded = SafeCast.toUint128(uint256(run.funded) + amount);
        emit RunFunded(runId, msg.sender, amount);
    }

    /**
     * @notice Records one round. Only the run's coordinator; each round at most once, in increasing
     * order (gaps allowed, for rounds that failed). Storage writes are constant in the number of workers:
     * the list itself is only validated for shape and emitted.
     * @param packed abi.encodePacked((address worker, uint96 amount)[]) for this round.
     * @param roundTotal the sum of the amounts in `packed`; checked off-chain, bounded on-chain by funding.
     * @param cumulativeRoot root over (worker, cumulative amount over all rounds up to this one).
     * @param assignmentRoot root of the round's scoring-group assignment; emitted only with `scoring`.
     * @param scoring the round's published scoring record, only emitted (RoundScored); empty without a quality rule.
     */
    function recordRound(
        uint256 runId,
        uint32 round,
        bytes32 modelHash,
        uint256 roundTotal,
        bytes calldata packed,
        bytes32 cumulativeRoot,
        bytes32 assignmentRoot,
        bytes calldata scoring
    ) external {
        Run storage run = _existing(runId);
        if (msg.sender != run.coordinator) revert NotCoordinator(runId, msg.sender);
        if (run.ended) revert RunAlreadyEnded(runId);
        if (run.frozen) revert RunFrozen(runId);
        if (round < run.nextRound) revert RoundAlreadyRecorded(runId, round, run.nextRound);
        if (packed.length % 32 != 0) revert BadPacking(packed.length);
        uint256 allocated = uint256(run.allocated) + roundTotal;
        if (allocated > run.funded) revert AllocationExceedsFunds(runId, allocated, run.funded);

        run.nextRound = round + 1; // a round of type(uint32).max cannot be followed; it overflows and reverts
        run.roundsRecorded += 1;
        run.allocated = uint128(allocated); // fits: bounded by funded, a uint128
        uint256 window = run.challengeWindow;
        if (window == 0) {
            run.root = cumulativeRoot;
        } else {
            // A pending root whose window has passed unchallenged becomes the claimable one first.
            uint256 since = run.pendingSince;
            if (since != 0 && block.timestamp >= since + window) run.root = run.pendingRoot;
            run.pendingRoot = cumulativeRoot;
            run.pendingSince = uint64(block.timestamp);
        }
        emit RoundRecorded(runId, round, modelHash, roundTotal, cumulativeRoot, packed);
        if (scoring.length != 0) emit RoundScored(runId, round, assignmentRoot, scoring);
    }

    /**
     * @notice Pays `account` what the latest root grants it beyond what it was already paid.
     * Anyone may submit (a relayer can pay the gas for a volunteer with no ETH), but the funds only
     * ever go to `account`, and the amount is fixed by the proof, so submitting for someone else
     * can only help them.
     */
    function claim(
        uint256 runId,
        address account,
        uint256 cumulativeAmount,
        bytes32[] calldata proof
    ) external nonReentrant returns (uint256 amount) {
        Run storage run = _runs[runId];
        uint256 paid = _paid[runId][account];
        if (cumulativeAmount <= paid) revert NothingToClaim(runId, account);
        if (!MerkleProof.verifyCalldata(proof, _claimableRoot(run), _leaf(account, cumulativeAmount))) {
            revert InvalidProof(runId, account, cumulativeAmount);
        }
        amount = cumulativeAmount - paid;
        uint256 claimed = uint256(run.claimed) + amount;
        if (claimed > run.allocated) revert ClaimExceedsAllocation(runId, claimed, run.allocated);

        _paid[runId][account] = cumulativeAmount;
        run.claimed = uint128(claimed); // fits: bounded by allocated, a uint128
        emit Claimed(runId, account, amount, cumulativeAmount);

        _pay(run.token, account, amount);
    }

    /**
     * @notice Rejects the pending root with a fraud proof: `account` has `claimableAmount` under the
     * claimable root and a smaller `pendingAmount` under the pending root, which cumulative rewards
     * forbid. Anyone may submit, only inside the window. The claimable root stays; the run is frozen.
     */
    function challengeRoot(
        uint256 runId,
        address account,
        uint256 claimableAmount,
        bytes32[] calldata claimableProof,
        uint256 pendingAmount,
        bytes32[] calldata pendingProof
    ) external {
        if (pendingAmount >= claimableAmount) revert ChallengeNotLower(runId, account, claimableAmount, pendingAmount);
        Run storage run = _challengeable(runId);
        bytes32 pending = run.pendingRoot;
        _requireLeaf(runId, run.root, account, claimableAmount, claimableProof);
        _requireLeaf(runId, pending, account, pendingAmount, pendingProof);
        run.pendingRoot = bytes32(0);
        run.pendingSince = 0;
        run.frozen = true;
        emit RootRejected(runId, msg.sender, pending, run.root, account, claimableAmount, pendingAmount);
    }

    /**
     * @notice Lifts a challenge's freeze: only the researcher, only on a frozen run. `coordinator`
     * records from now on (the same address to keep it, another to replace a coordinator caught
     * lowering a reward). Its next root must build on the claimable root, and is pending as usual.
     */
    function unfreezeRun(uint256 runId, address coordinator) external {
        Run storage run = _existing(runId);
        if (msg.sender != run.researcher) revert NotResearcher(runId, msg.sender);
        if (!run.frozen) revert RunNotFrozen(runId);
        if (coordinator == address(0)) revert ZeroAddress();
        address previous = run.coordinator;
        run.frozen = false;
        run.coordinator = coordinator;
        emit RunUnfrozen(runId, msg.sender, previous, coordinator);
    }

    /// @notice Ends a run: no more funding or rounds. Claims stay open. Researcher or coordinator.
    function endRun(uint256 runId) external {
        Run storage run = _existing(runId);
        if (msg.sender != run.researcher && msg.sender != run.coordinator) {
            revert NotResearcherOrCoordinator(runId, msg.sender);
        }
        if (run.ended) revert RunAlreadyEnded(runId);
        run.ended = true;
        emit RunEnded(runId, msg.sender);
    }

    /// @notice Sends the researcher everything never allocated. Only the researcher, only once ended.
    function withdraw(uint256 runId) external nonReentrant returns (uint256 amount) {
        Run storage run = _existing(runId);
        if (msg.sender != run.researcher) revert NotResearcher(runId, msg.sender);
        if (!run.ended) revert RunNotEnded(runId);
        amount = uint256(run.funded) - run.allocated - run.withdrawn;
        if (amount == 0) revert NothingToWithdraw(runId);

        run.withdrawn += uint128(amount); // fits: withdrawn + amount <= funded
        emit Withdrawn(runId, msg.sender, amount);

        _pay(run.token, msg.sender, amount);
    }

    /// @notice Number of runs created; run ids are 1..runCount.
    function runCount() external view returns (uint256) {
        return _runCount;
    }

    function getRun(uint256 runId) external view returns (RunView memory view_) {
        Run storage run = _existing(runId);
        view_ = RunView({
            runId: runId,
            researcher: run.researcher,
            coordinator: run.coordinator,
            token: run.token,
            ended: run.ended,
            nextRound: run.nextRound,
            roundsRecorded: run.roundsRecorded,
            root: _claimableRoot(run),
            pendingRoot: _isPending(run) ? run.pendingRoot : bytes32(0),
            claimableAt: _isPending(run) ? uint256(run.pendingSince) + run.challengeWindow : 0,
            challengeWindow: run.challengeWindow,
            frozen: run.frozen,
            funded: run.funded,
            allocated: run.allocated,
            claimed: run.claimed,
            withdrawn: run.withdrawn
        });
    }

    /// @notice Cumulative amount already paid to `account` in `runId`.
    function paidOf(uint256 runId, address account) external view returns (uint256) {
        return _paid[runId][account];
    }

    function _existing(uint256 runId) private view returns (Run storage run) {
        run = _runs[runId];
        if (run.researcher == address(0)) revert RunNotFound(runId);
    }

    /// A root is pending from its recording until its window has passed.
    function _isPending(Run storage run) private view returns (bool) {
        uint256 since = run.pendingSince;
        return since != 0 && block.timestamp < since + run.challengeWindow;
    }

    /// The root claims are checked against: the pending one once its window has passed, else the stored one.
    function _claimableRoot(Run storage run) private view returns (bytes32) {
        uint256 since = run.pendingSince;
        if (since != 0 && block.timestamp >= since + run.challengeWindow) return run.pendingRoot;
        return run.root;
    }

    /// A run whose pending root is still inside its challenge window.
    function _challengeable(uint256 runId) private view returns (Run storage run) {
        run = _existing(runId);
        uint256 since = run.pendingSince;
        if (since == 0) revert NoPendingRoot(runId);
        uint256 claimableAt = since + run.challengeWindow;
        if (block.timestamp >= claimableAt) revert ChallengeWindowClosed(runId, claimableAt);
    }

    function _requireLeaf(uint256 runId, bytes32 root, address account, uint256 amount, bytes32[] calldata proof) private pure {
        if (!MerkleProof.verifyCalldata(proof, root, _leaf(account, amount))) {
            revert ChallengeProofInvalid(runId, root, account, amount);
        }
    }

    function _leaf(address account, uint256 cumulativeAmount) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
    }

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            Address.sendValue(payable(to), amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
