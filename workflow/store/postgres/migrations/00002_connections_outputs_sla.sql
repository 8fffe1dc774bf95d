-- Connections, secret variables, task outputs and SLA misses (issue 9): the
-- tables of the SQLite store's 00002, with Postgres types and the same
-- conventions as 00001_init.sql.

-- +goose Up
ALTER TABLE variable ADD COLUMN is_secret boolean NOT NULL DEFAULT false;

-- Airflow's connection, with every field but the identification in one
-- encrypted blob (package connections): the database never holds a
-- password, host or extra in clear.
CREATE TABLE connection (
    conn_id     text COLLATE "C" PRIMARY KEY,
    conn_type   text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    ciphertext  bytea NOT NULL,
    updated_at  timestamptz
);

-- Airflow's xcom, reduced to one value per task instance; it goes with
-- its task instance (and so with its run).
CREATE TABLE task_output (
    dag_id     text COLLATE "C" NOT NULL,
    task_id    text COLLATE "C" NOT NULL,
    run_id     text COLLATE "C" NOT NULL,
    value      text NOT NULL DEFAULT '',
    updated_at timestamptz,
    PRIMARY KEY (dag_id, run_id, task_id),
    FOREIGN KEY (dag_id, task_id, run_id) REFERENCES task_instance (dag_id, task_id, run_id) ON DELETE CASCADE
);

-- Airflow's sla_miss. No foreign key: as the event log, it is history.
CREATE TABLE sla_miss (
    dag_id            text COLLATE "C" NOT NULL,
    task_id           text COLLATE "C" NOT NULL,
    run_id            text COLLATE "C" NOT NULL,
    execution_date    timestamptz,
    deadline          timestamptz,
    "timestamp"       timestamptz,
    notification_sent boolean NOT NULL DEFAULT false,
    PRIMARY KEY (dag_id, task_id, run_id)
);
CREATE INDEX sla_miss_timestamp ON sla_miss ("timestamp");

-- +goose Down
DROP TABLE sla_miss;
DROP TABLE task_output;
DROP TABLE connection;
ALTER TABLE variable DROP COLUMN is_secret;
