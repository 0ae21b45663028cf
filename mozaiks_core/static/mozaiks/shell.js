// The shell's small behaviours: the mobile menu toggle, the dark-mode toggle (remembered in
// localStorage; the OS setting until the visitor chooses), the account menu, confirmation
// dialogs for destructive forms, and the notification bell's live count.
(function () {
  "use strict";
  var root = document.documentElement;
  var toggle = document.querySelector("[data-nav-toggle]");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      document.body.classList.toggle("nav-open", !open);
    });
  }

  var themeButton = document.querySelector("[data-theme-toggle]");
  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function isDark() {
    return root.dataset.theme ? root.dataset.theme === "dark" : Boolean(darkQuery && darkQuery.matches);
  }
  function showTheme() {
    if (themeButton) { themeButton.setAttribute("aria-pressed", String(isDark())); }
  }
  if (themeButton) {
    themeButton.addEventListener("click", function () {
      var next = isDark() ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("mz-theme", next); } catch (e) { /* private mode: this page only */ }
      showTheme();
    });
    if (darkQuery && darkQuery.addEventListener) { darkQuery.addEventListener("change", showTheme); }
    showTheme();
  }

  var menu = document.querySelector("[data-account-menu]");
  if (menu) {
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }

  // <form data-confirm="Question?" data-confirm-action="Yes, do it">: asks in a dialog first.
  var dialog = null;
  function confirmDialog(form, submitter) {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.setAttribute("aria-labelledby", "mz-confirm-text");
      dialog.innerHTML = '<form method="dialog"><p id="mz-confirm-text"></p><div class="dialog-actions">' +
        '<button value="cancel" class="button-secondary">Keep it</button>' +
        '<button value="ok" class="button-danger" data-confirm-ok></button></div></form>';
      document.body.append(dialog);
    }
    dialog.querySelector("#mz-confirm-text").textContent = form.dataset.confirm;
    dialog.querySelector("[data-confirm-ok]").textContent = form.dataset.confirmAction || "Confirm";
    dialog.onclose = function () {
      if (dialog.returnValue === "ok") {
        form.dataset.confirmed = "true";
        form.requestSubmit(submitter || undefined);
      }
    };
    dialog.returnValue = "";
    dialog.showModal();
    dialog.querySelector("[value=cancel]").focus();
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm || form.dataset.confirmed === "true") { return; }
    event.preventDefault();
    confirmDialog(form, event.submitter);
  });

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
