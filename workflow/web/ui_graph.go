package web

import (
	"net/http"

	"github.com/airctl/airctl/workflow/store"
)

// The graph is laid out on the server in layers: a task's layer is one
// more than its deepest upstream task, so every edge points right. That
// is readable for the DAG sizes aird runs (tens of tasks) and needs no
// layout library or script.
const (
	nodeW, nodeH   = 180, 36
	layerGap       = 70
	rowGap         = 18
	graphPad       = 12
	maxLabelLength = 22
)

type graphNode struct {
	ID, Label string
	X, Y      int
	State     store.TIState
	HasState  bool
	Href      string
	Upstream  []string
}

type graphEdge struct{ X1, Y1, X2, Y2, C1, C2 int }

type graphView struct {
	DAG           store.DAG
	Run           *store.DagRun // the run whose states colour the nodes
	Nodes         []graphNode
	Edges         []graphEdge
	Width, Height int
	NodeW, NodeH  int
}

// uiGraph shows the DAG's tasks and dependencies, coloured by the states
// of the latest run (or ?run_id=).
func (s *Server) uiGraph(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	dagID := r.PathValue("dag_id")
	d, err := s.storeDAG(ctx, dagID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	def, err := s.requireDefinition(dagID)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	v := graphView{DAG: d, NodeW: nodeW, NodeH: nodeH}
	if runID := r.URL.Query().Get("run_id"); runID != "" {
		run, err := s.getRun(ctx, dagID, runID)
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		v.Run = &run
	} else {
		runs, _, err := s.store.ListDagRuns(ctx, store.DagRunFilter{DagID: dagID, Desc: true, Limit: 1})
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		if len(runs) > 0 {
			v.Run = &runs[0]
		}
	}
	tis := map[runTask]store.TIStatus{}
	if v.Run != nil {
		if tis, err = s.tiStatuses(ctx, dagID, []store.DagRun{*v.Run}); err != nil {
			s.uiFail(w, r, err)
			return
		}
	}
	layer := map[string]int{}
	rows := map[int]int{} // tasks placed so far in each layer
	pos := map[string]graphNode{}
	for _, t := range def.TopoOrder() {
		l := 0
		for _, up := range t.Upstream {
			l = max(l, layer[up]+1)
		}
		layer[t.ID] = l
		n := graphNode{ID: t.ID, Label: shorten(t.ID), Upstream: t.Upstream,
			X: graphPad + l*(nodeW+layerGap), Y: graphPad + rows[l]*(nodeH+rowGap)}
		rows[l]++
		if v.Run != nil {
			if ti, ok := tis[runTask{v.Run.RunID, t.ID}]; ok {
				n.State, n.HasState = ti.State, true
				n.Href = s.uiURL("dags", dagID, "runs", v.Run.RunID, "tasks", t.ID)
			}
		}
		pos[t.ID] = n
		v.Nodes = append(v.Nodes, n)
		v.Width = max(v.Width, n.X+nodeW+graphPad)
		v.Height = max(v.Height, n.Y+nodeH+graphPad)
	}
	for _, n := range v.Nodes {
		for _, up := range n.Upstream {
			from := pos[up]
			x1, y1, x2, y2 := from.X+nodeW, from.Y+nodeH/2, n.X, n.Y+nodeH/2
			v.Edges = append(v.Edges, graphEdge{X1: x1, Y1: y1, X2: x2, Y2: y2, C1: x1 + layerGap/2, C2: x2 - layerGap/2})
		}
	}
	s.render(w, r, http.StatusOK, "graph", uiPage{Title: dagID + " graph", Nav: "dags", Data: v})
}

// shorten keeps long task IDs inside their box; the full ID is the
// node's tooltip and is in the table below the graph.
func shorten(id string) string {
	if r := []rune(id); len(r) > maxLabelLength {
		return string(r[:maxLabelLength-1]) + "…"
	}
	return id
}
