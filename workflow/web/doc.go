// Package web is aird's webserver: a REST API modelled on Airflow's stable
// REST API v1 (same paths, JSON field names, pagination and problem-JSON
// errors, so existing scripts carry over), users with roles, Basic and
// session authentication, CSRF protection, login rate limiting, security
// headers and the load balancer's /health.
//
// # Routing and permissions
//
// Every route is one line of the route table (routes.go): method, path and
// the Permission it needs. Server.ServeHTTP is the single gate: it finds
// the pattern the request matches, looks its permission up, and only then
// authenticates and authorises, before any handler runs. A route cannot be
// registered without a permission, and a path that matches no route needs
// a signed-in user before it learns that it is a 404. The UI pages are
// added to the same table.
//
// Roles are sets of permissions (perms.go), each including the one below:
//
//	Viewer  website.read, dags.read, pools.read
//	User    + dags.edit (trigger, clear, mark success/failed, pause, delete runs)
//	Op      + pools.edit, variables.read/edit, connections.read/edit
//	Admin   + users.read/edit
//
// Variables can hold secrets, so reading them needs Op, as in Airflow.
//
// # Authentication
//
// API clients send HTTP Basic credentials (checked with bcrypt; a verified
// password is remembered for a few minutes under an HMAC so that scripts
// do not pay bcrypt on every call). Browsers sign in at /login and get a
// session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS or when the
// load balancer sends X-Forwarded-Proto: https). The cookie is the
// session itself, sealed with AES-GCM under a key derived from
// webserver.secret_key, so a restarted server and every webserver worker
// accept it; logout revokes it everywhere by bumping the user's session
// generation in the store. Without a secret_key a random one is used and
// a restart signs browsers out.
//
// Unauthenticated API requests get 401 with a Basic challenge, browser
// requests a redirect to /login. Only /health, /api/v1/health, /login,
// /logout and the embedded assets under /static/ are public. Every route
// is a line of the route table (routes.go) with its permission; a handler
// put on the mux any other way is refused.
//
// # UI
//
// Server-rendered pages (ui_*.go, templates/*.html, static/*, all
// embedded; no build step): the DAG list with search, tags, pause toggle
// and an import-errors banner; per DAG a grid of runs × tasks and a graph;
// run and task instance pages with the log (followed live while the task
// runs, through the log API's continuation token); trigger with conf,
// clear (with downstream) and mark success/failed; variables, pools and
// users. Every page reads without JavaScript; static/aird.js only
// refreshes the grid, follows logs and asks before destructive actions.
// Nothing is inline, so the CSP needs no 'unsafe-inline'. Pages are in the
// route table like the API, with the permission of their API twin, and
// their actions share the API's code (triggerRun, clearSelected,
// setStates). Times are shown in Options.UITimezone.
//
// # CSRF
//
// Every state-changing request passes net/http's CrossOriginProtection
// (Sec-Fetch-Site, else Origin against Host). Requests authenticated by
// the session cookie must also carry the session's token (CSRFToken) in
// the csrf_token form field or the X-CSRF-Token header; the login form
// uses a double-submit cookie. Basic-auth clients carry no ambient
// credentials from other sites and need no token.
//
// # Login rate limiting
//
// Failed sign-ins, by form or Basic auth, are counted per client IP and
// username: Airflow's default of 5 per 40 seconds, in memory or in Redis
// (db redis.rate_limit_db) when redis.address is set. Past the limit the
// answer is 429 with Retry-After, even for the right password (unless that
// same password was verified in the last five minutes: only its owner can
// present it). Successes do not count. If Redis is unreachable the limiter
// fails open and logs.
//
// # Health
//
// /health answers like Airflow: always 200, with
// {"metadatabase":{"status"},"scheduler":{"status","latest_scheduler_heartbeat"}}.
// The scheduler is healthy when a running scheduler job heartbeat within
// the threshold (30 s by default); the metadatabase is unhealthy when the
// store does not answer. A load balancer that only checks the status code
// therefore checks that the webserver is up; the deploy gate reads the body.
package web
