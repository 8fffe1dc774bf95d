package web

import "net/http"

// route is one line of the route table: a ServeMux method and path pattern
// (without the base URL prefix) and the permission it needs.
type route struct {
	method  string
	path    string
	perm    Permission
	handler http.Handler
}

// routeTable is every route the webserver serves. ServeHTTP enforces perm
// for each; the UI pages are added here the same way.
func (s *Server) routeTable() []route {
	h := func(method, path string, perm Permission, fn http.HandlerFunc) route {
		return route{method: method, path: path, perm: perm, handler: fn}
	}
	const (
		dagPath = "/api/v1/dags/{dag_id}"
		runPath = dagPath + "/dagRuns/{dag_run_id}"
		tiPath  = runPath + "/taskInstances/{task_id}"
	)
	return []route{
		// Load balancer and deploy health gate; login and logout.
		h("GET", "/health", PermPublic, s.getHealth),
		h("GET", "/api/v1/health", PermPublic, s.getHealth),
		h("GET", "/login", PermPublic, s.getLogin),
		h("POST", "/login", PermPublic, s.postLogin),
		h("GET", "/logout", PermPublic, s.logout),
		h("POST", "/logout", PermPublic, s.logout),
		// Embedded CSS and JS: the login page needs them before sign-in,
		// and they hold nothing secret.
		h("GET", "/static/", PermPublic, s.serveStatic),

		// UI pages (ui_*.go). Reading needs what the matching API route
		// needs; every form post needs the edit permission of its API twin.
		h("GET", "/{$}", PermDAGRead, s.uiDAGs),
		h("GET", "/dags", PermDAGRead, s.uiDAGs),
		h("POST", "/dags/{dag_id}/paused", PermDAGEdit, s.uiSetPaused),
		h("GET", "/import-errors", PermDAGRead, s.uiImportErrors),
		h("GET", "/sla-misses", PermDAGRead, s.uiSLAMisses),
		h("GET", "/dags/{dag_id}/grid", PermDAGRead, s.uiGrid),
		h("GET", "/dags/{dag_id}/graph", PermDAGRead, s.uiGraph),
		h("POST", "/dags/{dag_id}/trigger", PermDAGEdit, s.uiTrigger),
		h("GET", "/dags/{dag_id}/runs/{dag_run_id}", PermDAGRead, s.uiRun),
		h("POST", "/dags/{dag_id}/runs/{dag_run_id}/clear", PermDAGEdit, s.uiClearRun),
		h("GET", "/dags/{dag_id}/runs/{dag_run_id}/tasks/{task_id}", PermDAGRead, s.uiTask),
		h("POST", "/dags/{dag_id}/runs/{dag_run_id}/tasks/{task_id}/clear", PermDAGEdit, s.uiClearTask),
		h("POST", "/dags/{dag_id}/runs/{dag_run_id}/tasks/{task_id}/mark", PermDAGEdit, s.uiMarkTask),
		h("GET", "/variables", PermVariableRead, s.uiVariables),
		h("POST", "/variables", PermVariableEdit, s.uiSetVariable),
		h("POST", "/variables/{variable_key}/delete", PermVariableEdit, s.uiDeleteVariable),
		h("GET", "/pools", PermPoolRead, s.uiPools),
		h("POST", "/pools", PermPoolEdit, s.uiSetPool),
		h("POST", "/pools/{pool_name}/delete", PermPoolEdit, s.uiDeletePool),
		h("GET", "/users", PermUserRead, s.uiUsers),

		h("GET", "/api/v1/version", PermDAGRead, s.getVersion),
		h("GET", "/api/v1/dags", PermDAGRead, s.listDAGs),
		h("GET", dagPath, PermDAGRead, s.getDAG),
		h("PATCH", dagPath, PermDAGEdit, s.patchDAG),
		h("GET", dagPath+"/details", PermDAGRead, s.getDAGDetails),
		h("GET", dagPath+"/tasks", PermDAGRead, s.listTasks),
		h("GET", dagPath+"/tasks/{task_id}", PermDAGRead, s.getTask),
		h("GET", dagPath+"/dagRuns", PermDAGRead, s.listDagRuns),
		h("POST", dagPath+"/dagRuns", PermDAGEdit, s.postDagRun),
		h("GET", runPath, PermDAGRead, s.getDagRun),
		h("DELETE", runPath, PermDAGEdit, s.deleteDagRun),
		h("GET", runPath+"/taskInstances", PermDAGRead, s.listTaskInstances),
		h("GET", tiPath, PermDAGRead, s.getTaskInstance),
		h("GET", tiPath+"/logs/{task_try_number}", PermDAGRead, s.getLog),
		h("POST", dagPath+"/clearTaskInstances", PermDAGEdit, s.clearTaskInstances),
		h("POST", dagPath+"/updateTaskInstancesState", PermDAGEdit, s.updateTaskInstancesState),

		h("GET", "/api/v1/slaMisses", PermDAGRead, s.listSLAMisses),
		h("GET", "/api/v1/importErrors", PermDAGRead, s.listImportErrors),
		h("GET", "/api/v1/importErrors/{import_error_id}", PermDAGRead, s.getImportError),

		h("GET", "/api/v1/variables", PermVariableRead, s.listVariables),
		h("POST", "/api/v1/variables", PermVariableEdit, s.postVariable),
		h("GET", "/api/v1/variables/{variable_key}", PermVariableRead, s.getVariable),
		h("PATCH", "/api/v1/variables/{variable_key}", PermVariableEdit, s.patchVariable),
		h("DELETE", "/api/v1/variables/{variable_key}", PermVariableEdit, s.deleteVariable),

		h("GET", "/api/v1/connections", PermConnectionRead, s.listConnections),
		h("POST", "/api/v1/connections", PermConnectionEdit, s.postConnection),
		h("GET", "/api/v1/connections/{connection_id}", PermConnectionRead, s.getConnection),
		h("PATCH", "/api/v1/connections/{connection_id}", PermConnectionEdit, s.patchConnection),
		h("DELETE", "/api/v1/connections/{connection_id}", PermConnectionEdit, s.deleteConnection),

		h("GET", "/api/v1/pools", PermPoolRead, s.listPools),
		h("POST", "/api/v1/pools", PermPoolEdit, s.postPool),
		h("GET", "/api/v1/pools/{pool_name}", PermPoolRead, s.getPool),
		h("PATCH", "/api/v1/pools/{pool_name}", PermPoolEdit, s.patchPool),
		h("DELETE", "/api/v1/pools/{pool_name}", PermPoolEdit, s.deletePool),

		h("GET", "/api/v1/users", PermUserRead, s.listUsers),
		h("GET", "/api/v1/users/{username}", PermUserRead, s.getUser),
	}
}
