// Moderator console: reveal blurred images, reasons that fit the chosen action or
// outcome, and keyboard shortcuts (each action's key is its data-shortcut attribute,
// rendered from accountability.actions; v reveal, n claim next, Ctrl+Enter decide).
// Single-key shortcuts never fire while typing in a field, and can be turned off
// (WCAG 2.1.4); the choice is remembered.
(function () {
  "use strict";

  var STORAGE_KEY = "imagegate.console.shortcuts";

  function shortcutsOn() {
    try { return window.localStorage.getItem(STORAGE_KEY) !== "off"; } catch (e) { return true; }
  }

  function applyShortcutSetting() {
    document.body.classList.toggle("shortcuts-off", !shortcutsOn());
  }

  // Decision form: options built from the chosen action's reasons, which the server
  // renders on the action's radio button (data-reason-options: [[key, sentence], ...]).
  function fillFromTemplates(form, chosen) {
    var select = form.querySelector("select[name=reason_template]");
    var previous = select.value;
    var options = chosen && chosen.dataset.reasonOptions ? JSON.parse(chosen.dataset.reasonOptions) : [];
    var fits = false;
    select.innerHTML = "";
    var blank = document.createElement("option");
    blank.value = "";
    blank.textContent = chosen ? "— choose a reason —" : "— choose an action first —";
    select.appendChild(blank);
    options.forEach(function (pair) {
      var option = document.createElement("option");
      option.value = pair[0];
      option.textContent = pair[1];
      select.appendChild(option);
      if (pair[0] === previous) { fits = true; }
    });
    if (fits) { select.value = previous; }
  }

  // Appeal form: the server lists every reason in optgroups; only the chosen outcome's
  // group stays usable, and a reason that still fits is kept.
  function filterGroups(form, chosen) {
    var select = form.querySelector("select[name=reason_template]");
    var fits = false;
    select.querySelectorAll("optgroup").forEach(function (group) {
      var match = chosen && group.dataset.outcome === chosen.value;
      group.hidden = !match;
      group.disabled = !match;
      if (match && group.querySelector("option[value='" + select.value + "']")) { fits = true; }
    });
    if (!fits) { select.value = ""; }
  }

  function fillReasons(form) {
    var name = form.dataset.reasons;
    var select = form.querySelector("select[name=reason_template]");
    if (!select || !name) { return; }
    var chosen = form.querySelector("input[name=" + name + "]:checked");
    if (select.querySelector("optgroup")) { filterGroups(form, chosen); } else { fillFromTemplates(form, chosen); }
  }

  function bind(root) {
    root.querySelectorAll("form[data-reasons]").forEach(function (form) {
      form.querySelectorAll("input[name=" + form.dataset.reasons + "]").forEach(function (radio) {
        radio.addEventListener("change", function () { fillReasons(form); });
      });
      fillReasons(form);
    });
    root.querySelectorAll("button.reveal").forEach(function (button) {
      button.addEventListener("click", function () {
        var image = button.querySelector("img");
        var revealed = image.classList.toggle("blurred") === false;
        button.setAttribute("aria-pressed", revealed ? "true" : "false");
      });
    });
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    var form = document.getElementById("decision-form");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (!shortcutsOn() || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var key = event.key.toLowerCase();
    if (key === "v") {
      document.querySelectorAll("button.reveal").forEach(function (b) { b.click(); });
      return;
    }
    var target = document.querySelector("[data-shortcut='" + key + "']");
    if (!target) { return; }
    event.preventDefault();
    if (target.type === "radio") {
      target.checked = true;
      target.dispatchEvent(new Event("change", { bubbles: true }));
      var select = form && form.querySelector("select[name=reason_template]");
      if (select) { select.focus(); }
    } else {
      target.click();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("shortcuts-toggle");
    if (toggle) {
      toggle.closest("label").hidden = false;
      toggle.checked = shortcutsOn();
      toggle.addEventListener("change", function () {
        try { window.localStorage.setItem(STORAGE_KEY, toggle.checked ? "on" : "off"); } catch (e) { /* private mode */ }
        applyShortcutSetting();
      });
    }
    applyShortcutSetting();
    bind(document);
  });
  document.body.addEventListener("htmx:afterSwap", function (event) { bind(event.target); });
})();
