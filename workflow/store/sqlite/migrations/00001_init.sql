-- Initial schema. Table and column names follow Airflow's metadata database
-- where it has an equivalent, so people who know Airflow can query it.
-- Times are TEXT in UTC, fixed width ("2006-01-02T15:04:05.000000Z"), so
-- string order is time order and SQLite's date functions understand them;
-- NULL is the zero time. Booleans are INTEGER 0/1. JSON columns hold text.

-- +goose Up
CREATE TABLE dag (
    dag_id            TEXT PRIMARY KEY,
    fileloc           TEXT NOT NULL DEFAULT '',
    description       TEXT NOT NULL DEFAULT '',
    schedule_interval TEXT NOT NULL DEFAULT '',
    timezone          TEXT NOT NULL DEFAULT '',
    tags              TEXT, -- JSON array
    is_paused         INTEGER NOT NULL DEFAULT 0,
    is_active         INTEGER NOT NULL DEFAULT 1,
    last_parsed_time  TEXT
);

CREATE TABLE import_error (
    id         INTEGER PRIMARY KEY,
    filename   TEXT NOT NULL,
    stacktrace TEXT NOT NULL DEFAULT '',
    timestamp  TEXT
);

-- No foreign key to dag: as in Airflow, runs outlive their DAG's row.
CREATE TABLE dag_run (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id              TEXT NOT NULL,
    run_id              TEXT NOT NULL,
    run_type            TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL DEFAULT '',
    logical_date        TEXT,
    data_interval_start TEXT,
    data_interval_end   TEXT,
    conf                TEXT, -- JSON object
    external_trigger    INTEGER NOT NULL DEFAULT 0,
    queued_at           TEXT,
    start_date          TEXT,
    end_date            TEXT,
    updated_at          TEXT
);
CREATE UNIQUE INDEX dag_run_dag_id_run_id_key ON dag_run (dag_id, run_id);
-- NULL logical dates do not collide, in SQLite as in Postgres.
CREATE UNIQUE INDEX dag_run_dag_id_logical_date_key ON dag_run (dag_id, logical_date);
CREATE INDEX dag_run_state_idx ON dag_run (state);

-- The primary key has Airflow's column order, which serves "one task across
-- runs" (grid view, history); ti_dag_run serves "all tasks of a run".
-- State '' is Airflow's none.
CREATE TABLE task_instance (
    dag_id           TEXT NOT NULL,
    task_id          TEXT NOT NULL,
    run_id           TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT '',
    try_number       INTEGER NOT NULL DEFAULT 0,
    max_tries        INTEGER NOT NULL DEFAULT 0,
    queue            TEXT NOT NULL DEFAULT '',
    pool             TEXT NOT NULL DEFAULT '',
    pool_slots       INTEGER NOT NULL DEFAULT 1,
    priority_weight  INTEGER NOT NULL DEFAULT 0,
    operator         TEXT NOT NULL DEFAULT '',
    hostname         TEXT NOT NULL DEFAULT '',
    pid              INTEGER NOT NULL DEFAULT 0,
    queued_by_job_id INTEGER NOT NULL DEFAULT 0,
    queued_dttm      TEXT,
    start_date       TEXT,
    end_date         TEXT,
    next_retry_at    TEXT,
    updated_at       TEXT,
    PRIMARY KEY (dag_id, task_id, run_id),
    FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE INDEX ti_dag_run ON task_instance (dag_id, run_id);
CREATE INDEX ti_state ON task_instance (state);
CREATE INDEX ti_pool ON task_instance (pool, state, priority_weight);
CREATE INDEX ti_job_id ON task_instance (queued_by_job_id);

CREATE TABLE variable (
    key         TEXT PRIMARY KEY,
    val         TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE slot_pool (
    pool        TEXT PRIMARY KEY,
    slots       INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT ''
);
-- Keep in sync with store.DefaultPool and store.DefaultPoolSlots.
INSERT INTO slot_pool (pool, slots, description) VALUES ('default_pool', 128, 'Default pool');

-- Airflow's ab_user.
CREATE TABLE users (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    username   TEXT NOT NULL UNIQUE,
    email      TEXT NOT NULL DEFAULT '',
    role       TEXT NOT NULL DEFAULT '',
    password   TEXT NOT NULL DEFAULT '', -- bcrypt hash
    active     INTEGER NOT NULL DEFAULT 1,
    created_on TEXT,
    last_login TEXT
);

CREATE TABLE job (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    job_type         TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL DEFAULT '',
    hostname         TEXT NOT NULL DEFAULT '',
    pid              INTEGER NOT NULL DEFAULT 0,
    start_date       TEXT,
    end_date         TEXT,
    latest_heartbeat TEXT
);
CREATE INDEX job_type_heart ON job (job_type, latest_heartbeat);

-- Airflow's log.
CREATE TABLE event_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    dttm    TEXT,
    event   TEXT NOT NULL DEFAULT '',
    dag_id  TEXT NOT NULL DEFAULT '',
    run_id  TEXT NOT NULL DEFAULT '',
    task_id TEXT NOT NULL DEFAULT '',
    owner   TEXT NOT NULL DEFAULT '',
    extra   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_log_dttm ON event_log (dttm);
CREATE INDEX idx_log_dag ON event_log (dag_id, dttm);
CREATE INDEX idx_log_event ON event_log (event, dttm);

-- +goose Down
DROP TABLE event_log;
DROP TABLE job;
DROP TABLE users;
DROP TABLE slot_pool;
DROP TABLE variable;
DROP TABLE task_instance;
DROP TABLE dag_run;
DROP TABLE import_error;
DROP TABLE dag;
