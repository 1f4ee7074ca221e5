(function () {
  "use strict";
  var byId = function (id) { return id ? document.getElementById(id) : null; };
  var docText = byId("doc-text");
  var panes = Array.prototype.slice.call(document.querySelectorAll(".source-pane"));
  var tabs = Array.prototype.slice.call(document.querySelectorAll(".tabs [role=tab]"));
  var syncBox = byId("sync"), quoteBox = byId("hide-quotes");
  var last = null;

  // Several sources: one pane shows at a time, chosen by its tab (all show without script and in print).
  function showSource(number) {
    if (!tabs.length) return;
    tabs.forEach(function (tab) { tab.setAttribute("aria-selected", tab.getAttribute("data-source") === String(number) ? "true" : "false"); });
    panes.forEach(function (pane) { pane.hidden = pane.getAttribute("data-source") !== String(number); });
  }
  tabs.forEach(function (tab) { tab.addEventListener("click", function () { showSource(tab.getAttribute("data-source")); }); });
  if (tabs.length) showSource(tabs[0].getAttribute("data-source"));
  function activeSourceText() {
    var pane = panes.filter(function (p) { return !p.hidden; })[0];
    return pane ? pane.querySelector(".text") : null;
  }
  function paneOf(el) { return el && el.closest ? el.closest(".source-pane") : null; }

  // Scroll `el` to `offset` pixels below the top of its scrolling pane.
  function place(el, offset) {
    var box = el.closest(".text");
    if (!box) return;
    box.scrollTop += el.getBoundingClientRect().top - box.getBoundingClientRect().top - offset;
  }
  var syncing = false;
  function align(docMark, srcMark) {
    var pane = paneOf(srcMark);
    if (pane) showSource(pane.getAttribute("data-source"));
    var compare = byId("compare");
    var box = docText || (srcMark && srcMark.closest(".text"));
    syncing = true;
    var rect = compare.getBoundingClientRect();
    if (rect.top < 0 || rect.top > window.innerHeight / 3) window.scrollBy(0, rect.top - 8);
    var offset = box ? Math.round(box.clientHeight / 3) : 0;
    if (docMark && docText) place(docMark, offset);
    if (srcMark) place(srcMark, offset);
    // a pane taller than the window (a phone) scrolls the page instead: bring the mark in view
    var first = docMark || srcMark;
    var r = first.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) first.scrollIntoView({ block: "center" });
    requestAnimationFrame(function () { syncing = false; });
  }
  function flash(el) {
    if (last) last.classList.remove("flash");
    el.classList.add("flash");
    last = el;
  }
  function jump(mark) {
    var target = byId(mark.getAttribute("data-target"));
    if (!target) return;
    if (target.id.indexOf("dup-") === 0) {
      target.scrollIntoView({ block: "center" });
    } else if (target.id.indexOf("src-") === 0) {
      align(mark, target);
    } else {
      align(target, mark);
    }
    target.focus({ preventScroll: true });
    flash(target);
  }
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("mark[data-target], button.passage, a.goto-line") : null;
    if (!el) return;
    if (el.matches("button.passage")) {
      var d = byId(el.getAttribute("data-doc")), s = byId(el.getAttribute("data-src"));
      if (d || s) align(d, s);
      if (d) flash(d);
      if (s) s.classList.add("flash");
    } else if (el.matches("a.goto-line")) {
      event.preventDefault();
      var row = docText && docText.querySelector('.row[data-line="' + el.getAttribute("data-line") + '"]');
      if (row) { align(row, null); flash(row); }
    } else {
      jump(el);
    }
  });

  // Sync scroll: the source pane follows the repost, passage by passage.
  function passagePairs() {
    var text = activeSourceText();
    if (!text) return [];
    return Array.prototype.slice.call(text.querySelectorAll("mark[data-target]")).map(function (s) {
      return [byId(s.getAttribute("data-target")), s];
    }).filter(function (p) { return p[0] && docText && docText.contains(p[0]); });
  }
  function follow() {
    if (syncing || !syncBox || !syncBox.checked || !docText) return;
    var text = activeSourceText();
    if (!text) return;
    var top = docText.getBoundingClientRect().top, best = null;
    passagePairs().forEach(function (p) {
      var y = p[0].getBoundingClientRect().top - top;
      if (y >= -40 && (best === null || y < best[0])) best = [y, p];
    });
    syncing = true;
    if (best) {
      place(best[1][1], best[0]);
    } else {
      var share = docText.scrollTop / Math.max(1, docText.scrollHeight - docText.clientHeight);
      text.scrollTop = share * (text.scrollHeight - text.clientHeight);
    }
    requestAnimationFrame(function () { syncing = false; });
  }
  if (docText) docText.addEventListener("scroll", function () { requestAnimationFrame(follow); }, { passive: true });

  if (quoteBox) quoteBox.addEventListener("change", function () { document.body.classList.toggle("hide-quotes", quoteBox.checked); });

  // Keyboard: findings (j/k, n/p), documents of the queue ([ ], J/K), the two toggles, and help.
  var findings = Array.prototype.slice.call(document.querySelectorAll("li.finding"));
  var at = -1;
  function stepFinding(delta) {
    if (!findings.length) return;
    var focused = findings.indexOf(document.activeElement);
    if (focused >= 0) at = focused;
    at = Math.max(0, Math.min(findings.length - 1, at + delta));
    findings[at].focus({ preventScroll: true });
    findings[at].scrollIntoView({ block: "nearest" });
    flash(findings[at]);
  }
  function go(attr) {
    var page = document.body.getAttribute(attr);
    if (page) window.location.href = page;
  }
  var help = byId("help");
  byId("help-btn").addEventListener("click", function () { help.showModal(); });
  byId("help-close").addEventListener("click", function () { help.close(); });
  document.addEventListener("keydown", function (event) {
    var t = event.target, k = event.key;
    if (event.ctrlKey || event.metaKey || event.altKey || (t && /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName))) return;
    if ((k === "Enter" || k === " ") && t.matches && t.matches("mark[data-target]")) { event.preventDefault(); jump(t); return; }
    var act = {
      j: function () { stepFinding(1); }, n: function () { stepFinding(1); },
      k: function () { stepFinding(-1); }, p: function () { stepFinding(-1); },
      "]": function () { go("data-next"); }, J: function () { go("data-next"); },
      "[": function () { go("data-prev"); }, K: function () { go("data-prev"); },
      s: function () { if (syncBox) syncBox.click(); }, q: function () { if (quoteBox) quoteBox.click(); },
      "?": function () { if (help.open) help.close(); else help.showModal(); }
    }[k];
    if (act) { event.preventDefault(); act(); }
  });
})();
