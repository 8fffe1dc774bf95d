package web

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/airctl/airctl/workflow/dag"
	"github.com/airctl/airctl/workflow/queue"
	"github.com/airctl/airctl/workflow/scheduler"
	"github.com/airctl/airctl/workflow/store"
	"github.com/airctl/airctl/workflow/store/sqlite"
	"github.com/airctl/airctl/workflow/worker"
)

// chromiumPath finds Debian's chromium (make deps installs it). Without
// it the browser test is skipped on a workstation but fails under CI, so
// a CI image that lost the package cannot pass silently.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found and CI is set: run `make deps`")
	}
	t.Skip("chromium not found (run `make deps`); set CI=true to make this a failure")
	return ""
}

// appUnderTest is the example DAGs served by a real scheduler and local
// executor in this process, with the webserver on 127.0.0.1.
type appUnderTest struct {
	url string
	st  store.Store
}

func startApp(t *testing.T) *appUnderTest {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	root := t.TempDir()
	dags := filepath.Join(root, "dags")
	if err := os.CopyFS(dags, os.DirFS("../../examples/quickstart/dags")); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(root, "aird.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := CreateUser(ctx, st, NewUser{Username: "admin", Email: "admin@example.com", Role: "Admin", Password: "admin-pass", Cost: bcrypt.MinCost}); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(root, "logs")
	quiet := slog.New(slog.DiscardHandler)
	q := queue.NewLocal()
	sched := scheduler.New(scheduler.Config{Parallelism: 8, PollInterval: 100 * time.Millisecond, HeartbeatInterval: time.Second, Hostname: "browser-test"}, st, q, quiet)
	// Paused at creation, as the reference deployment is: the test
	// unpauses etl_chain from the DAG list, and the catch-up DAG stays
	// quiet.
	bag, err := scheduler.NewDAGFolder(dags, true).Load(ctx, sched)
	if err != nil {
		t.Fatal(err)
	}
	pool := &worker.Pool{
		Queue:         q,
		Runner:        &worker.Runner{Store: st, DAGs: sched.DAG, LogDir: logDir, Hostname: "browser-test", KillGrace: time.Second, Log: quiet},
		Queues:        []string{"default"},
		Concurrency:   4,
		ShutdownGrace: 5 * time.Second,
		OnDone:        func(store.TaskInstance) { sched.Notify() },
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = pool.Run(ctx) })
	wg.Go(func() { _ = sched.Run(ctx) })

	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newServer(Options{Store: st, DAGs: func() *dag.Bag { return bag }, LogDir: logDir, UITimezone: seoul, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv) // listens on 127.0.0.1
	t.Cleanup(func() {
		ts.Close()
		cancel()
		wg.Wait()
		_ = sched.ReleaseQueued(context.Background())
		_ = q.Close()
		st.Close()
	})
	return &appUnderTest{url: ts.URL, st: st}
}

// TestBrowserUI drives the UI in headless Chromium against a running
// scheduler: sign in, see the example DAGs, unpause and trigger
// etl_chain, watch the grid turn green, read a task log, clear a task and
// watch it run again, log out. Screenshots of each step go to
// $AIRD_TEST_ARTIFACTS (or a temp dir) and their paths are logged.
func TestBrowserUI(t *testing.T) {
	chromium := chromiumPath(t)
	app := startApp(t)
	artifacts := os.Getenv("AIRD_TEST_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	artifacts = filepath.Join(artifacts, "browser")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// Start the browser on a context without deadline (a deadline on the
	// first call would bound the browser's life), then give the whole walk
	// one deadline: every wait below ends with it.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()

	// Accept the confirm dialogs of clear/mark forms, as a user would.
	// The listener may not run commands itself: it hands the event to a
	// goroutine that does.
	dialogs := make(chan struct{}, 8)
	var handler sync.WaitGroup
	handler.Go(func() {
		for range dialogs {
			_, _ = chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
		}
	})
	defer handler.Wait()
	defer close(dialogs)
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*cdppage.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- struct{}{}:
			default: // a full channel means a handler is already due
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			// Quality 100 gives PNG; anything less gives JPEG.
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			p := filepath.Join(artifacts, name+".png")
			t.Logf("screenshot: %s", p)
			return os.WriteFile(p, png, 0o644)
		})
	}
	// do runs a step; on failure it saves a screenshot of where it was.
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			loc, _ := chromedp.Run(bctx, chromedp.Location())
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Logf("page at failure:\n%s", html)
			_ = chromedp.Do(bctx, shot("failed-"+strings.ReplaceAll(step, " ", "-")))
			t.Fatalf("%s (at %s): %v", step, loc, err)
		}
	}
	// value runs an action that reads something from the page.
	value := func(step string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return v
	}
	css, id := func(s string) chromedp.CSS { return chromedp.CSS(s) }, func(s string) chromedp.ID { return chromedp.ID(s) }

	do("sign in",
		chromedp.Navigate(app.url+"/"),
		chromedp.WaitVisible(id("username")),
		shot("01-login"),
		chromedp.SendKeys(id("username"), "admin"),
		chromedp.SendKeys(id("password"), "admin-pass"),
		chromedp.Click(id("signin")),
		chromedp.WaitVisible(id("dag-etl_chain")),
	)
	listText := value("read the DAG list", chromedp.Text(css("table.dags")))
	for _, dagID := range []string{"daily_report", "etl_chain", "fan_out_fan_in"} {
		if !strings.Contains(listText, dagID) {
			t.Errorf("DAG list lacks %s: %q", dagID, listText)
		}
	}
	do("unpause etl_chain",
		chromedp.Click(css(`#dag-etl_chain button.toggle`)),
		chromedp.WaitVisible(css(`#dag-etl_chain button.toggle.on`)),
		shot("02-dags"),
	)
	do("trigger etl_chain",
		chromedp.Click(css(`#dag-etl_chain a.dag-link`)),
		chromedp.WaitVisible(id("trigger-button")),
		chromedp.SetValue(css(`#trigger textarea[name=conf]`), `{"table": "orders", "rows": 100}`),
		chromedp.Click(id("trigger-button")),
		chromedp.WaitVisible(css(`#grid th.run`)),
	)
	// The grid refreshes itself; the run's header turns green when every
	// task has succeeded.
	do("watch the grid turn green",
		chromedp.WaitVisible(css(`#grid th.run.state-success`)),
		chromedp.WaitVisible(css(`#grid td.cell.state-success[data-task="load"]`)),
		shot("03-grid"),
	)
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#grid td.cell")].map(c => c.dataset.task + "=" + c.dataset.state)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 4 {
		t.Errorf("grid cells %v, want 4", cells)
	}
	for _, c := range cells {
		if !strings.HasSuffix(c, "=success") {
			t.Errorf("grid cell %s is not success", c)
		}
	}

	do("open the graph",
		chromedp.Navigate(app.url+"/dags/etl_chain/graph"),
		chromedp.WaitVisible(css(`svg.graph g.node.state-success[data-task="load"]`)),
		shot("04-graph"),
		chromedp.Navigate(app.url+"/dags/etl_chain/grid"),
		chromedp.WaitVisible(css(`#grid td.cell[data-task="transform"] a`)),
	)
	do("open a task log",
		chromedp.Click(css(`#grid td.cell[data-task="transform"] a`)),
		chromedp.WaitVisible(id("log")),
		shot("05-task-log"),
	)
	// transform sums 1..100 from extract's file.
	if logText := value("read the log", chromedp.Text(id("log"))); !strings.Contains(logText, "sum: 5050") {
		t.Errorf("transform's log does not show its output: %q", logText)
	}

	// load cleans up the staging folder, so clearing it alone runs again
	// cleanly. The badge carries the try; the page follows it live until
	// try 2 of load has succeeded.
	do("clear a task",
		chromedp.Navigate(app.url+"/dags/etl_chain/grid"),
		chromedp.Click(css(`#grid td.cell[data-task="load"] a`)),
		chromedp.WaitVisible(id("clear-task")),
		chromedp.Click(id("clear-task")),
	)
	do("watch the cleared task run again",
		chromedp.WaitVisible(css(`#ti-state.state-success[data-try="2"]`)),
		shot("06-cleared-task"),
	)
	if logText := value("read the new try's log", chromedp.Text(id("log"))); !strings.Contains(logText, "try 2 of") {
		t.Errorf("the cleared task's page does not show try 2's log: %q", logText)
	}
	runs, _, err := app.st.ListDagRuns(context.Background(), store.DagRunFilter{DagID: "etl_chain"})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v %v", runs, err)
	}
	ti, err := app.st.GetTaskInstance(context.Background(), store.TIKey{DagID: "etl_chain", RunID: runs[0].RunID, TaskID: "load"})
	if err != nil || ti.TryNumber != 2 || ti.State != store.TISuccess {
		t.Errorf("load after clear: try %d state %s (%v), want try 2 success", ti.TryNumber, ti.State, err)
	}

	do("log out",
		chromedp.Click(id("logout")),
		chromedp.WaitVisible(id("username")),
		shot("07-logged-out"),
		chromedp.Navigate(app.url+"/dags"),
		chromedp.WaitVisible(id("username")),
	)
	if loc := value("read the location", chromedp.Location()); !strings.Contains(loc, "/login") {
		t.Errorf("after logout /dags is at %s, want the login page", loc)
	}
}
