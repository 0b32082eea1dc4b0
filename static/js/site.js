// Imagegate site behaviour, loaded on every page (no inline scripts: the CSP forbids them).
// - the phone header collapses behind a Menu button;
// - a textarea marked data-enter-submits sends its form on Enter (Shift+Enter: new line);
// - htmx shows 4xx answers (htmx 2 drops them by default): the server renders the
//   message into the same target, so a refused action is never silent.
(function () {
  "use strict";

  function setUpMenu() {
    var header = document.querySelector(".site-header");
    var button = document.getElementById("menu-toggle");
    if (!header || !button) { return; }
    header.classList.add("collapsible");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = header.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function setUpEnterSubmits(root) {
    root.querySelectorAll("textarea[data-enter-submits]").forEach(function (area) {
      area.addEventListener("keydown", function (event) {
        if (event.key !== "Enter" || event.shiftKey || event.isComposing) { return; }
        event.preventDefault();
        if (area.form) { area.form.requestSubmit(); }
      });
    });
  }

  // A table that scrolls sideways (phones) must be reachable by keyboard: make its
  // wrapper a focusable, named region.
  function setUpScrollRegions(root) {
    root.querySelectorAll(".table-wrap:not([tabindex])").forEach(function (wrap) {
      if (wrap.scrollWidth <= wrap.clientWidth) { return; }
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      var caption = wrap.querySelector("caption");
      var heading = wrap.closest("section, .card, main");
      heading = heading && heading.querySelector("h1, h2, h3");
      wrap.setAttribute("aria-label", (caption || heading || { textContent: "Table" }).textContent.trim());
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    setUpEnterSubmits(document);
    setUpScrollRegions(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) { setUpScrollRegions(event.target); });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 403 || status === 404 || status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
