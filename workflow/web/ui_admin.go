package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/airctl/airctl/workflow/secrets"
	"github.com/airctl/airctl/workflow/store"
)

// sensitiveKeyParts are Airflow's default sensitive_var_conn_names: a
// variable whose key contains one is shown masked in the list (its edit
// form still shows it to those allowed to change it).
var sensitiveKeyParts = []string{"access_token", "api_key", "apikey", "authorization", "passphrase", "passwd", "password", "private_key", "secret", "token"}

func sensitiveKey(key string) bool {
	k := strings.ToLower(key)
	return slices.ContainsFunc(sensitiveKeyParts, func(p string) bool { return strings.Contains(k, p) })
}

type variableRow struct {
	store.Variable
	Masked bool
}

type variablesView struct {
	Rows []variableRow
	Edit store.Variable // the form's content: the variable in ?edit=, else empty
	New  bool
}

// uiVariables lists variables with a form to add one or, with ?edit=key,
// change one.
func (s *Server) uiVariables(w http.ResponseWriter, r *http.Request) {
	all, err := s.store.ListVariables(r.Context())
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	slices.SortFunc(all, func(a, b store.Variable) int { return strings.Compare(a.Key, b.Key) })
	v := variablesView{New: true}
	for _, x := range all {
		v.Rows = append(v.Rows, variableRow{Variable: x, Masked: x.Secret || sensitiveKey(x.Key)})
	}
	if key := r.URL.Query().Get("edit"); key != "" {
		if v.Edit, err = s.variable(r, key); err != nil {
			s.uiFail(w, r, err)
			return
		}
		v.New = false
		if v.Edit.Secret { // never shown; sent back as is, it means unchanged
			v.Edit.Value = secrets.Mask
		}
	}
	s.render(w, r, http.StatusOK, "variables", uiPage{Title: "Variables", Nav: "variables", Data: v})
}

// uiSetVariable creates or overwrites a variable, as POST /variables does.
func (s *Server) uiSetVariable(w http.ResponseWriter, r *http.Request) {
	if err := parseUIForm(w, r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if key == "" {
		s.uiFail(w, r, badRequest("A variable needs a key."))
		return
	}
	v, err := s.store.GetVariable(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		v, err = store.Variable{Key: key}, nil
	}
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	value, secret := r.PostForm.Get("value"), r.PostForm.Get("is_secret") != ""
	if err := setSecretValue(&v, &value, &secret); err != nil {
		s.uiFail(w, r, err)
		return
	}
	v.Description = r.PostForm.Get("description")
	if err := s.store.SetVariable(r.Context(), v); err != nil {
		s.uiFail(w, r, err)
		return
	}
	// The value is not logged: variables often hold secrets.
	s.audit(r, store.Event{Event: "ui.set_variable", Extra: "key=" + v.Key})
	s.redirectBack(w, r, s.uiURL("variables"))
}

func (s *Server) uiDeleteVariable(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("variable_key")
	err := s.store.DeleteVariable(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Variable not found", "Variable with key: '%s' not found", key)
	}
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "ui.delete_variable", Extra: "key=" + key})
	s.redirectBack(w, r, s.uiURL("variables"))
}

type poolsView struct {
	Rows []poolJSON
	Edit store.Pool
	New  bool
}

// uiPools lists pools with their slot usage (the API's numbers) and, for
// Op and Admin, a form to add or resize one.
func (s *Server) uiPools(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	all, err := s.store.ListPools(ctx)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	use, err := s.poolUsage(ctx)
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	v := poolsView{New: true}
	for _, p := range all {
		v.Rows = append(v.Rows, newPoolJSON(p, use[p.Name]))
	}
	if name := r.URL.Query().Get("edit"); name != "" {
		if v.Edit, err = s.pool(ctx, name); err != nil {
			s.uiFail(w, r, err)
			return
		}
		v.New = false
	}
	s.render(w, r, http.StatusOK, "pools", uiPage{Title: "Pools", Nav: "pools", Data: v})
}

// uiSetPool creates a pool or changes an existing one's slots and
// description.
func (s *Server) uiSetPool(w http.ResponseWriter, r *http.Request) {
	if err := parseUIForm(w, r); err != nil {
		s.uiFail(w, r, err)
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	slots, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("slots")))
	switch {
	case name == "":
		err = badRequest("A pool needs a name.")
	case err != nil || slots < 0:
		err = badRequest("slots %q: want a whole number, 0 or more.", r.PostForm.Get("slots"))
	}
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	p := store.Pool{Name: name, Slots: slots, Description: r.PostForm.Get("description")}
	if name == store.DefaultPool {
		// Only the default pool's size may change, as in the API.
		old, err := s.pool(r.Context(), name)
		if err != nil {
			s.uiFail(w, r, err)
			return
		}
		p.Description = old.Description
	}
	if err := s.store.SetPool(r.Context(), p); err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "ui.set_pool", Extra: fmt.Sprintf("name=%s slots=%d", p.Name, p.Slots)})
	s.redirectBack(w, r, s.uiURL("pools"))
}

func (s *Server) uiDeletePool(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("pool_name")
	if name == store.DefaultPool {
		s.uiFail(w, r, badRequest("Default Pool can't be deleted"))
		return
	}
	err := s.store.DeletePool(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Pool not found", "Pool with name:'%s' not found", name)
	}
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.audit(r, store.Event{Event: "ui.delete_pool", Extra: "name=" + name})
	s.redirectBack(w, r, s.uiURL("pools"))
}

// uiUsers lists the accounts (Admin only); they are created with `aird
// users create`.
func (s *Server) uiUsers(w http.ResponseWriter, r *http.Request) {
	all, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.uiFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "users", uiPage{Title: "Users", Nav: "users", Data: all})
}
