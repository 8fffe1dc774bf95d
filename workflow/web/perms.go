package web

import (
	"slices"
	"strings"

	"github.com/airctl/airctl/workflow/store"
)

// Permission is what a route needs. Roles are sets of permissions, as in
// Airflow's Flask-AppBuilder security model, so a new route needs one line
// in the route table and no role logic.
type Permission string

// Permissions. PermPublic needs no sign-in at all.
const (
	PermPublic Permission = "public"
	// PermWebsite: any signed-in user (home page, own session).
	PermWebsite  Permission = "website.read"
	PermDAGRead  Permission = "dags.read"  // DAGs, runs, task instances, logs, import errors, version
	PermDAGEdit  Permission = "dags.edit"  // pause, trigger, clear, mark success/failed, delete runs
	PermPoolRead Permission = "pools.read" // harmless, and it shows why tasks wait
	PermPoolEdit Permission = "pools.edit"
	// Variables may hold secrets, so even reading them needs Op, as in
	// Airflow.
	PermVariableRead   Permission = "variables.read"
	PermVariableEdit   Permission = "variables.edit"
	PermConnectionRead Permission = "connections.read"
	PermConnectionEdit Permission = "connections.edit"
	PermUserRead       Permission = "users.read"
	PermUserEdit       Permission = "users.edit"
)

// permissionTable is the role → permission table. Each role has all the
// permissions of the role below it plus its own: Viewer reads, User also
// acts on DAGs, Op also manages variables, pools and connections, Admin
// also manages users.
func permissionTable() map[store.Role]map[Permission]bool {
	viewer := []Permission{PermWebsite, PermDAGRead, PermPoolRead}
	user := append(slices.Clone(viewer), PermDAGEdit)
	op := append(slices.Clone(user), PermPoolEdit, PermVariableRead, PermVariableEdit, PermConnectionRead, PermConnectionEdit)
	admin := append(slices.Clone(op), PermUserRead, PermUserEdit)
	t := map[store.Role]map[Permission]bool{}
	for role, perms := range map[store.Role][]Permission{
		store.RoleViewer: viewer, store.RoleUser: user, store.RoleOp: op, store.RoleAdmin: admin,
	} {
		t[role] = map[Permission]bool{}
		for _, p := range perms {
			t[role][p] = true
		}
	}
	return t
}

// RolePermissions lists a role's permissions, sorted (for docs and UI).
func RolePermissions(role store.Role) []Permission {
	var out []Permission
	for p := range permissionTable()[role] {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// allowed reports whether role has perm; an unknown role has nothing.
func (s *Server) allowed(role store.Role, perm Permission) bool {
	return perm == PermPublic || s.roles[role][perm]
}

// ParseRole accepts a role name in any letter case and returns its
// canonical spelling.
func ParseRole(name string) (store.Role, bool) {
	for _, r := range []store.Role{store.RoleAdmin, store.RoleOp, store.RoleUser, store.RoleViewer} {
		if strings.EqualFold(string(r), name) {
			return r, true
		}
	}
	return "", false
}
