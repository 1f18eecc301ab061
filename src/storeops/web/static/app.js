// storeops — live updates over server-sent events, and inbox conveniences. No framework, no CDN.
(function () {
  "use strict";
  var panel = document.getElementById("dashboard-panel");
  var notice = document.getElementById("activity");
  var live = document.getElementById("live");
  if ((panel || notice) && window.EventSource) {
    var first = true;
    var source = new EventSource("/stream");
    source.addEventListener("change", function () {
      if (live) { live.textContent = "live · updated " + new Date().toLocaleTimeString(); }
      if (first) { first = false; return; }
      if (panel) {
        fetch(panel.dataset.src, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html !== null) { panel.innerHTML = html; } });
      }
      if (notice) { notice.style.display = "block"; }
    });
  }
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = all.checked; });
    });
  }
  // Turn SLA badges amber/red as time passes without a reload.
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due), warn = Number(el.dataset.warn) * 60000;
      var state = due <= now ? "overdue" : (due - now <= warn ? "warning" : "ok");
      var card = el.closest(".card");
      el.className = "sla " + state;
      if (card) { card.classList.remove("sla-ok", "sla-warning", "sla-overdue"); card.classList.add("sla-" + state); }
    });
  }
  setInterval(tick, 30000);
})();
