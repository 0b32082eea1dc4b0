// Draws the dashboard's charts from the metrics embedded in the page (json_script).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("dashboard-metrics");
    if (!node || typeof Chart === "undefined") { return; }
    var m = JSON.parse(node.textContent);
    var palette = ["#3451b2", "#b42318", "#9a6700", "#1a7f37", "#7c3aed", "#0e7490", "#be185d", "#4b5563"];

    function bar(id, labels, values, label) {
      var canvas = document.getElementById(id);
      if (!canvas) { return; }
      new Chart(canvas, {
        type: "bar",
        data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: palette[0] }] },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }

    bar("chart-priority", m.queue_by_priority.labels, m.queue_by_priority.values, "items");
    bar("chart-category", m.queue_by_category.labels, m.queue_by_category.values, "items");
    bar("chart-hourly", m.decisions_per_hour.labels, m.decisions_per_hour.values, "decisions");
    bar("chart-scores", m.score_distribution.labels, m.score_distribution.values, "decisions");

    var outcomes = Object.keys(m.appeal_outcomes);
    var appeals = document.getElementById("chart-appeals");
    if (appeals) {
      new Chart(appeals, {
        type: "doughnut",
        data: { labels: outcomes, datasets: [{ data: outcomes.map(function (k) { return m.appeal_outcomes[k]; }), backgroundColor: palette }] }
      });
    }
    var drift = document.getElementById("chart-block-rate");
    if (drift) {
      new Chart(drift, {
        type: "line",
        data: {
          labels: m.block_rate.labels,
          datasets: m.block_rate.series.map(function (s, i) {
            return { label: s.label, data: s.values, borderColor: palette[i % palette.length], fill: false, tension: 0.2 };
          })
        },
        options: { scales: { y: { beginAtZero: true, suggestedMax: 100 } } }
      });
    }
  });
})();
