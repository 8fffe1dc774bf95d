-- Initial schema: the tables, columns and indexes of the SQLite store's
-- 00001_init.sql, with Postgres types. Table and column names follow
-- Airflow's metadata database where it has an equivalent.
--
-- Times are timestamptz (microsecond precision, Postgres's maximum); NULL is
-- the zero time. JSON columns are jsonb. Booleans are boolean.
--
-- Identifier columns (DAG, run and task IDs, pool names, file names,
-- variable keys, user names) use the "C" collation: byte order, as SQLite
-- sorts, whatever the database's default locale is (Cloud SQL defaults to
-- en_US.UTF8, which orders "a_b" after "ab" where SQLite puts it before),
-- and one collation on both sides of every join between them (Postgres
-- refuses to compare text under two different column collations).

-- +goose Up
CREATE TABLE dag (
    dag_id            text COLLATE "C" PRIMARY KEY,
    fileloc           text COLLATE "C" NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    schedule_interval text NOT NULL DEFAULT '',
    timezone          text NOT NULL DEFAULT '',
    tags              jsonb, -- array
    is_paused         boolean NOT NULL DEFAULT false,
    is_active         boolean NOT NULL DEFAULT true,
    last_parsed_time  timestamptz
);

CREATE TABLE import_error (
    id          bigserial PRIMARY KEY,
    filename    text COLLATE "C" NOT NULL,
    stacktrace  text NOT NULL DEFAULT '',
    "timestamp" timestamptz
);

-- No foreign key to dag: as in Airflow, runs outlive their DAG's row.
CREATE TABLE dag_run (
    id                  bigserial PRIMARY KEY,
    dag_id              text COLLATE "C" NOT NULL,
    run_id              text COLLATE "C" NOT NULL,
    run_type            text NOT NULL DEFAULT '',
    state               text NOT NULL DEFAULT '',
    logical_date        timestamptz,
    data_interval_start timestamptz,
    data_interval_end   timestamptz,
    conf                jsonb, -- object
    external_trigger    boolean NOT NULL DEFAULT false,
    queued_at           timestamptz,
    start_date          timestamptz,
    end_date            timestamptz,
    updated_at          timestamptz
);
CREATE UNIQUE INDEX dag_run_dag_id_run_id_key ON dag_run (dag_id, run_id);
-- NULL logical dates do not collide. NULLS FIRST is SQLite's NULL order, so
-- the index reads forward for ListDagRuns' ascending order and backward for
-- its descending one.
CREATE UNIQUE INDEX dag_run_dag_id_logical_date_key ON dag_run (dag_id, logical_date NULLS FIRST);
CREATE INDEX dag_run_state_idx ON dag_run (state);

-- The primary key has Airflow's column order, which serves "one task across
-- runs" (grid view, history); ti_dag_run serves "all tasks of a run".
-- State '' is Airflow's none.
CREATE TABLE task_instance (
    dag_id           text COLLATE "C" NOT NULL,
    task_id          text COLLATE "C" NOT NULL,
    run_id           text COLLATE "C" NOT NULL,
    state            text NOT NULL DEFAULT '',
    try_number       integer NOT NULL DEFAULT 0,
    max_tries        integer NOT NULL DEFAULT 0,
    queue            text NOT NULL DEFAULT '',
    pool             text COLLATE "C" NOT NULL DEFAULT '',
    pool_slots       integer NOT NULL DEFAULT 1,
    priority_weight  integer NOT NULL DEFAULT 0,
    operator         text NOT NULL DEFAULT '',
    hostname         text NOT NULL DEFAULT '',
    pid              integer NOT NULL DEFAULT 0,
    queued_by_job_id bigint NOT NULL DEFAULT 0,
    queued_dttm      timestamptz,
    start_date       timestamptz,
    end_date         timestamptz,
    next_retry_at    timestamptz,
    updated_at       timestamptz,
    PRIMARY KEY (dag_id, task_id, run_id),
    FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE INDEX ti_dag_run ON task_instance (dag_id, run_id);
CREATE INDEX ti_state ON task_instance (state);
CREATE INDEX ti_pool ON task_instance (pool, state, priority_weight);
CREATE INDEX ti_job_id ON task_instance (queued_by_job_id);

CREATE TABLE variable (
    key         text COLLATE "C" PRIMARY KEY,
    val         text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT ''
);

CREATE TABLE slot_pool (
    pool        text COLLATE "C" PRIMARY KEY,
    slots       integer NOT NULL DEFAULT 0,
    description text NOT NULL DEFAULT ''
);
-- Keep in sync with store.DefaultPool and store.DefaultPoolSlots.
INSERT INTO slot_pool (pool, slots, description) VALUES ('default_pool', 128, 'Default pool');

-- Airflow's ab_user.
CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    username   text COLLATE "C" NOT NULL UNIQUE,
    email      text NOT NULL DEFAULT '',
    role       text NOT NULL DEFAULT '',
    password   text NOT NULL DEFAULT '', -- bcrypt hash
    active     boolean NOT NULL DEFAULT true,
    created_on timestamptz,
    last_login timestamptz
);

CREATE TABLE job (
    id               bigserial PRIMARY KEY,
    job_type         text NOT NULL DEFAULT '',
    state            text NOT NULL DEFAULT '',
    hostname         text NOT NULL DEFAULT '',
    pid              integer NOT NULL DEFAULT 0,
    start_date       timestamptz,
    end_date         timestamptz,
    latest_heartbeat timestamptz
);
-- NULLS FIRST so LatestJob's "DESC NULLS LAST" (SQLite's order) is a
-- backward index scan.
CREATE INDEX job_type_heart ON job (job_type, latest_heartbeat NULLS FIRST);

-- Airflow's log.
CREATE TABLE event_log (
    id      bigserial PRIMARY KEY,
    dttm    timestamptz,
    event   text NOT NULL DEFAULT '',
    dag_id  text COLLATE "C" NOT NULL DEFAULT '',
    run_id  text COLLATE "C" NOT NULL DEFAULT '',
    task_id text COLLATE "C" NOT NULL DEFAULT '',
    owner   text NOT NULL DEFAULT '',
    extra   text NOT NULL DEFAULT ''
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
