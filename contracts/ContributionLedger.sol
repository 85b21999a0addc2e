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
 * A worker claims with a proof against the latest root and is paid the difference between that
 * cumulative amount and what it was already paid, so one claim at the end collects every round.
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
        // slot 1
        bytes32 root;
        // slot 2
        uint128 allocated;
        uint128 claimed;
        // slot 3
        uint128 funded;
        uint128 withdrawn;
        // slot 4
        address token;
        // slot 5
        address researcher;
    }

    uint256 private _runCount;
    mapping(uint256 runId => Run) private _runs;
    mapping(uint256 runId => mapping(address account => uint256)) private _paid;

    /**
     * @notice Creates a run owned by the caller.
     * @param coordinator the only address allowed to record rounds.
     * @param token the ERC-20 paid out, or address(0) for ETH.
     * @param configHash a commitment to the run's off-chain settings (allowlist, caps, rate); only emitted.
     */
    function createRun(address coordinator, address token, bytes32 configHash) external returns (uint256 runId) {
        if (coordinator == address(0)) revert ZeroAddress();
        runId = ++_runCount;
        Run storage run = _runs[runId];
        run.researcher = msg.sender;
        run.coordinator = coordinator;
        run.token = token;
        emit RunCreated(runId, msg.sender, coordinator, token, configHash);
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
     */
    function recordRound(
        uint256 runId,
        uint32 round,
        bytes32 modelHash,
        uint256 roundTotal,
        bytes calldata packed,
        bytes32 cumulativeRoot
    ) external {
        Run storage run = _existing(runId);
        if (msg.sender != run.coordinator) revert NotCoordinator(runId, msg.sender);
        if (run.ended) revert RunAlreadyEnded(runId);
        if (round < run.nextRound) revert RoundAlreadyRecorded(runId, round, run.nextRound);
        if (packed.length % 32 != 0) revert BadPacking(packed.length);
        uint256 allocated = uint256(run.allocated) + roundTotal;
        if (allocated > run.funded) revert AllocationExceedsFunds(runId, allocated, run.funded);

        run.nextRound = round + 1; // a round of type(uint32).max cannot be followed; it overflows and reverts
        run.roundsRecorded += 1;
        run.allocated = uint128(allocated); // fits: bounded by funded, a uint128
        run.root = cumulativeRoot;
        emit RoundRecorded(runId, round, modelHash, roundTotal, cumulativeRoot, packed);
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
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
        if (!MerkleProof.verifyCalldata(proof, run.root, leaf)) {
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
            root: run.root,
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

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            Address.sendValue(payable(to), amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
