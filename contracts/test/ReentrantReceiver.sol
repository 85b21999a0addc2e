// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

interface ILedger {
    function claim(uint256 runId, address account, uint256 cumulativeAmount, bytes32[] calldata proof)
        external
        returns (uint256);
    function withdraw(uint256 runId) external returns (uint256);
    function createRun(address coordinator, address token, bytes32 configHash, uint32 challengeWindow) external returns (uint256);
    function fund(uint256 runId, uint256 amount) external payable;
    function endRun(uint256 runId) external;
}

/**
 * @notice A hostile payee for tests. When paid ETH it calls back into the ledger, replaying the same
 * claim (or a withdrawal), and remembers whether that re-entry succeeded and how it failed.
 * It swallows the failure, so the outer payment succeeds and a test can check nothing extra was paid.
 */
contract ReentrantReceiver {
    ILedger private immutable _ledger;
    uint256 private _runId;
    uint256 private _cumulativeAmount;
    bytes32[] private _proof;
    bool private _attackWithdraw;

    uint256 public reentryAttempts;
    uint256 public reentrySuccesses;
    bytes public lastRevertData;

    constructor(ILedger ledger) {
        _ledger = ledger;
    }

    /// Prepares the claim replayed on every payment received.
    function arm(uint256 runId, uint256 cumulativeAmount, bytes32[] calldata proof, bool attackWithdraw) external {
        _runId = runId;
        _cumulativeAmount = cumulativeAmount;
        _proof = proof;
        _attackWithdraw = attackWithdraw;
    }

    function claim() external returns (uint256) {
        return _ledger.claim(_runId, address(this), _cumulativeAmount, _proof);
    }

    /// Lets this contract act as a researcher, to attack withdraw.
    function createAndFund(address coordinator) external payable returns (uint256 runId) {
        runId = _ledger.createRun(coordinator, address(0), bytes32(0), 0);
        _ledger.fund{value: msg.value}(runId, msg.value);
        _runId = runId;
    }

    function endRun() external {
        _ledger.endRun(_runId);
    }

    function withdraw() external returns (uint256) {
        return _ledger.withdraw(_runId);
    }

    receive() external payable {
        if (reentryAttempts > 0) return; // one attempt is enough to prove the point
        reentryAttempts += 1;
        if (_attackWithdraw) {
            try _ledger.withdraw(_runId) returns (uint256) {
                reentrySuccesses += 1;
            } catch (bytes memory reason) {
                lastRevertData = reason;
            }
        } else {
            try _ledger.claim(_runId, address(this), _cumulativeAmount, _proof) returns (uint256) {
                reentrySuccesses += 1;
            } catch (bytes memory reason) {
                lastRevertData = reason;
            }
        }
    }
}
