// The shell's small behaviours: the mobile menu toggle and the notification bell's live count.
(function () {
  "use strict";
  var toggle = document.querySelector("[data-nav-toggle]");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      document.body.classList.toggle("nav-open", !open);
    });
  }
  var bell = document.querySelector("[data-bell]");
  var count = document.querySelector("[data-bell-count]");
  if (!bell || !count) { return; }
  function refresh() {
    fetch("/api/modules/notifications/unread_count", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        var unread = body.result.unread;
        count.textContent = String(unread);
        count.hidden = unread === 0;
        bell.setAttribute("aria-label", "Notifications, " + unread + " unread");
      })
      .catch(function () { /* offline: keep the last count */ });
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
  window.setInterval(refresh, 30000);
  window.mozaiksRefreshBell = refresh;
})();
