// The overview's chart: runs completed and failed per hour, drawn with uPlot from the JSON the
// activity panel carries, and drawn again whenever the panel is swapped.
(function () {
  "use strict";
  var chart = null;

  function draw() {
    var box = document.getElementById("overview-chart");
    var data = document.getElementById("overview-chart-data");
    if (!box || !data || !window.uPlot || box.dataset.drawn) return;
    var series = JSON.parse(data.textContent);
    if (chart) chart.destroy();
    box.dataset.drawn = "1";
    var width = Math.max(240, box.clientWidth || 480);
    chart = new window.uPlot({
      width: width,
      height: 180,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      axes: [{}, { size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }],
      series: [
        {},
        { label: "completed", stroke: "#1f7a3d", fill: "rgba(31,122,61,0.12)", width: 2 },
        { label: "failed", stroke: "#b3261e", fill: "rgba(179,38,30,0.12)", width: 2 },
      ],
    }, [series.x, series.completed, series.failed], box);
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("htmx:sseMessage", draw);
})();
