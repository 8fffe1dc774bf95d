package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/airctl/airctl/workflow/store"
)

type slaList struct {
	Misses []slaMissJSON `json:"sla_misses"`
	Total  int           `json:"total_entries"`
}

func TestListSLAMisses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ld := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, m := range []store.SLAMiss{
		{DagID: "example", TaskID: "load", RunID: "scheduled__2024-03-01T00:00:00+00:00", LogicalDate: ld, Deadline: ld.Add(25 * time.Hour), DetectedAt: ld.Add(26 * time.Hour)},
		{DagID: "manual", TaskID: "only", RunID: "manual__x", LogicalDate: ld, Deadline: ld.Add(time.Hour), DetectedAt: ld.Add(27 * time.Hour)},
	} {
		if _, err := e.st.RecordSLAMiss(ctx, m); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := e.st.MarkSLAMissNotified(ctx, m.DagID, m.TaskID, m.RunID); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := decode[slaList](t, e.as("viewer", "GET", "/api/v1/slaMisses", nil))
	if all.Total != 2 || len(all.Misses) != 2 || all.Misses[0].DagID != "manual" {
		t.Fatalf("all misses (newest first) = %+v", all)
	}
	one := decode[slaList](t, e.as("viewer", "GET", "/api/v1/slaMisses?dag_id=example", nil))
	if one.Total != 1 || len(one.Misses) != 1 {
		t.Fatalf("dag_id=example: %+v", one)
	}
	m := one.Misses[0]
	if m.TaskID != "load" || m.DagRunID != "scheduled__2024-03-01T00:00:00+00:00" || !m.NotificationSent ||
		!time.Time(m.Deadline).Equal(ld.Add(25*time.Hour)) || !time.Time(m.Timestamp).Equal(ld.Add(26*time.Hour)) || !time.Time(m.LogicalDate).Equal(ld) {
		t.Errorf("miss %+v", m)
	}
	paged := decode[slaList](t, e.as("viewer", "GET", "/api/v1/slaMisses?limit=1&offset=1", nil))
	if paged.Total != 2 || len(paged.Misses) != 1 || paged.Misses[0].DagID != "example" || paged.Misses[0].NotificationSent != true {
		t.Errorf("page 2 = %+v", paged)
	}
	expect(t, e.as("", "GET", "/api/v1/slaMisses", nil), http.StatusUnauthorized)

	ui := signIn(t, e, "viewer")
	code, body := ui.get("/sla-misses")
	if code != http.StatusOK {
		t.Fatalf("GET /sla-misses: %d %s", code, body)
	}
	mustContain(t, "/sla-misses", body, `href="/dags/manual/runs/manual__x/tasks/only"`, "sent", "not yet", `class="active">SLA misses`)
	if _, body := ui.get("/sla-misses?dag_id=example"); strings.Contains(body, "manual__x") {
		t.Error("dag_id=example lists the manual DAG's miss")
	}
	expect(t, e.as("viewer", "GET", "/api/v1/slaMisses?limit=x", nil), http.StatusBadRequest)
}
