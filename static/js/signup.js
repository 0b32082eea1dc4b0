// Sign-up: preselect the browser's time zone (a static file: the CSP allows no inline script).
(function () {
  var form = document.querySelector("form[data-bound]");
  var select = document.getElementById("id_time_zone");
  if (!form || !select || form.dataset.bound === "true") return;
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; break; }
    }
  } catch (e) { /* keep the default */ }
})();
