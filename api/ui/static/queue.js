// The queue page: drag to reorder (SortableJS), the ETAs previewed while dragging; the same
// moves by buttons and keys; focus kept on the moved row across every re-render of the list.
(function () {
  "use strict";
  var focused = null; // the job id of the row that last had focus
  var seq = 0; // the newest preview asked: an older answer arriving late is dropped

  function panel() { return document.getElementById("panel-queue_items"); }
  function rows() {
    var p = panel();
    return p ? Array.prototype.slice.call(p.querySelectorAll("tbody[data-sortable] > tr")) : [];
  }
  function rowOf(el) { return el && el.closest ? el.closest("tr[data-job-id]") : null; }
  function find(jobId) {
    return rows().filter(function (r) { return r.dataset.jobId === jobId; })[0] || null;
  }
  function dragging(on) { document.body.classList.toggle("dragging", on); }

  function swap(html) { window.htmx.swap(panel(), html, { swapStyle: "innerHTML" }); }

  // A write whose answer is the list again (and maybe a message for #flash).
  function write(url, body, jobId, said) {
    focused = jobId;
    seq += 1;
    return window.jobsched.post(url + window.location.search, body).then(function (response) {
      return response.text().then(function (html) {
        if (response.headers.get("X-Refused")) {
          window.htmx.swap("#flash", html, { swapStyle: "innerHTML" });
          return;
        }
        swap(html);
        var row = find(jobId);
        if (response.headers.get("X-Outcome") === "lost") {
          window.jobsched.announce("Job " + jobId + " was not moved");
        } else {
          window.jobsched.announce("Moved job " + jobId + " to " +
            (row ? "position " + row.dataset.position : said));
        }
      });
    }).catch(function (error) {
      window.jobsched.flash("error", "Job " + jobId + " not moved", String(error));
    }).then(function () { dragging(false); });
  }

  function move(row, how) {
    var id = row.dataset.jobId, at = Number(row.dataset.position);
    if (how === "bottom") return write("/ui/queue/" + encodeURIComponent(id) + "/bottom", {}, id,
      "the bottom");
    var to = how === "top" ? 1 : how === "up" ? at - 1 : at + 1;
    if (to < 1 || to === at) return null;
    return write("/ui/queue/move", { job_id: id, position: to }, id, "position " + to);
  }

  function showPreview(answer) {
    rows().forEach(function (row) {
      var eta = answer.etas[row.dataset.jobId];
      var cell = row.querySelector("td.eta");
      if (!eta || !cell) return;
      cell.textContent = eta.text;
      cell.title = eta.title;
      cell.classList.toggle("eta-changed", !!eta.changed);
    });
  }

  function preview(jobId, position) {
    var mine = (seq += 1);
    window.jobsched.post("/ui/queue/preview" + window.location.search,
      { job_id: jobId, position: position }).then(function (response) {
      return response.headers.get("X-Refused") ? null : response.json();
    }).then(function (answer) {
      if (answer && mine === seq && document.body.classList.contains("dragging")) {
        showPreview(answer);
      }
    }).catch(function () { /* a preview is a hint: the drop says what happened */ });
  }

  function unpreview() {
    rows().forEach(function (row) {
      var cell = row.querySelector("td.eta");
      cell.textContent = cell.dataset.eta;
      cell.classList.remove("eta-changed");
    });
  }

  function sortable() {
    var body = panel() && panel().querySelector("tbody[data-sortable]");
    if (!body || !window.Sortable || body.dataset.sorting) return;
    body.dataset.sorting = "1";
    var places = [];
    window.Sortable.create(body, {
      handle: ".drag-handle",
      forceFallback: true, // mouse events, not native drag: the same in every browser
      animation: 0,
      onStart: function () {
        dragging(true);
        places = rows().map(function (r) { return Number(r.dataset.position); });
      },
      // The placeholder moved: the row would take the queue-wide place of the row it displaced.
      onChange: function (event) { preview(event.item.dataset.jobId, places[event.newIndex]); },
      onEnd: function (event) {
        var id = event.item.dataset.jobId;
        if (event.newIndex === event.oldIndex) {
          seq += 1;
          unpreview();
          dragging(false);
          return;
        }
        var to = places[event.newIndex];
        write("/ui/queue/move", { job_id: id, position: to }, id, "position " + to);
      },
    });
  }

  // After any swap of the list (ours, a button's, a live push): drag again, focus the row again.
  function settled() {
    var p = panel();
    p.dataset.swaps = String(Number(p.dataset.swaps || 0) + 1); // for tests and the benchmark
    sortable();
    var active = document.activeElement;
    if (focused && (!active || active === document.body || !document.contains(active))) {
      var row = find(focused);
      if (row) row.focus();
    }
  }

  // A selection in progress holds the live pushes back (app.js: .editing), so it is not lost.
  function selecting() {
    var body = panel() && panel().querySelector("tbody");
    if (!body) return;
    var any = !!panel().querySelector("input[type=checkbox][form=queue-bulk]:checked");
    body.classList.toggle("editing", any);
  }

  var KEYS = { ArrowUp: "up", ArrowDown: "down", Home: "top", End: "bottom" };

  // Set up as the (deferred) script runs: before htmx connects the live stream at DOMContentLoaded,
  // so its first push is seen too.
  function start() {
    var p = panel();
    if (!p) return;
    new MutationObserver(settled).observe(p, { childList: true });
    sortable();
    p.addEventListener("focusin", function (event) {
      var row = rowOf(event.target);
      if (row) focused = row.dataset.jobId;
    });
    p.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button[data-move]");
      if (button) move(rowOf(button), button.dataset.move);
    });
    p.addEventListener("change", selecting);
    // On the document: a live push may replace the focused row between a focus and a key
    // press; focus then falls to the body, and the key still moves the row that had it.
    document.addEventListener("keydown", function (event) {
      var row = event.target;
      if (row === document.body && focused) row = find(focused);
      if (!row || !row.matches || !row.matches("tr[data-job-id]") || !(event.key in KEYS)) return;
      event.preventDefault();
      if (event.altKey) {
        move(row, KEYS[event.key]);
      } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
        var next = event.key === "ArrowUp" ? row.previousElementSibling : row.nextElementSibling;
        if (next) next.focus();
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
