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

  /* ---------------------------------------------------------- the ask box */
  /* A pasted error is recognised with the catalogue's own patterns and normalisation
   * (exported by the build from matrix/results/signatures.py, never written here). */

  var ask = data.ask;
  var known = ask.signatures.catalogue.map(function (c) {
    return {sig: c, re: new RegExp(c.pattern)};
  });
  var noise = ask.signatures.noise.map(function (n) { return [new RegExp(n[0], "g"), n[1]]; });
  function normalise(line) {
    noise.forEach(function (n) { line = line.replace(n[0], n[1]); });
    return line.trim().slice(0, ask.signatures.max_signature);
  }

  function identify(text) {
    var lines = text.split(/\r?\n/).map(function (l) { return l.trim().replace(/^E\s+/, "").trim(); })
      .filter(function (l) { return l; });
    for (var i = 0; i < known.length; i++) {
      if (known[i].re.test(text)) {
        var line = lines.filter(function (l) { return known[i].re.test(l); })[0] || lines[0];
        return {id: known[i].sig.id, sig: known[i].sig, line: line};
      }
    }
    var recorded = rec.dicts.signature || [];
    var normal = lines.map(normalise);
    for (var j = 0; j < normal.length; j++) {
      if (recorded.indexOf(normal[j]) >= 0) { return {id: normal[j], line: lines[j]}; }
    }
    var least = ask.signatures.min_overlap;
    for (var k = 0; k < normal.length; k++) {
      for (var m = 0; m < recorded.length; m++) {
        var a = normal[k], b = recorded[m];
        if (Math.min(a.length, b.length) >= least && (a.indexOf(b) >= 0 || b.indexOf(a) >= 0)) {
          return {id: b, line: lines[k]};
        }
      }
    }
    return null;
  }

  /* The answers themselves are computed in Python (matrix/publish/ask.py: the answer
   * engine and whence) and shipped in data.ask; the script looks them up. Its own steps
   * are the engine's order (declared metadata, exact cells, then the answer for what
   * matters), held to the engine's answers by the browser test's shared table. */

  var V = ask.versions, E = ask.errors;
  var PICKERS = ["python", "pytest", "pytest-asyncio", "plugin", "playwright"];
  var PIN_ORDER = ["pytest", "pytest-asyncio", "pytest-playwright", "pytest-playwright-asyncio",
                   "playwright"];

  function gridLink(python) {
    var a = el("a", null, "grid");
    a.setAttribute("href", "#" + (ask.grids[python] || "grids"));
    return a;
  }

  function cellItem(id, verdict, python, label) {
    var li = el("li");
    li.appendChild(chip(verdict));
    li.appendChild(document.createTextNode(" "));
    var cell = cellsById[id];
    li.appendChild(cellLink(id, label || (cell ? versionsLine(cell) : id)));
    li.appendChild(document.createTextNode(" ("));
    li.appendChild(gridLink(python || (cell && cell.python)));
    li.appendChild(document.createTextNode(")"));
    return li;
  }

  function showSignature(box, match) {
    var found = E[match.id] || {meaning: null, fixes: [], runs: 0, cells: [], releases: [],
                                remedies: []};
    var head = el("h3", null, (match.line || match.id) + " is ");
    head.appendChild(signatureNode(match.id));
    box.appendChild(head);
    if (found.meaning) { box.appendChild(el("p", "ask-meaning", found.meaning)); }
    box.appendChild(el("p", null, found.cells.length ? "Produced in " + found.runs +
      " scenario runs of " + found.cells.length + " measured combinations, by these releases:" :
      "No measured combination here shows it."));
    var dl = el("dl", "ask-releases");
    found.releases.forEach(function (r) {
      dl.appendChild(el("dt", null, r[0]));
      dl.appendChild(el("dd", null, r[1].join(", ")));
    });
    box.appendChild(dl);
    var ul = el("ul", "ask-cells");
    found.cells.slice(0, 20).forEach(function (id) {
      var cell = cellsById[id];
      ul.appendChild(cellItem(id, cell ? cell.verdict : "bug", cell && cell.python, id));
    });
    if (found.cells.length > 20) { ul.appendChild(el("li", "more", "… and " + (found.cells.length - 20) + " more")); }
    box.appendChild(ul);
    box.appendChild(el("h4", null, "Fix"));
    var fixes = el("ul", "ask-fixes");
    found.fixes.forEach(function (f) { fixes.appendChild(el("li", null, f)); });
    found.remedies.filter(function (l) { return l.trim() && l.trim() !== "remedies measured to work:"; })
      .forEach(function (l) { fixes.appendChild(el("li", null, l.trim())); });
    Object.keys(ask.best).forEach(function (plugin) {
      var li = el("li", null, "measured to pass every scenario: ");
      li.appendChild(cellLink(ask.best[plugin].cell_id, ask.best[plugin].text));
      fixes.appendChild(li);
    });
    box.appendChild(fixes);
    box.setAttribute("data-answer", JSON.stringify({signature: match.id, runs: found.runs,
                                                    cells: found.cells}));
  }

  /* Declared metadata: a picker value on the chosen Python, or two picker values. */
  function refusal(chosen) {
    var picked = PICKERS.filter(function (k) { return k !== "python" && chosen[k]; })
      .map(function (k) { return k + "=" + chosen[k]; });
    var python = chosen.python ? ["python=" + chosen.python] : [];
    var tries = [];
    picked.forEach(function (a) { if (python.length) { tries.push(python.concat([a])); } });
    for (var i = 0; i < picked.length; i++) {
      for (var j = i + 1; j < picked.length; j++) {
        tries.push([picked[i], picked[j]]);
        if (python.length) { tries.push(python.concat([picked[i], picked[j]])); }
      }
    }
    for (var t = 0; t < tries.length; t++) {
      var why = V.refused[tries[t].slice().sort().join("|")];
      if (why) { return why; }
    }
    return null;
  }

  function severity(verdict) {
    var i = V.severity.indexOf(verdict);
    return i < 0 ? V.severity.length : i;
  }

  function byWorst(a, b) {
    var d = severity(V.cells[a].verdict) - severity(V.cells[b].verdict);
    return d || (V.cells[a].id < V.cells[b].id ? -1 : V.cells[a].id > V.cells[b].id ? 1 : 0);
  }

  function exact(chosen) {
    var hits = [];
    V.cells.forEach(function (c, i) {
      if (PICKERS.every(function (k) { return !chosen[k] || c[k] === chosen[k]; })) { hits.push(i); }
    });
    return hits.sort(byWorst);
  }

  function entryOf(chosen) {
    return V.answers[[chosen.plugin].concat(V.keyed.map(function (a) { return chosen[a] || ""; }))
      .join("|")] || null;
  }

  /* The answer for the chosen versions: {kind, verdict, why, evidence, reasons, fix, ...}. */
  function versionsAnswer(chosen) {
    if (!chosen.plugin) {
      return {kind: "unknown", verdict: "unknown", why: "choose a plugin (or none) first",
              evidence: [], reasons: [], fix: null, expected: null, bisect: null};
    }
    var why = refusal(chosen);
    if (why) {
      return {kind: "unresolvable", verdict: "unresolvable", why: why, evidence: [],
              reasons: [], fix: null, expected: null, bisect: null};
    }
    var entry = entryOf(chosen) || {kind: "unknown", verdict: "unknown", why: "not answered here",
                                    evidence: [], reasons: [], fixes: [], expected: null, bisect: null};
    var hits = exact(chosen), out;
    if (hits.length) {
      out = {kind: "measured", verdict: V.cells[hits[0]].verdict, why: "", evidence: hits,
             reasons: [], expected: null, bisect: null};
    } else {
      out = {kind: entry.kind, verdict: entry.verdict, why: entry.why, evidence: entry.evidence,
             reasons: entry.reasons.concat(freeReasons(chosen, entry)), expected: entry.expected,
             bisect: entry.bisect};
    }
    out.fix = null;
    if ((out.kind === "measured" || out.kind === "inferred") && out.verdict !== "pass") {
      out.fix = (entry.fixes || []).filter(function (f) {
        var fixed = {};
        PICKERS.forEach(function (k) { fixed[k] = chosen[k]; });
        Object.keys(f.set).forEach(function (k) { fixed[k] = f.set[k]; });
        return !refusal(fixed);
      })[0] || null;
    }
    return out;
  }

  function freeReasons(chosen, entry) {
    var out = [];
    Object.keys(V.free).forEach(function (axis) {
      if (V.keyed.indexOf(axis) >= 0 || !chosen[axis]) { return; }
      if (entry.evidence.some(function (i) { return V.cells[i][axis] !== chosen[axis]; })) {
        out.push([axis, chosen[axis], V.free[axis]]);
      }
    });
    return out.sort(function (a, b) { return V.axes.indexOf(a[0]) - V.axes.indexOf(b[0]); });
  }

  function label(answer) {
    return answer.kind === "measured" || answer.kind === "inferred" ?
      answer.verdict + " (" + answer.kind + ")" : answer.kind;
  }

  function answerVersions(box, chosen) {
    var a = versionsAnswer(chosen);
    box.className = a.verdict === "pass" ? "good" : a.verdict === "unknown" ? "" : "bad";
    var p = el("p", "ask-verdict");
    p.appendChild(el("strong", null, "Verdict: "));
    p.appendChild(chip(a.verdict === "unresolvable" ? "unresolvable" : a.verdict));
    p.appendChild(document.createTextNode(" " + label(a) + (a.why ? ": " + a.why : "")));
    box.appendChild(p);
    if (a.expected) {
      var sig = el("p", "ask-expected", "Expected signature (the nearest measured pytest-asyncio release's): ");
      sig.appendChild(signatureNode(a.expected));
      box.appendChild(sig);
    }
    if (a.evidence.length) {
      box.appendChild(el("h4", null, a.kind === "measured" ? "Measured cells" : "Evidence (measured cells)"));
      var ul = el("ul", "ask-cells");
      a.evidence.slice(0, 10).forEach(function (i) {
        ul.appendChild(cellItem(V.cells[i].id, V.cells[i].verdict, V.cells[i].python));
      });
      if (a.evidence.length > 10) { ul.appendChild(el("li", "more", "… and " + (a.evidence.length - 10) + " more")); }
      box.appendChild(ul);
    }
    if (a.reasons.length) {
      var rs = el("ul", "ask-reasons");
      a.reasons.forEach(function (r) { rs.appendChild(el("li", null, r[0] + " " + r[1] + ": " + r[2])); });
      box.appendChild(rs);
    }
    if (a.bisect) { box.appendChild(el("p", "ask-bisect", "Settle it: " + a.bisect)); }
    if (a.fix) {
      var fp = el("p", "ask-fix", "Smallest fix: " + a.fix.text + " (" + a.fix.support + "). Pins to write: ");
      // the user's pins with the fix's changes, in the order people write them
      var pins = {};
      PICKERS.forEach(function (k) { if (chosen[k] && k !== "python" && k !== "plugin") { pins[k] = chosen[k]; } });
      Object.keys(a.fix.pins).forEach(function (k) { pins[k] = a.fix.pins[k]; });
      fp.appendChild(el("code", null, PIN_ORDER.filter(function (k) { return pins[k]; })
        .map(function (k) { return k + "==" + pins[k]; }).join(" ")));
      box.appendChild(fp);
      if (a.fix.code_change) { box.appendChild(el("p", "ask-code-change", a.fix.code_change)); }
    } else if (a.verdict !== "pass" && (a.kind === "measured" || a.kind === "inferred")) {
      box.appendChild(el("p", "ask-fix", "No change of the pins that matter is measured or inferred to pass."));
    }
    box.setAttribute("data-answer", JSON.stringify({
      kind: a.kind, verdict: a.verdict, why: a.kind === "unresolvable" ? "" : a.why,
      evidence: a.evidence.map(function (i) { return V.cells[i].id; }).sort(),
      fix: a.fix ? a.fix.text : null, expected: a.expected, bisect: a.bisect}));
  }

  function answerAsk() {
    var box = document.getElementById("ask-answer");
    var text = document.getElementById("ask-text").value;
    var chosen = {};
    PICKERS.forEach(function (k) { chosen[k] = document.getElementById("ask-" + k).value; });
    box.textContent = "";
    box.className = "";
    box.removeAttribute("data-answer");
    if (text.trim()) {
      var match = identify(text);
      if (!match) {
        box.appendChild(el("p", null, "No catalogue entry or recorded signature matches. Normalised, it reads:"));
        box.appendChild(el("pre", null, normalise(text.trim().split(/\r?\n/)[0])));
        box.setAttribute("data-answer", JSON.stringify({signature: null}));
        return;
      }
      box.className = "bad";
      showSignature(box, match);
      return;
    }
    if (PICKERS.some(function (k) { return chosen[k]; })) { answerVersions(box, chosen); }
  }

  function wireAsk() {
    PICKERS.forEach(function (key) {
      var select = document.getElementById("ask-" + key);
      (V.pickers[key] || []).forEach(function (v) { select.appendChild(el("option", null, v)); });
      select.addEventListener("change", answerAsk);
    });
    var timer = null;
    document.getElementById("ask-text").addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(answerAsk, 150);
    });
  }

  buildHead();
  wireAsk();
  wireControls();
  refresh();
  wireGrids();
  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.documentElement.setAttribute("data-ready", "1");
})();
