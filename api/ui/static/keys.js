// The keys page: copy a new key's secret (shown once) to the clipboard.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent;
    var done = function () { window.jobsched.announce("Secret copied."); button.textContent = "Copied"; };
    var select = function () {
      // No clipboard (an insecure origin, a denied permission): select it for a manual copy.
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      window.jobsched.announce("Secret selected: press Ctrl+C to copy it.");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, select);
    } else {
      select();
    }
  });
})();
