-- Connections, secret variables, task outputs and SLA misses (issue 9).
-- Same conventions as 00001_init.sql.

-- +goose Up
ALTER TABLE variable ADD COLUMN is_secret INTEGER NOT NULL DEFAULT 0;

-- Airflow's connection, with every field but the identification in one
-- encrypted blob (package connections): the database never holds a
-- password, host or extra in clear.
CREATE TABLE connection (
    conn_id     TEXT PRIMARY KEY,
    conn_type   TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    ciphertext  BLOB NOT NULL,
    updated_at  TEXT
);

-- Airflow's xcom, reduced to one value per task instance; it goes with
-- its task instance (and so with its run).
CREATE TABLE task_output (
    dag_id     TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    value      TEXT NOT NULL DEFAULT '',
    updated_at TEXT,
    PRIMARY KEY (dag_id, run_id, task_id),
    FOREIGN KEY (dag_id, task_id, run_id) REFERENCES task_instance (dag_id, task_id, run_id) ON DELETE CASCADE
);

-- Airflow's sla_miss. No foreign key: as the event log, it is history.
CREATE TABLE sla_miss (
    dag_id            TEXT NOT NULL,
    task_id           TEXT NOT NULL,
    run_id            TEXT NOT NULL,
    execution_date    TEXT,
    deadline          TEXT,
    timestamp         TEXT,
    notification_sent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dag_id, task_id, run_id)
);
CREATE INDEX sla_miss_timestamp ON sla_miss (timestamp);

-- +goose Down
DROP TABLE sla_miss;
DROP TABLE task_output;
DROP TABLE connection;
ALTER TABLE variable DROP COLUMN is_secret;
