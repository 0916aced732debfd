// Hookline dashboard: progressive enhancement only. Every action works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Relative times ("3 minutes ago") stay current; the absolute time is in the title.
  function relative(date) {
    var s = Math.round((Date.now() - date.getTime()) / 1000);
    var future = s < 0;
    s = Math.abs(s);
    if (s < 45) return "just now";
    var text;
    if (s < 90) text = "1 minute";
    else if (s < 3600) text = Math.round(s / 60) + " minutes";
    else if (s < 5400) text = "1 hour";
    else if (s < 86400) text = Math.round(s / 3600) + " hours";
    else if (s < 129600) text = "1 day";
    else text = Math.round(s / 86400) + " days";
    return future ? "in " + text : text + " ago";
  }
  function updateTimes() {
    document.querySelectorAll("time[data-rel]").forEach(function (el) {
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
  if (local) {
    document.querySelectorAll("time[data-abs]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      if (!el.title) el.title = el.textContent;
      el.textContent = local.format(d);
    });
  }

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
        btn.textContent = "Copied";
        announce("Copied to the clipboard.");
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
})();
