// The dashboard's script layer over htmx: write tokens, ETag polling, refusals shown, and a
// live region that says what an action did. Page scripts (queue.js...) build on `jobsched`.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) return;
    // 304: the panel did not change, nothing to swap. 4xx: the server retargets its message to
    // #flash (HX-Retarget), so it is shown, not dropped as htmx does by default.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "304", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: false },
      { code: "5..", swap: true, error: true },
    ];
    htmx.config.historyCacheSize = 0; // pages hold one key's view: not kept after logout
    htmx.config.allowEval = false;
  });

  // A polling panel sends the ETag of what it shows; the server answers 304 while unchanged.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.hasAttribute("data-poll") && elt.dataset.etag) {
      event.detail.headers["If-None-Match"] = elt.dataset.etag;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var xhr = event.detail.xhr;
    if (elt.hasAttribute("data-poll") && xhr && xhr.status === 200) {
      var etag = xhr.getResponseHeader("ETag");
      if (etag) elt.dataset.etag = etag;
    }
  });

  // While the user drags or edits inside a live panel, its updates wait (the next one carries
  // the latest state), so a swap never pulls a row from under the pointer.
  function busy(elt) {
    return document.body.classList.contains("dragging") || !!elt.querySelector(".editing");
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    if (elt.classList && elt.classList.contains("live") && busy(elt)) {
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:sseBeforeMessage", function (event) {
    if (busy(event.detail.elt)) event.preventDefault();
  });

  // A session that ended (logout elsewhere, a revoked key) sends the page to the login.
  document.addEventListener("htmx:sseError", function () {
    fetch(window.location.href, { method: "HEAD", credentials: "same-origin" }).then(function (r) {
      if (r.redirected || r.status === 401) window.location.assign("/ui/login");
    });
  });

  window.jobsched = {
    csrf: function () {
      var headers = document.body.getAttribute("hx-headers");
      return headers ? JSON.parse(headers)["X-CSRF-Token"] : "";
    },
    announce: function (message) {
      var region = document.getElementById("announce");
      if (!region) return;
      region.textContent = "";
      // A change of text a moment later is announced again, even when it is the same message.
      window.setTimeout(function () { region.textContent = message; }, 50);
    },
    flash: function (level, title, detail) {
      var area = document.getElementById("flash");
      if (!area) return;
      var box = document.createElement("div");
      box.className = "flash " + level;
      box.setAttribute("role", "alert");
      var strong = document.createElement("strong");
      strong.textContent = title;
      box.appendChild(strong);
      if (detail) box.appendChild(document.createTextNode(": " + detail));
      area.replaceChildren(box);
    },
    // A write from a script (a drop, a key press): JSON to a dashboard route, with the token.
    post: function (url, body) {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": window.jobsched.csrf(),
                   "HX-Request": "true" },
        body: JSON.stringify(body || {}),
      });
    },
  };
})();
