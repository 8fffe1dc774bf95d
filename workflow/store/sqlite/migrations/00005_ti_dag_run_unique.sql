-- Every worker update looks one task instance up by its full key. With
-- ti_dag_run on (dag_id, run_id) alone, Postgres' generic plan for that
-- prepared lookup chose ti_dag_run and filtered out the run's other task
-- instances, so each update of a 1,000-task run read 1,000 rows. With
-- task_id appended the index is exact for lookups and still serves "all
-- tasks of a run". SQLite gets the same schema.

-- +goose Up
DROP INDEX ti_dag_run;
CREATE UNIQUE INDEX ti_dag_run ON task_instance (dag_id, run_id, task_id);

-- +goose Down
DROP INDEX ti_dag_run;
CREATE INDEX ti_dag_run ON task_instance (dag_id, run_id);
