/* compliance review: decision controls added to the report's pages by `compliance review`.
   Reads the report's data attributes (data-doc-path, data-fingerprint, data-rule) and talks to
   /api/decisions. Every text shown is set with textContent: reasons and names are anyone's text. */
(function () {
  "use strict";
  var API = "/api/decisions";
  var body = document.body;
  var docPath = body.getAttribute("data-doc-path");
  var decisions = [];
  var reviewer = "";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function call(method, url, data) {
    var options = {method: method, credentials: "same-origin", referrerPolicy: "same-origin", headers: {}};
    if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) { throw new Error(answer.error || ("HTTP " + response.status)); }
        return answer;
      });
    });
  }

  /* The decision in force (or reopened / expired) per document or finding: the latest one. */
  function latest(path, fingerprint) {
    var found = null;
    decisions.forEach(function (d) {
      if (d.doc_path === path && (d.fingerprint || null) === (fingerprint || null) && d.state !== "superseded") { found = d; }
    });
    return found;
  }

  function describe(d) {
    if (!d) { return "No decision yet."; }
    var words = {publish: "Publish", hold: "Hold", accept: "Accepted"}[d.status] || d.status;
    var text = words + " — " + d.reviewer + ", " + d.at + (d.reason ? ": " + d.reason : "");
    if (d.expires) { text += " (until " + d.expires + ")"; }
    if (d.state === "reopened") { text = "Reopened: the document changed since this decision. Was: " + text; }
    if (d.state === "expired") { text = "Expired: " + text; }
    return text;
  }

  var live = el("p", "review-ui review-live");
  live.setAttribute("role", "status");
  function say(text, failed) {
    live.textContent = text;
    live.classList.toggle("review-error", !!failed);
  }

  function decide(data) {
    say("Saving…");
    return call("POST", API, data).then(function () { say("Saved."); return load(); })
      .catch(function (error) { say("Not saved: " + error.message, true); });
  }

  function withdraw(d) {
    say("Withdrawing…");
    return call("DELETE", API + "/" + encodeURIComponent(d.id)).then(function (answer) {
      say(answer.note ? "Withdrawn; " + answer.note : "Withdrawn.");
      return load();
    }).catch(function (error) { say("Not withdrawn: " + error.message, true); });
  }

  function button(label, action, name) {
    var b = el("button", "review-button", label);
    b.type = "button";
    if (name) { b.setAttribute("data-review", name); }
    b.addEventListener("click", action);
    return b;
  }

  function documentPanel() {
    var panel = document.querySelector(".decision[data-doc-path]");
    if (!panel) {
      panel = el("section", "decision");
      var main = document.querySelector("main") || body;
      main.insertBefore(panel, main.firstChild);
    }
    var box = el("div", "review-ui review-document");
    box.appendChild(el("h2", "review-heading", "Decision"));
    var d = latest(docPath, null);
    var status = el("p", "review-status review-" + (d ? d.state + " review-" + d.status : "none"), describe(d));
    status.setAttribute("data-review-status", d ? (d.state === "current" ? d.status : d.state) : "none");
    box.appendChild(status);
    box.appendChild(button("Publish", function () { decide({doc_path: docPath, status: "publish"}); }, "publish"));
    box.appendChild(button("Hold", function () { decide({doc_path: docPath, status: "hold"}); }, "hold"));
    box.appendChild(el("span", "review-who", reviewer ? "as " + reviewer : ""));
    box.appendChild(live);
    panel.appendChild(box);
  }

  function findingControls(item) {
    var fingerprint = item.getAttribute("data-fingerprint");
    var box = el("div", "review-ui review-finding");
    var d = latest(docPath, fingerprint);
    var status = el("p", "review-status", d ? describe(d) : "");
    status.setAttribute("data-review-status", d ? (d.state === "current" ? d.status : d.state) : "none");
    box.appendChild(status);
    if (d && d.state === "current") {
      box.appendChild(button("Withdraw", function () { withdraw(d); }, "withdraw"));
    } else if (!item.classList.contains("suppressed")) {
      var form = el("div", "review-form");
      form.hidden = true;
      var reasonLabel = el("label", "", "Reason (required) ");
      var reason = el("textarea", "review-reason");
      reason.maxLength = 2000;
      reason.required = true;
      reason.rows = 2;
      reasonLabel.appendChild(reason);
      var expiresLabel = el("label", "", "Expires (optional) ");
      var expires = el("input", "review-expires");
      expires.type = "date";
      expiresLabel.appendChild(expires);
      form.appendChild(reasonLabel);
      form.appendChild(expiresLabel);
      form.appendChild(button("Save", function () {
        if (!reason.value.trim()) { say("Accepting a finding needs a reason.", true); reason.focus(); return; }
        decide({doc_path: docPath, status: "accept", fingerprint: fingerprint, reason: reason.value,
                expires: expires.value || null});
      }, "save"));
      form.appendChild(button("Cancel", function () { form.hidden = true; }, "cancel"));
      box.appendChild(button("Accept this finding…", function () { form.hidden = false; reason.focus(); }, "accept"));
      box.appendChild(form);
    }
    item.appendChild(box);
  }

  function indexBadges() {
    document.querySelectorAll("tr[data-doc-path]").forEach(function (row) {
      var d = latest(row.getAttribute("data-doc-path"), null);
      if (!d) { return; }
      var where = row.querySelector(".decision") || row.cells[row.cells.length - 1] || row;
      var badge = el("span", "review-ui review-badge review-" + d.state, d.state === "current" ? d.status : d.state);
      badge.title = describe(d);
      where.appendChild(badge);
    });
    var main = document.querySelector("main") || body;
    main.insertBefore(live, main.firstChild);
  }

  function render() {
    document.querySelectorAll(".review-ui").forEach(function (node) { if (node !== live) { node.remove(); } });
    if (docPath) {
      documentPanel();
      document.querySelectorAll("li.finding[data-fingerprint]").forEach(findingControls);
    } else {
      indexBadges();
    }
    body.setAttribute("data-review-ready", "1");
  }

  function load() {
    return call("GET", API).then(function (answer) {
      decisions = Array.isArray(answer.decisions) ? answer.decisions : [];
      reviewer = answer.reviewer || "";
      render();
    }).catch(function (error) { say("Decisions could not be loaded: " + error.message, true); render(); });
  }

  load();
}());
