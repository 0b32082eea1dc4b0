// Moderator console: reveal blurred images, reason templates per action, and keyboard
// shortcuts (a approve, r reject, s reject + strike, e escalate, v reveal, n claim next,
// Ctrl+Enter decide). Shortcuts never fire while typing in a field.
(function () {
  "use strict";

  function templates() {
    var node = document.getElementById("reason-templates");
    return node ? JSON.parse(node.textContent) : {};
  }

  function fillReasons(form) {
    var select = form.querySelector("select[name=reason_template]");
    var chosen = form.querySelector("input[name=action]:checked");
    if (!select) { return; }
    var options = chosen ? (templates()[chosen.value] || {}) : {};
    select.innerHTML = "";
    var blank = document.createElement("option");
    blank.value = "";
    blank.textContent = chosen ? "— choose a reason —" : "— choose an action first —";
    select.appendChild(blank);
    Object.keys(options).forEach(function (key) {
      var option = document.createElement("option");
      option.value = key;
      option.textContent = options[key];
      select.appendChild(option);
    });
  }

  function bind(root) {
    root.querySelectorAll("#decision-form").forEach(function (form) {
      form.querySelectorAll("input[name=action]").forEach(function (radio) {
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
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
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
      var text = form && form.querySelector("select[name=reason_template]");
      if (text) { text.focus(); }
    } else {
      target.click();
    }
  });

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.body.addEventListener("htmx:afterSwap", function (event) { bind(event.target); });
})();
