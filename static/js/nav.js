/* The main menu on a narrow screen: folded behind the "Menu" button (aria-expanded says
   whether it is open). Without this script the menu stays open, as on a wide screen. */
(function () {
  "use strict";

  function start() {
    var button = document.querySelector(".nav-toggle");
    if (!button) { return; }
    var topbar = button.closest(".topbar");
    topbar.classList.add("nav-collapsible");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      topbar.classList.toggle("nav-open", open);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
