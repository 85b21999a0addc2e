/**
 * The run store's one schema, as a list of versioned migrations. The store's version is the
 * `schema_version` row of `meta`; opening a store applies, in order and each in its own
 * transaction, every migration above it (coordinator/store/migrate.ts).
 *
 * To change the schema: append a migration with the next version and never edit a released one.
 * Stores already in the wild were written by the released SQL, so a migration must turn exactly
 * that into the new shape (ALTER TABLE, CREATE TABLE, copy and drop), not restate the end state.
 */

export interface Migration {
  readonly version: number;
  /** One line for the log and the docs: what this version adds. */
  readonly description: string;
  readonly sql: string;
}

/**
 * Version 1: the engine's tables. Released stores at version 1 came from two shapes of code: the
 * first had no `strategy_states` (old code re-ran this SQL on every open, so it appeared later),
 * which is why every statement here is IF NOT EXISTS and version 2 creates it again if missing.
 */
const V1_ENGINE_TABLES = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS runs (
  id          TEXT PRIMARY KEY,
  config      TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'stopped')),
  created_at  INTEGER NOT NULL,
  ended_at    INTEGER,
  end_reason  TEXT
);

-- One row per completed round; the primary key is what makes "a round done twice" impossible.
CREATE TABLE IF NOT EXISTS rounds (
  run_id        TEXT NOT NULL REFERENCES runs(id),
  round         INTEGER NOT NULL,
  completed_at  INTEGER NOT NULL,
  duration_ms   INTEGER NOT NULL,
  participants  INTEGER NOT NULL,
  examples      INTEGER NOT NULL,
  accuracy      REAL,
  loss          REAL,
  train_loss    REAL,
  secure        INTEGER NOT NULL,
  PRIMARY KEY (run_id, round)
);

CREATE TABLE IF NOT EXISTS round_failures (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id     TEXT NOT NULL REFERENCES runs(id),
  round      INTEGER NOT NULL,
  attempt    INTEGER NOT NULL,
  failed_at  INTEGER NOT NULL,
  reason     TEXT NOT NULL
);

-- Who contributed what in each completed round (declared work: examples × local epochs).
CREATE TABLE IF NOT EXISTS contributions (
  run_id    TEXT NOT NULL,
  round     INTEGER NOT NULL,
  address   TEXT NOT NULL,
  examples  INTEGER NOT NULL,
  amount    INTEGER NOT NULL,
  PRIMARY KEY (run_id, round, address),
  FOREIGN KEY (run_id, round) REFERENCES rounds(run_id, round)
);

CREATE TABLE IF NOT EXISTS sessions (
  id               TEXT PRIMARY KEY,
  run_id           TEXT,
  address          TEXT NOT NULL,
  kind             TEXT NOT NULL,
  backend          TEXT,
  backend_reason   TEXT,
  connected_at     INTEGER NOT NULL,
  disconnected_at  INTEGER,
  close_code       INTEGER,
  close_reason     TEXT
);

-- The global weights after the last K completed rounds (Float32 little-endian bytes).
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id      TEXT NOT NULL REFERENCES runs(id),
  round       INTEGER NOT NULL,
  weights     BLOB NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (run_id, round)
);
`;

/** Added to version 1 without a version bump (see above); version 2 makes sure it is there. */
const STRATEGY_STATES = `
-- A server optimizer's state (FedAvgM momentum, FedAdam moments) after each completed round, so a
-- resumed run continues with it; msgpack of { name: Float32Array }. Pruned with the checkpoints.
CREATE TABLE IF NOT EXISTS strategy_states (
  run_id  TEXT NOT NULL REFERENCES runs(id),
  round   INTEGER NOT NULL,
  state   BLOB NOT NULL,
  PRIMARY KEY (run_id, round)
);
`;

/**
 * Version 2: the contribution ledger's tables, until then created on the side by the ledger
 * itself. A version-1 store of a paid run already has them, with exactly these definitions, so
 * they are IF NOT EXISTS and their rows are kept as they are.
 */
const V2_LEDGER_TABLES = `
-- Which contract run a store run pays through, and its reward settings (JSON, the ledger's to
-- read), fixed at the first attach: a restart with other flags keeps them.
CREATE TABLE IF NOT EXISTS ledger_runs (
  run_id          TEXT PRIMARY KEY,
  chain_id        INTEGER NOT NULL,
  ledger_address  TEXT NOT NULL,
  chain_run_id    TEXT NOT NULL,
  from_block      INTEGER NOT NULL,
  settings        TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);

-- address → cumulative wei (decimal text) over the rounds enqueued so far.
CREATE TABLE IF NOT EXISTS ledger_rewards (
  run_id          TEXT NOT NULL,
  address         TEXT NOT NULL,
  cumulative_wei  TEXT NOT NULL,
  last_round      INTEGER NOT NULL,
  PRIMARY KEY (run_id, address)
);

-- One row per round: pending until the chain has it, then sent with its tx hash; a round the
-- chain holds with another root is a conflict and never retried.
CREATE TABLE IF NOT EXISTS ledger_outbox (
  run_id      TEXT NOT NULL,
  round       INTEGER NOT NULL,
  payload     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'conflict')),
  tx_hash     TEXT,
  outcome     TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  sent_at     INTEGER,
  PRIMARY KEY (run_id, round)
);
`;

/**
 * Version 3: contribution scoring (rewards.quality). Each scored round's group scores (members as
 * a JSON list of addresses), each credited worker's quality as the reward used it, and the
 * estimator's state after the newest scored round, so a resumed run scores as if never stopped.
 */
const V3_QUALITY_TABLES = `
CREATE TABLE IF NOT EXISTS group_scores (
  run_id       TEXT NOT NULL,
  round        INTEGER NOT NULL,
  group_index  INTEGER NOT NULL,
  members      TEXT NOT NULL,
  marginal     REAL NOT NULL,
  norm         REAL NOT NULL,
  cosine       REAL NOT NULL,
  total_weight REAL NOT NULL,
  PRIMARY KEY (run_id, round, group_index)
);
CREATE TABLE IF NOT EXISTS worker_quality (
  run_id       TEXT NOT NULL,
  round        INTEGER NOT NULL,
  address      TEXT NOT NULL,
  estimate     REAL NOT NULL,
  confidence   REAL NOT NULL,
  observations INTEGER NOT NULL,
  factor       REAL NOT NULL,
  flagged      INTEGER NOT NULL,
  PRIMARY KEY (run_id, round, address)
);
CREATE TABLE IF NOT EXISTS quality_states (
  run_id TEXT PRIMARY KEY,
  round  INTEGER NOT NULL,
  state  TEXT NOT NULL
);
`;

/**
 * Version 4: differential privacy's accountant, so a resumed run goes on composing from the
 * rounds (or async groups) it already spent instead of starting again at ε = 0. One row per run,
 * rewritten every time a noised sum is produced (not only at a commit): a sum that was produced
 * and then lost to a crash still counts. JSON of { history: [{ q, sigma, steps }], clipNorm }.
 */
const V4_PRIVACY_STATES = `
CREATE TABLE IF NOT EXISTS privacy_states (
  run_id  TEXT PRIMARY KEY REFERENCES runs(id),
  state   TEXT NOT NULL
);
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'runs, rounds, round failures, contributions, sessions, checkpoints, strategy states', sql: V1_ENGINE_TABLES + STRATEGY_STATES },
  { version: 2, description: 'the ledger tables (ledger_runs, ledger_rewards, ledger_outbox) join the store schema', sql: STRATEGY_STATES + V2_LEDGER_TABLES },
  { version: 3, description: 'contribution scoring: group_scores, worker_quality, quality_states', sql: V3_QUALITY_TABLES },
  { version: 4, description: "differential privacy's accountant state (privacy_states), kept across a resume", sql: V4_PRIVACY_STATES },
];

/** The version this code writes: a store at a higher one is refused (E_STORE_VERSION). */
export const STORE_SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;
