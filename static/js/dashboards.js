/* CXHub dashboards: draw Plotly charts from their JSON and keep them drawn after htmx swaps. */
(function () {
  "use strict";

  function draw(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source) { return; }
      var payload = JSON.parse(source.textContent);
      window.Plotly.react(element, payload.figure.data, payload.figure.layout, payload.config);
    });
  }

  function start() {
    draw(document);
    document.body.addEventListener("htmx:afterSettle", function (event) { draw(event.detail.elt || document); });
    // A filter the server rejects answers 400 with a readable message: show it in place.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      if (event.detail.xhr.status === 400) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("[data-chart]").forEach(function (element) {
        if (element.data) { window.Plotly.Plots.resize(element); }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
