// aird UI enhancements. Every page works without this file; it only
// refreshes the grid, follows live logs and asks before destructive
// actions. Loaded with defer, so the DOM is ready.
(function () {
  "use strict";

  // Forms with data-confirm ask first (clear, mark, delete).
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });

  // The grid reloads itself: fetch the same page and swap the #grid
  // section, keeping the trigger form untouched. The period comes from
  // the server (short while a run is active).
  var grid = document.getElementById("grid");
  if (grid) {
    var refreshGrid = function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("grid");
          if (fresh) {
            grid.innerHTML = fresh.innerHTML;
            grid.setAttribute("data-refresh", fresh.getAttribute("data-refresh"));
          }
        })
        .catch(function () { /* keep the old grid; try again later */ })
        .then(schedule);
    };
    var schedule = function () {
      var ms = parseInt(grid.getAttribute("data-refresh"), 10) || 15000;
      window.setTimeout(refreshGrid, ms);
    };
    schedule();
  }

  // A running task's log follows the API with the continuation token;
  // once the task instance has finished, one last read and it stops.
  var log = document.getElementById("log");
  if (log && log.getAttribute("data-live") === "true") {
    var token = log.getAttribute("data-token");
    var logURL = log.getAttribute("data-log-url");
    var tiURL = log.getAttribute("data-ti-url");
    var finished = ["success", "failed", "upstream_failed", "skipped"];
    var getJSON = function (url) {
      return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
    };
    var readMore = function () {
      return getJSON(logURL + "?token=" + encodeURIComponent(token)).then(function (j) {
        // No progress: nothing new, or only the note that the file does
        // not exist yet (which the page already shows).
        if (j.continuation_token === token) { return; }
        if (log.getAttribute("data-placeholder") === "true") {
          log.textContent = "";
          log.setAttribute("data-placeholder", "false");
        }
        var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.appendChild(document.createTextNode(j.content));
        if (atEnd) { log.scrollTop = log.scrollHeight; }
        token = j.continuation_token;
      });
    };
    var poll = function () {
      getJSON(tiURL).then(function (ti) {
        var state = ti.state || "none";
        // A new try started (the task was cleared or retried): show its
        // log instead, by loading the page for the latest try again.
        if (log.getAttribute("data-latest") === "true" && ti.try_number > parseInt(log.getAttribute("data-try"), 10)) {
          window.location.replace(window.location.pathname);
          return true;
        }
        // Read the log before showing the new state, so a finished badge
        // comes with the whole log.
        return readMore().then(function () {
          var badge = document.getElementById("ti-state");
          if (badge) {
            badge.textContent = state;
            badge.className = "badge state-" + state.replace(/_/g, "-");
            badge.setAttribute("data-try", String(ti.try_number));
          }
          return finished.indexOf(state) >= 0;
        });
      }).then(function (done) {
        if (done) {
          var note = document.getElementById("log-live");
          if (note) { note.textContent = "The task has finished."; }
          return;
        }
        window.setTimeout(poll, 1500);
      }).catch(function () { window.setTimeout(poll, 5000); });
    };
    window.setTimeout(poll, 1500);
  }
})();
