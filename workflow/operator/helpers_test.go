package operator_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/airctl/airctl/workflow/connections"
	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/operator"
	"github.com/airctl/airctl/workflow/store"
)

// conns is a fixed set of connections, standing in for the resolver.
type conns map[string]connections.Connection

func (c conns) Get(_ context.Context, id string) (connections.Connection, error) {
	conn, ok := c[id]
	if !ok {
		return conn, fmt.Errorf("connection %q: %w", id, store.ErrNotFound)
	}
	return conn, nil
}

// syncBuffer is a log that the test reads while an operator writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// build parses a one-task DAG, renders the task and builds its operator.
func build(t *testing.T, taskBody string, rc dag.RunContext) operator.Operator {
	t.Helper()
	src := "dag \"d\" {\n  task \"t\" {\n" + taskBody + "\n  }\n}\n"
	dags, _, diags := dag.ParseFile("test.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diags.Error())
	}
	task := dags[0].Task("t")
	r, diags := task.Render(rc)
	if diags.HasErrors() {
		t.Fatalf("render: %s", diags.Error())
	}
	op, err := operator.New(task, r)
	if err != nil {
		t.Fatal(err)
	}
	return op
}
