// Hookline dashboard: progressive enhancement only. Every action works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The page's texts, in its language (the server's catalogue, package i18n); English when the
  // page carries none.
  var T = {
    "time.justNow": "just now", "time.ago": "{time} ago", "time.in": "in {time}",
    "time.minutes.one": "1 minute", "time.minutes.other": "{count} minutes",
    "time.hours.one": "1 hour", "time.hours.other": "{count} hours",
    "time.days.one": "1 day", "time.days.other": "{count} days",
    "script.copied": "Copied", "script.copiedAnnounce": "Copied to the clipboard.",
    "script.newAttempts.one": "1 new attempt.", "script.newAttempts.other": "{count} new attempts."
  };
  try {
    var given = JSON.parse(document.documentElement.getAttribute("data-strings") || "{}");
    Object.keys(given).forEach(function (k) { if (given[k]) T[k] = given[k]; });
  } catch (e) { /* keep English */ }
  function fill(text, name, value) { return text.split("{" + name + "}").join(value); }
  function plural(id, n) { return fill(T[id + (n === 1 ? ".one" : ".other")] || T[id + ".other"], "count", n); }

  // Relative times ("3 minutes ago") stay current; the absolute time is in the title.
  function relative(date) {
    var s = Math.round((Date.now() - date.getTime()) / 1000);
    var future = s < 0;
    s = Math.abs(s);
    if (s < 45) return T["time.justNow"];
    var text;
    if (s < 90) text = plural("time.minutes", 1);
    else if (s < 3600) text = plural("time.minutes", Math.round(s / 60));
    else if (s < 5400) text = plural("time.hours", 1);
    else if (s < 86400) text = plural("time.hours", Math.round(s / 3600));
    else if (s < 129600) text = plural("time.days", 1);
    else text = plural("time.days", Math.round(s / 86400));
    return fill(T[future ? "time.in" : "time.ago"], "time", text);
  }
  function updateTimes(root) {
    (root || document).querySelectorAll("time[data-rel]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) el.textContent = relative(d);
    });
  }
  updateTimes();
  setInterval(updateTimes, 30000);

  // Absolute times are rendered in UTC; show them in the viewer's time zone, and keep UTC in
  // the title, where hovering shows it.
  var local, lang = document.documentElement.lang;
  if (lang === "en") lang = "en-GB"; // "6 Dec 2026, 21:04:05", as the server writes them
  try {
    local = new Intl.DateTimeFormat(lang || undefined, {
      day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
      second: "2-digit", hourCycle: "h23", timeZoneName: "short"
    });
  } catch (e) { local = null; }
  function localTimes(root) {
    if (!local) return;
    (root || document).querySelectorAll("time[data-abs]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      if (!el.title) el.title = el.textContent;
      el.textContent = local.format(d);
    });
  }
  localTimes();

  // Announce results of in-page actions to screen readers through the flash region.
  function announce(text) {
    var region = document.getElementById("flash");
    if (!region) return;
    region.textContent = "";
    var div = document.createElement("div");
    div.className = "flash flash-success";
    div.textContent = text;
    region.appendChild(div);
  }

  // Copy buttons: hidden until this script can make them work.
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = target.value !== undefined && target.tagName === "INPUT" ? target.value : target.textContent;
      navigator.clipboard.writeText(text.trim()).then(function () {
        var old = btn.textContent;
        btn.textContent = T["script.copied"];
        announce(T["script.copiedAnnounce"]);
        setTimeout(function () { btn.textContent = old; }, 1500);
      });
    });
  });

  // Forms with data-confirm ask before they submit.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
    });
  });

  // Filters apply as soon as a choice changes; their Apply button is then not needed.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (e) {
      if (e.target.tagName === "SELECT" || e.target.type === "date") form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  });

  // Live lists: a table body with data-live follows new attempts. Every few seconds (while the
  // tab is visible) it asks its route for the attempts that finished since its last question;
  // the answer is rows the server rendered, and those not shown yet go on top. An answer that
  // is not the live route's (a sign-in page after the session ended, an error) stops it; the
  // page still works as it is.
  document.querySelectorAll("tbody[data-live]").forEach(function (tbody) {
    var url = tbody.getAttribute("data-live"), since = tbody.getAttribute("data-since");
    var delay = 2000, failures = 0;
    function schedule() { setTimeout(poll, document.hidden ? 10000 : delay); }
    function add(html) {
      var box = document.createElement("tbody");
      box.innerHTML = html;
      var rows = Array.prototype.filter.call(box.querySelectorAll("tr[data-id]"), function (tr) {
        return !tbody.querySelector('tr[data-id="' + tr.getAttribute("data-id") + '"]');
      });
      if (!rows.length) return;
      var frag = document.createDocumentFragment();
      rows.forEach(function (tr) { tr.classList.add("is-new"); frag.appendChild(tr); });
      updateTimes(frag);
      localTimes(frag);
      tbody.insertBefore(frag, tbody.firstChild);
      document.querySelectorAll("[data-live-show]").forEach(function (el) { el.hidden = false; });
      document.querySelectorAll("[data-live-empty]").forEach(function (el) { el.hidden = true; });
      document.querySelectorAll("[data-live-waiting]").forEach(function (el) {
        if (tbody.querySelector('tr[data-msg="' + el.getAttribute("data-live-waiting") + '"]')) el.remove();
      });
      announce(plural("script.newAttempts", rows.length));
    }
    function poll() {
      if (document.hidden) return schedule();
      var u = url + (url.indexOf("?") < 0 ? "?" : "&") + "finished=" + encodeURIComponent(since);
      fetch(u, { credentials: "same-origin", redirect: "error", headers: { Accept: "text/html" } }).then(function (res) {
        if (res.headers.get("X-Hookline-Now")) since = res.headers.get("X-Hookline-Now");
        if (res.status === 204) return "";
        if (!res.ok || res.headers.get("X-Hookline-Live") !== "rows") throw new Error("stop");
        return res.text();
      }).then(function (html) {
        failures = 0;
        if (html) add(html);
        schedule();
      }, function (e) {
        if (e && e.message === "stop") return;
        // The network or the server is gone for a moment: ask again, less often.
        failures++;
        if (failures < 20) setTimeout(poll, Math.min(30000, delay * (failures + 1)));
      });
    }
    schedule();
  });
})();
