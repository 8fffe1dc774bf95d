package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/logs"
	"github.com/airctl/airctl/workflow/store"
)

// spec turns a command task's rendered fields into a process to run.
func (r *Runner) spec(t *dag.Task, rendered dag.Rendered, ti store.TaskInstance, run store.DagRun) Spec {
	timeout, grace := r.limits(t.ExecutionTimeout)
	return Spec{
		Command:   rendered.Command,
		Env:       Environ(rendered.Env, ti.TIKey, run, ti.TryNumber),
		Dir:       rendered.WorkingDir,
		Timeout:   timeout,
		KillGrace: grace,
	}
}

// limits combines the task's execution_timeout with the worker's soft
// limit (the earlier wins, both end in SIGTERM) and turns the hard limit
// into the grace before SIGKILL.
func (r *Runner) limits(taskTimeout time.Duration) (timeout, grace time.Duration) {
	timeout, grace = taskTimeout, r.KillGrace
	if r.SoftTimeLimit > 0 && (timeout == 0 || r.SoftTimeLimit < timeout) {
		timeout = r.SoftTimeLimit
	}
	if r.HardTimeLimit > r.SoftTimeLimit && r.SoftTimeLimit > 0 {
		grace = r.HardTimeLimit - r.SoftTimeLimit
	}
	return timeout, grace
}

// RunContext gathers what a task's expressions may reference: the run,
// params merged with the run's conf, the store variables it names and
// the outputs of the upstream tasks it reads.
func RunContext(ctx context.Context, st store.Store, d *dag.DAG, t *dag.Task, run store.DagRun) (dag.RunContext, error) {
	rc, _, err := runContext(ctx, st, d, t, run)
	return rc, err
}

// runContext is RunContext that also returns the values of the secret
// variables it read, which the task log must mask.
func runContext(ctx context.Context, st store.Store, d *dag.DAG, t *dag.Task, run store.DagRun) (dag.RunContext, []string, error) {
	params, err := d.MergeParams(run.Conf)
	if err != nil {
		return dag.RunContext{}, nil, fmt.Errorf("run %s conf: %w", run.RunID, err)
	}
	vars := map[string]string{}
	var hidden []string
	for _, key := range t.VarRefs() {
		v, err := st.GetVariable(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			continue // Render reports the missing variable by name
		}
		if err != nil {
			return dag.RunContext{}, nil, err
		}
		vars[key] = v.Value
		if v.Secret {
			hidden = append(hidden, v.Value)
		}
	}
	var outputs map[string]string
	if len(t.OutputRefs()) > 0 {
		if outputs, err = st.GetTaskOutputs(ctx, d.ID, run.RunID); err != nil {
			return dag.RunContext{}, nil, fmt.Errorf("read upstream outputs of %s.%s: %w", d.ID, t.ID, err)
		}
	}
	return dag.RunContext{
		RunID:             run.RunID,
		LogicalDate:       run.LogicalDate,
		DataIntervalStart: run.DataIntervalStart,
		DataIntervalEnd:   run.DataIntervalEnd,
		Params:            params,
		Vars:              vars,
		Outputs:           outputs,
	}, hidden, nil
}

// Environ is the task's environment: aird's own plus context variables
// (like Airflow's AIRFLOW_CTX_*) and the task's env, which wins.
func Environ(taskEnv map[string]string, k store.TIKey, run store.DagRun, try int) []string {
	env := os.Environ()
	env = append(env,
		"AIRD_CTX_DAG_ID="+k.DagID,
		"AIRD_CTX_TASK_ID="+k.TaskID,
		"AIRD_CTX_RUN_ID="+k.RunID,
		"AIRD_CTX_LOGICAL_DATE="+run.LogicalDate.UTC().Format(logs.TSFormat),
		fmt.Sprintf("AIRD_CTX_TRY_NUMBER=%d", try),
	)
	keys := make([]string, 0, len(taskEnv))
	for key := range taskEnv {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		env = append(env, key+"="+taskEnv[key])
	}
	return env
}
