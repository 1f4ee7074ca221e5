(function () {
  "use strict";
  var table = document.getElementById("docs");
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var selects = Array.prototype.slice.call(document.querySelectorAll("#filters select"));
  var shown = document.getElementById("shown");
  function filter() {
    var visible = 0;
    rows.forEach(function (row) {
      var ok = selects.every(function (s) {
        if (!s.value) return true;
        var have = row.getAttribute("data-" + s.getAttribute("data-attr")) || "";
        var mode = s.getAttribute("data-mode");
        if (mode === "exact") return have === s.value;
        return have.split(mode === "line" ? "\n" : " ").indexOf(s.value) >= 0;
      });
      row.hidden = !ok;
      if (ok) visible++;
    });
    shown.textContent = "Showing " + visible + " of " + rows.length + " documents.";
  }
  selects.forEach(function (s) { s.addEventListener("change", filter); });
  document.getElementById("filters").addEventListener("reset", function () { setTimeout(filter, 0); });
  Array.prototype.forEach.call(table.querySelectorAll("button.sort"), function (button) {
    button.addEventListener("click", function () {
      var th = button.parentNode, col = +button.getAttribute("data-col"), num = button.getAttribute("data-kind") === "num";
      var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      Array.prototype.forEach.call(table.querySelectorAll("thead th"), function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", dir);
      var sign = dir === "ascending" ? 1 : -1;
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
        var c = num ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        // ties keep the queue's order
        return sign * c || (+a.cells[0].getAttribute("data-sort")) - (+b.cells[0].getAttribute("data-sort"));
      });
      var fragment = document.createDocumentFragment();
      rows.forEach(function (r) { fragment.appendChild(r); });
      body.appendChild(fragment);
    });
  });
  filter();

  // Keyboard: j/k walk the visible rows, Enter opens one, ? shows the keys.
  var current = -1;
  function visibleRows() { return rows.filter(function (r) { return !r.hidden; }).sort(function (a, b) {
    return a.sectionRowIndex - b.sectionRowIndex; }); }
  function step(delta) {
    var list = visibleRows();
    if (!list.length) return;
    var at = list.indexOf(document.activeElement && document.activeElement.closest ? document.activeElement.closest("tr") : null);
    if (at < 0) at = current;
    current = Math.max(0, Math.min(list.length - 1, at + delta));
    var link = list[current].querySelector("a") || list[current].cells[1];
    if (!link.hasAttribute("href")) link.tabIndex = -1;
    link.focus();
    list[current].scrollIntoView({ block: "nearest" });
  }
  var help = document.getElementById("help");
  document.getElementById("help-btn").addEventListener("click", function () { help.showModal(); });
  document.getElementById("help-close").addEventListener("click", function () { help.close(); });
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || (t && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName) && event.key !== "?")) return;
    if (event.key === "j") { step(1); event.preventDefault(); }
    else if (event.key === "k") { step(-1); event.preventDefault(); }
    else if (event.key === "?") { if (help.open) help.close(); else help.showModal(); event.preventDefault(); }
  });
})();
