// Draws the dashboard's charts from the metrics embedded in the page (json_script).
// Each chart also has its numbers in a table beside it (for screen readers, and for
// reading exact values). Daily rates are drawn as points joined by straight lines:
// no smoothing suggests values between the days.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("dashboard-metrics");
    if (!node || typeof Chart === "undefined") { return; }
    var m = JSON.parse(node.textContent);
    // Distinguishable colours (Okabe–Ito), readable on white.
    var palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#6B4E16", "#333333"];
    var priorityColours = { critical: "#b42318", high: "#D55E00", normal: "#0072B2", low: "#6b7280" };
    var common = { responsive: true, maintainAspectRatio: false, animation: false };

    // A chart with nothing to show says so in words instead of drawing empty axes.
    function emptyChart(canvas, values) {
      var hasData = values.some(function (v) { return v > 0; });
      if (hasData) { return false; }
      var note = document.createElement("p");
      note.className = "muted no-data";
      note.textContent = "No data yet.";
      canvas.parentNode.replaceWith(note);
      return true;
    }

    function bar(id, labels, values, label, colours) {
      var canvas = document.getElementById(id);
      if (!canvas || emptyChart(canvas, values)) { return; }
      new Chart(canvas, {
        type: "bar",
        data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: colours || palette[0] }] },
        options: Object.assign({}, common, {
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        })
      });
    }

    bar("chart-priority", m.queue_by_priority.labels, m.queue_by_priority.values, "items",
      m.queue_by_priority.labels.map(function (l) { return priorityColours[l] || palette[0]; }));
    bar("chart-category", m.queue_by_category.labels, m.queue_by_category.values, "items",
      m.queue_by_category.labels.map(function (_l, i) { return palette[i % palette.length]; }));
    bar("chart-hourly", m.decisions_per_hour.labels, m.decisions_per_hour.values, "decisions");
    bar("chart-scores", m.score_distribution.labels, m.score_distribution.values, "decisions");

    var outcomes = Object.keys(m.appeal_outcomes);
    var appeals = document.getElementById("chart-appeals");
    if (appeals && !emptyChart(appeals, outcomes.map(function (k) { return m.appeal_outcomes[k]; }))) {
      new Chart(appeals, {
        type: "bar",
        data: { labels: outcomes, datasets: [{ data: outcomes.map(function (k) { return m.appeal_outcomes[k]; }), backgroundColor: palette }] },
        options: Object.assign({}, common, { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } })
      });
    }
    var drift = document.getElementById("chart-block-rate");
    var rates = [].concat.apply([], m.block_rate.series.map(function (s) { return s.values; }));
    if (drift && !emptyChart(drift, rates)) {
      new Chart(drift, {
        type: "line",
        data: {
          labels: m.block_rate.labels,
          datasets: m.block_rate.series.map(function (s, i) {
            var colour = palette[i % palette.length];
            return { label: s.label, data: s.values, borderColor: colour, backgroundColor: colour, fill: false, tension: 0, pointRadius: 3 };
          })
        },
        options: Object.assign({}, common, { scales: { y: { beginAtZero: true, suggestedMax: 100, ticks: { callback: function (v) { return v + " %"; } } } } })
      });
    }
  });
})();
