/** The run store's tables. Bump STORE_SCHEMA_VERSION and add a migration when this changes. */
export const STORE_SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
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

-- A server optimizer's state (FedAvgM momentum, FedAdam moments) after each completed round, so a
-- resumed run continues with it; msgpack of { name: Float32Array }. Pruned with the checkpoints.
CREATE TABLE IF NOT EXISTS strategy_states (
  run_id  TEXT NOT NULL REFERENCES runs(id),
  round   INTEGER NOT NULL,
  state   BLOB NOT NULL,
  PRIMARY KEY (run_id, round)
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
