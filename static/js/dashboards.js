/* CXHub dashboards: draw Plotly charts from their JSON and keep them drawn after htmx swaps;
   each chart's one mode-bar button downloads a PNG titled with its scope and dates.
   Back/Forward after a filter change reload the address (htmx keeps no history snapshots,
   see templates/base.html), so the filter bar and the figures always come from one URL. */
(function () {
  "use strict";

  var EXTRA_TOP = 84; // room above the plot for the title and the scope line of a PNG

  function escapeText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function today() {
    return new Date().toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
  }

  // The scope a chart's PNG names: the chart's own, or the page's window note (pages whose
  // charts carry none), without the links that follow it.
  function pageScope() {
    var note = document.getElementById("window-note");
    if (!note) { return ""; }
    var copy = note.cloneNode(true);
    copy.querySelectorAll("a").forEach(function (link) { link.remove(); });
    return copy.textContent.replace(/\s+/g, " ").replace(/[\s·]+$/, "").trim();
  }

  // The mode bar's one button: a PNG of the figure with its title, its scope and dates above
  // the plot, so a picture pasted into a slide still says what it shows.
  function downloadButton(element, source) {
    return {
      name: "download-titled-png",
      title: "Download as PNG (with title, scope and dates)",
      icon: window.Plotly.Icons.camera,
      click: function () {
        var payload = JSON.parse(source.textContent);
        var info = payload.export || {};
        var layout = payload.figure.layout || {};
        var margin = Object.assign({ l: 60, r: 20, t: 20, b: 50 }, layout.margin || {});
        var scope = info.scope || pageScope();
        var size = element._fullLayout || {};
        var height = (size.height || element.clientHeight || 400) + EXTRA_TOP;
        var figure = {
          data: payload.figure.data,
          layout: Object.assign({}, layout, {
            width: size.width || element.clientWidth || 800,
            height: height,
            margin: Object.assign({}, margin, { t: margin.t + EXTRA_TOP }),
            // Bold by font weight: <b> would become a style attribute, which the CSP refuses.
            title: {
              text: escapeText(info.title || ""),
              font: { size: 17, weight: 700 },
              x: 0.01,
              xanchor: "left",
              y: 1 - 12 / height,
              yanchor: "top",
              subtitle: {
                text: (scope ? escapeText(scope) + "<br>" : "") + "Downloaded " + today() + " from CXHub",
                font: { size: 12 }
              }
            }
          })
        };
        var options = (payload.config || {}).toImageButtonOptions || {};
        window.Plotly.downloadImage(figure, {
          format: "png",
          filename: options.filename || element.id,
          scale: options.scale || 2,
          width: figure.layout.width,
          height: figure.layout.height
        });
      }
    };
  }

  function draw(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source) { return; }
      var payload = JSON.parse(source.textContent);
      var config = Object.assign({}, payload.config);
      if (config.modeBarButtons) {
        config.modeBarButtons = [[downloadButton(element, source)]];
      }
      window.Plotly.react(element, payload.figure.data, payload.figure.layout, config);
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
