package monitor

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"time"
)

//go:embed templates/index.html
var templateFS embed.FS

var pageTmpl = template.Must(template.New("index.html").Funcs(template.FuncMap{
	"ago": ago,
	"seconds": func(s float64) string {
		return (time.Duration(s * float64(time.Second))).Round(100 * time.Millisecond).String()
	},
}).ParseFS(templateFS, "templates/index.html"))

type pageData struct {
	Refresh int // seconds
	Now     time.Time
	Workers []Worker
	Queues  Queues
	Tasks   []Task
	State   string   // the task list's filter
	States  []string // filter links
	Limit   int
}

// page renders the same data as the API. It is built in a buffer so a
// template error becomes a clean 500, not half a page.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, err := taskQuery(r.URL.Query())
	if err != nil {
		http.Error(w, "400 Bad Request: "+err.Error(), http.StatusBadRequest)
		return
	}
	d := pageData{Refresh: int(s.o.Refresh / time.Second), Now: s.o.now(), State: r.URL.Query().Get("state"), Limit: f.Limit}
	for _, st := range knownStates {
		d.States = append(d.States, st.String())
	}
	if d.Workers, err = s.workers(ctx); err == nil {
		if d.Queues, err = s.queues(ctx); err == nil {
			d.Tasks, err = s.tasks(ctx, f)
		}
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = buf.WriteTo(w)
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return time.Since(t).Round(time.Second).String() + " ago"
}
