// The run page's log: a search box that marks matching lines (and hides the others), applied
// again as lines arrive; the log keeps to its end while the reader is there.
(function () {
  "use strict";

  function apply() {
    var log = document.getElementById("run-log-lines");
    var box = document.getElementById("log-search");
    if (!log || !box) return;
    var needle = box.value.trim().toLowerCase();
    var only = document.getElementById("log-only").checked;
    var lines = log.querySelectorAll(".log-line");
    var matches = 0;
    for (var i = 0; i < lines.length; i++) {
      var hit = needle !== "" && lines[i].textContent.toLowerCase().indexOf(needle) >= 0;
      if (hit) matches++;
      lines[i].classList.toggle("match", hit);
      lines[i].hidden = needle !== "" && only && !hit;
    }
    document.getElementById("log-matches").textContent =
      needle === "" ? "" : matches + " of " + lines.length + " lines match";
  }

  var atEnd = true;
  document.addEventListener("DOMContentLoaded", function () {
    var log = document.getElementById("run-log-lines");
    if (!log) return;
    log.scrollTop = log.scrollHeight;
    log.addEventListener("scroll", function () {
      atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    });
    document.getElementById("log-search").addEventListener("input", apply);
    document.getElementById("log-only").addEventListener("change", apply);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var log = document.getElementById("run-log-lines");
    if (!log || event.detail.target !== log) return;
    apply();
    if (atEnd) log.scrollTop = log.scrollHeight;
  });
})();
