/* The report's own script: cell details on click, and the records table.
 * No library but plotly (for the grids). Record text is only ever inserted with
 * textContent or as attribute values set through the DOM, never parsed as HTML. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("matrix-data").textContent);
  var rec = data.records;
  var colIndex = {};
  rec.columns.forEach(function (c, i) { colIndex[c.key] = i; });
  var cellsById = {};
  data.cells.forEach(function (c) { cellsById[c.id] = c; });

  /* The value of one column in one record row (decoded from the columnar form). */
  function val(row, key) {
    var i = colIndex[key];
    var raw = rec.rows[row][i];
    if (rec.columns[i].kind === "n") { return raw; }
    return raw < 0 ? null : rec.dicts[key][raw];
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function cellLink(id, text) {
    var a = el("a", "cell-link", text === undefined ? id : text);
    a.setAttribute("href", "#cell=" + encodeURIComponent(id));
    return a;
  }

  function chip(state) {
    var look = data.states[state];
    return el("span", "chip v-" + state, (look ? look[1] + " " : "") + state);
  }

  /* ---------------------------------------------------------- cell details */

  var attemptsByCell = null;  // cell id -> record rows, built on first use

  function attemptsOf(id) {
    if (!attemptsByCell) {
      attemptsByCell = {};
      for (var r = 0; r < rec.rows.length; r++) {
        var c = val(r, "cell_id");
        (attemptsByCell[c] = attemptsByCell[c] || []).push(r);
      }
    }
    return attemptsByCell[id] || [];
  }

  function versionsLine(cell) {
    var parts = ["Python " + (cell.python || "–")];
    [["pytest", "pytest"], ["pytest-asyncio", "pytest-asyncio"], ["playwright", "playwright"],
     ["pytest-cov", "pytest-cov"], ["coverage", "coverage"]].forEach(function (p) {
      if (cell[p[0]]) { parts.push(p[1] + " " + cell[p[0]]); }
    });
    var plugin = cell.plugin_version ? cell.plugin + " " + cell.plugin_version : cell.plugin;
    parts.splice(1, 0, plugin);
    return parts.join(" · ");
  }

  function signatureNode(sig) {
    if (!sig) { return el("span", "none", "–"); }
    if (data.catalogue[sig]) {
      var a = el("a", null, sig);
      a.setAttribute("href", "#" + data.catalogue[sig]);
      return a;
    }
    return el("code", null, sig);
  }

  var DETAIL_HEAD = ["scenario", "outcome", "signature", "first failure line", "tests p/f/e/s",
                     "duration", "tries", "repro", "log"];

  function scenarioRow(s) {
    var row = s[2];
    var tr = el("tr");
    var name = el("td", null, s[0]);
    if (data.scenarioHelp[s[0]]) { name.title = data.scenarioHelp[s[0]]; }
    tr.appendChild(name);
    var outcome = el("td"); outcome.appendChild(chip(s[1])); tr.appendChild(outcome);
    var sig = el("td"); sig.appendChild(signatureNode(val(row, "signature"))); tr.appendChild(sig);
    tr.appendChild(el("td", "message", val(row, "message") || "–"));
    tr.appendChild(el("td", "num", val(row, "tests")));
    var took = val(row, "duration_s");
    tr.appendChild(el("td", "num", took === null || took === undefined ? "–" : took + " s"));
    tr.appendChild(el("td", "num", s[3]));
    var repro = el("td"); repro.appendChild(el("code", "repro", val(row, "repro"))); tr.appendChild(repro);
    var logTd = el("td");
    var log = val(row, "log");
    if (log) {
      var a = el("a", null, "log");
      a.setAttribute("href", log);
      logTd.appendChild(a);
    } else { logTd.textContent = "not kept"; }
    tr.appendChild(logTd);
    return tr;
  }

  function detailsTable(cell) {
    var table = el("table", "details");
    var head = el("tr");
    DETAIL_HEAD.forEach(function (h) { head.appendChild(el("th", null, h)); });
    var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
    var body = el("tbody");
    cell.scenarios.forEach(function (s) { body.appendChild(scenarioRow(s)); });
    table.appendChild(body);
    var wrap = el("div", "table-scroll"); wrap.appendChild(table);
    return wrap;
  }

  function resolvedBlock(cell) {
    var seen = {}, order = [];
    cell.scenarios.forEach(function (s) {
      var text = val(s[2], "resolved");
      if (!text) { return; }
      if (!seen[text]) { seen[text] = []; order.push(text); }
      seen[text].push(s[0]);
    });
    var box = el("details", "resolved");
    box.open = true;
    box.appendChild(el("summary", null, "Resolved versions"));
    if (!order.length) { box.appendChild(el("p", null, "Nothing was installed.")); }
    order.forEach(function (text) {
      if (order.length > 1) { box.appendChild(el("p", "for", "in " + seen[text].join(", "))); }
      var ul = el("ul", "resolved-list");
      text.split("\n").forEach(function (line) { ul.appendChild(el("li", null, line)); });
      box.appendChild(ul);
    });
    return box;
  }

  function earlierAttempts(cell) {
    var rows = attemptsOf(cell.id).filter(function (r) { return !val(r, "current"); });
    if (!rows.length) { return null; }
    var box = el("details", "attempts");
    box.appendChild(el("summary", null, "Earlier attempts (" + rows.length + ")"));
    var ul = el("ul");
    rows.forEach(function (r) {
      var li = el("li", null, val(r, "scenario") + ", try " + val(r, "attempt") + ", " +
                  (val(r, "started_at") || "") + ": ");
      li.appendChild(chip(val(r, "outcome")));
      var sig = val(r, "signature");
      if (sig) { li.appendChild(document.createTextNode(" " + sig)); }
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }

  /* The smallest known fix of a failing cell: the first ranked candidate of the newest
   * explain search that started from it (built by the site from explain.jsonl). */
  function fixLine(fix) {
    var p = el("p", "fix-line");
    p.appendChild(el("span", "chip kind-" + fix.kind, fix.kind));
    p.appendChild(document.createTextNode(" " + fix.summary +
      (fix.how.length ? ", then " + fix.how.join(" or ") : "")));
    return p;
  }

  function fixEvidence(fix) {
    var p = el("p", "fix-evidence", "Evidence: ");
    if (cellsById[fix.cell_id]) { p.appendChild(cellLink(fix.cell_id)); }
    else { p.appendChild(el("code", null, fix.cell_id)); }
    p.appendChild(document.createTextNode(fix.outcomes.length ? " (" : ""));
    fix.outcomes.forEach(function (o, i) {
      p.appendChild(document.createTextNode((i ? ", " : "") + o[0] + " "));
      p.appendChild(chip(o[1]));
    });
    p.appendChild(document.createTextNode(fix.outcomes.length ? ")" : ""));
    return p;
  }

  function fixRepro(fix) {
    var box = el("details", "fix-repro");
    box.appendChild(el("summary", null, "Reproduce the evidence (" + fix.repro.length + " commands)"));
    var ul = el("ul", "repro");
    fix.repro.forEach(function (line) {
      var li = el("li"); li.appendChild(el("code", "repro", line)); ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }

  function fixBlock(cell) {
    var found = data.fixes[cell.id];
    var box = el("div", "smallest-fix");
    box.appendChild(el("h4", null, "Smallest known fix"));
    if (!found) {
      var hint = el("p", "hint", "No search recorded; try: ");
      hint.appendChild(el("code", null, "nox -s explain -- " + cell.id));
      box.appendChild(hint);
      return box;
    }
    var when = "explain" + (found.run_id ? " run " + found.run_id : "") +
      (found.when ? ", " + found.when : "");
    if (!found.fix) {
      box.appendChild(el("p", "note", "The search found no fix or workaround within its budget (" + when + ")."));
      return box;
    }
    box.appendChild(fixLine(found.fix));
    box.appendChild(fixEvidence(found.fix));
    box.appendChild(el("p", "meta", "Found by " + when + (found.more ?
      "; " + found.more + " more ranked candidate" + (found.more > 1 ? "s" : "") + " in summary.json" : "") + "."));
    if (found.fix.repro.length) { box.appendChild(fixRepro(found.fix)); }
    return box;
  }

  function renderCell(cell) {
    var box = document.getElementById("cell-detail");
    box.textContent = "";
    var h = el("h3", null, cell.id + " ");
    h.appendChild(chip(cell.verdict));
    box.appendChild(h);
    box.appendChild(el("p", "versions", versionsLine(cell)));
    if (cell.verdict === "incompatible") {
      box.appendChild(el("p", "note", "Declared incompatible by package metadata, so never run: " +
                         (cell.reason || "no reason given")));
      return;
    }
    if (!cell.scenarios.length) {
      box.appendChild(el("p", "note", "Planned, but no record exists yet."));
      return;
    }
    var full = val(cell.scenarios[0][2], "python_full");
    box.appendChild(el("p", "interpreter", "Interpreter: " + (full || "none found") +
                       " · run " + val(cell.scenarios[0][2], "run_id")));
    // Only a failing combination needs a fix; a search that started elsewhere says nothing here.
    if (cell.verdict === "bug" || cell.verdict === "fail") { box.appendChild(fixBlock(cell)); }
    box.appendChild(detailsTable(cell));
    box.appendChild(resolvedBlock(cell));
    var earlier = earlierAttempts(cell);
    if (earlier) { box.appendChild(earlier); }
  }

  function openCell(id, scroll) {
    var cell = cellsById[id];
    if (!cell) { return false; }
    renderCell(cell);
    if (scroll) {
      var section = document.getElementById("details");
      section.scrollIntoView({block: "start"});
      section.focus({preventScroll: true});
    }
    return true;
  }

  function fromHash() {
    var m = /^#cell=(.*)$/.exec(window.location.hash);
    if (!m) { return; }
    try { openCell(decodeURIComponent(m[1]), true); } catch (e) { /* a malformed link */ }
  }

  function select(id) {
    var hash = "#cell=" + encodeURIComponent(id);
    if (window.location.hash === hash) { openCell(id, true); } else { window.location.hash = hash; }
  }

  function wireGrids() {
    var plots = document.querySelectorAll(".plotly-graph-div");
    Array.prototype.forEach.call(plots, function (gd) {
      if (typeof gd.on !== "function") { return; }
      gd.on("plotly_click", function (ev) {
        var point = ev && ev.points && ev.points[0];
        var id = point && point.customdata && point.customdata[0];
        if (id) { select(id); }
      });
    });
  }

  /* ---------------------------------------------------------- records table */

  var shown = rec.columns.map(function (c, i) { return i; })
    .filter(function (i) { return rec.columns[i].show; });
  var state = {query: "", outcome: "", current: false, sort: -1, dir: 1, page: 0, size: 50};
  var haystack = null;  // lower-case text of each row, built on the first filter
  var view = [];

  function text(row, i) {
    var v = val(row, rec.columns[i].key);
    return v === null || v === undefined ? "" : String(v);
  }

  function buildHaystack() {
    haystack = new Array(rec.rows.length);
    for (var r = 0; r < rec.rows.length; r++) {
      var parts = [];
      for (var k = 0; k < shown.length; k++) { parts.push(text(r, shown[k])); }
      haystack[r] = parts.join("\u0001").toLowerCase();
    }
  }

  function compute() {
    var terms = state.query.toLowerCase().split(/\s+/).filter(Boolean);
    if (terms.length && !haystack) { buildHaystack(); }
    var outcomeCode = state.outcome ? rec.dicts.outcome.indexOf(state.outcome) : -2;
    var oi = colIndex.outcome, ci = colIndex.current;
    view = [];
    for (var r = 0; r < rec.rows.length; r++) {
      var row = rec.rows[r];
      if (outcomeCode !== -2 && row[oi] !== outcomeCode) { continue; }
      if (state.current && !row[ci]) { continue; }
      var ok = true;
      for (var t = 0; t < terms.length && ok; t++) { ok = haystack[r].indexOf(terms[t]) >= 0; }
      if (ok) { view.push(r); }
    }
    if (state.sort >= 0) {
      var i = state.sort, dir = state.dir;
      view.sort(function (a, b) {
        var x = rec.rows[a][i], y = rec.rows[b][i];
        if (x === null) { x = -Infinity; }
        if (y === null) { y = -Infinity; }
        return x < y ? -dir : x > y ? dir : a - b;
      });
    }
  }

  function recordCell(row, i) {
    var key = rec.columns[i].key;
    var td = el("td", "c-" + key);
    var value = val(row, key);
    if (key === "cell_id") {
      // The id repeats the version columns; a short link keeps the table readable.
      var link = cellLink(value, "details");
      link.title = value;
      td.appendChild(link);
    }
    else if (key === "outcome") { td.appendChild(chip(value)); }
    else { td.textContent = value === null || value === undefined ? "" : String(value); }
    return td;
  }

  function renderTable() {
    var body = document.querySelector("#rec-table tbody");
    var pages = Math.max(1, Math.ceil(view.length / state.size));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * state.size, end = Math.min(view.length, start + state.size);
    var fragment = document.createDocumentFragment();
    for (var n = start; n < end; n++) {
      var tr = el("tr");
      if (!val(view[n], "current")) { tr.className = "superseded"; }
      for (var k = 0; k < shown.length; k++) { tr.appendChild(recordCell(view[n], shown[k])); }
      fragment.appendChild(tr);
    }
    body.textContent = "";
    body.appendChild(fragment);
    document.getElementById("rec-count").textContent =
      view.length + " of " + rec.rows.length + " records";
    document.getElementById("rec-page").textContent = view.length ?
      "rows " + (start + 1) + "–" + end + ", page " + (state.page + 1) + " of " + pages : "no rows";
    document.getElementById("rec-prev").disabled = state.page === 0;
    document.getElementById("rec-next").disabled = state.page >= pages - 1;
  }

  function refresh() { compute(); renderTable(); }

  function buildHead() {
    var tr = el("tr");
    shown.forEach(function (i) {
      var th = el("th");
      th.setAttribute("scope", "col");
      var button = el("button", "sort", rec.columns[i].label);
      button.type = "button";
      button.addEventListener("click", function () {
        state.dir = state.sort === i ? -state.dir : 1;
        state.sort = i;
        Array.prototype.forEach.call(tr.querySelectorAll("th"), function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        refresh();
      });
      th.appendChild(button);
      tr.appendChild(th);
    });
    document.querySelector("#rec-table thead").appendChild(tr);
  }

  function wireControls() {
    var select = document.getElementById("rec-outcome");
    rec.dicts.outcome.forEach(function (o) { select.appendChild(el("option", null, o)); });
    select.addEventListener("change", function () { state.outcome = select.value; state.page = 0; refresh(); });
    var timer = null;
    var filter = document.getElementById("rec-filter");
    filter.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.query = filter.value; state.page = 0; refresh(); }, 120);
    });
    var current = document.getElementById("rec-current");
    current.addEventListener("change", function () { state.current = current.checked; state.page = 0; refresh(); });
    document.getElementById("rec-prev").addEventListener("click", function () { state.page -= 1; renderTable(); });
    document.getElementById("rec-next").addEventListener("click", function () { state.page += 1; renderTable(); });
  }

  buildHead();
  wireControls();
  refresh();
  wireGrids();
  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.documentElement.setAttribute("data-ready", "1");
})();
