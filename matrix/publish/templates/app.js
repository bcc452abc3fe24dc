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
  var ASK_KEYS = ["python", "pytest", "pytest-asyncio", "plugin", "playwright"];

  function pluginChoice(cell) {
    return cell.plugin_version ? cell.plugin + " " + cell.plugin_version : cell.plugin;
  }

  function askValue(cell, key) { return key === "plugin" ? pluginChoice(cell) : cell[key]; }

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

  /* Cells with a scenario whose verdict record shows the signature. */
  function cellsShowing(id) {
    var found = [];
    data.cells.forEach(function (cell) {
      var hits = cell.scenarios.filter(function (s) { return val(s[2], "signature") === id; });
      if (hits.length) { found.push({cell: cell, scenarios: hits}); }
    });
    return found;
  }

  function releasesOf(found) {
    var out = [];
    [["python", "Python"], ["pytest", "pytest"], ["pytest-asyncio", "pytest-asyncio"],
     ["plugin", "plugin"], ["playwright", "playwright"]].forEach(function (p) {
      var seen = {};
      found.forEach(function (f) { var v = askValue(f.cell, p[0]); if (v) { seen[v] = 1; } });
      var values = Object.keys(seen);
      var order = p[0] === "plugin" ? null : rec.dicts[p[0]];
      if (order) { values.sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); }); }
      else { values.sort(); }
      if (values.length) { out.push([p[1], values]); }
    });
    return out;
  }

  function gridLink(cell) {
    var a = el("a", null, "grid");
    a.setAttribute("href", "#" + (ask.grids[cell.python] || "grids"));
    return a;
  }

  function fixList(sig) {
    var ul = el("ul", "ask-fixes");
    (sig ? sig.fixes : []).forEach(function (f) { ul.appendChild(el("li", null, f)); });
    Object.keys(ask.best).forEach(function (plugin) {
      var li = el("li", null, "measured to pass every scenario: ");
      li.appendChild(cellLink(ask.best[plugin].cell_id, ask.best[plugin].text));
      ul.appendChild(li);
    });
    return ul;
  }

  function showSignature(box, match) {
    var sig = match.sig || null;
    var head = el("h3", null, (match.line || match.id) + " is ");
    head.appendChild(signatureNode(match.id));
    box.appendChild(head);
    if (sig) { box.appendChild(el("p", "ask-meaning", sig.meaning)); }
    var found = cellsShowing(match.id);
    var runs = found.reduce(function (n, f) { return n + f.scenarios.length; }, 0);
    box.appendChild(el("p", null, found.length ? "Produced in " + runs + " scenario runs of " +
      found.length + " measured combinations, by these releases:" : "No measured combination here shows it."));
    var dl = el("dl", "ask-releases");
    releasesOf(found).forEach(function (r) {
      dl.appendChild(el("dt", null, r[0]));
      dl.appendChild(el("dd", null, r[1].join(", ")));
    });
    box.appendChild(dl);
    var ul = el("ul", "ask-cells");
    found.slice(0, 20).forEach(function (f) {
      var li = el("li");
      li.appendChild(chip(f.cell.verdict));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(cellLink(f.cell.id, versionsLine(f.cell)));
      li.appendChild(document.createTextNode(" (" + f.scenarios.map(function (s) { return s[0]; }).join(", ") + "; "));
      li.appendChild(gridLink(f.cell));
      li.appendChild(document.createTextNode(")"));
      ul.appendChild(li);
    });
    if (found.length > 20) { ul.appendChild(el("li", "more", "… and " + (found.length - 20) + " more")); }
    box.appendChild(ul);
    box.appendChild(el("h4", null, "Fix"));
    box.appendChild(fixList(sig));
  }

  function knownSignature(id) {
    var hit = known.filter(function (k) { return k.sig.id === id; })[0];
    return hit ? hit.sig : null;
  }

  function differences(cell, chosen) {
    return ASK_KEYS.filter(function (k) { return chosen[k] && askValue(cell, k) !== chosen[k]; });
  }

  function nearestPassing(cell) {
    var keys = ASK_KEYS.concat(["pytest-cov"]);
    var best = null, bestN = 99;
    data.cells.forEach(function (c) {
      if (c.verdict !== "pass") { return; }
      var n = keys.filter(function (k) { return askValue(c, k) !== askValue(cell, k); }).length;
      if (n < bestN) { best = c; bestN = n; }
    });
    return best;
  }

  function showCell(box, cell) {
    var p = el("p", "ask-verdict");
    p.appendChild(el("strong", null, "Verdict: "));
    p.appendChild(chip(cell.verdict));
    p.appendChild(document.createTextNode(" "));
    p.appendChild(cellLink(cell.id, versionsLine(cell)));
    p.appendChild(document.createTextNode(" ("));
    p.appendChild(gridLink(cell));
    p.appendChild(document.createTextNode(")"));
    box.appendChild(p);
    var ul = el("ul", "ask-scenarios");
    var sigs = [];
    cell.scenarios.forEach(function (s) {
      var sig = val(s[2], "signature");
      var li = el("li", null, s[0] + ": ");
      li.appendChild(chip(s[1]));
      if (sig) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(signatureNode(sig));
        if (sigs.indexOf(sig) < 0) { sigs.push(sig); }
      }
      ul.appendChild(li);
    });
    box.appendChild(ul);
    sigs.forEach(function (id) {
      var sig = knownSignature(id);
      if (sig) { box.appendChild(el("p", "ask-meaning", id + ": " + sig.meaning)); }
    });
    if (cell.verdict !== "pass") {
      var fix = nearestPassing(cell);
      var fp = el("p", "ask-fix", "Nearest combination measured to pass every scenario: ");
      if (fix) { fp.appendChild(cellLink(fix.id, versionsLine(fix))); } else { fp.textContent += "none yet"; }
      box.appendChild(fp);
      var first = sigs.map(knownSignature).filter(function (s) { return s; })[0];
      if (first) { box.appendChild(fixList(first)); }
    }
  }

  function answerVersions(box, chosen) {
    var measured = data.cells.filter(function (c) { return data.states[c.verdict] && c.scenarios.length; });
    var hits = measured.filter(function (c) { return differences(c, chosen).length === 0; });
    if (!hits.length) {
      box.appendChild(el("p", null, "No measured combination has exactly these versions. Nearest:"));
      var ranked = measured.slice().sort(function (a, b) {
        return differences(a, chosen).length - differences(b, chosen).length;
      }).slice(0, 3);
      hits = ranked;
    }
    box.className = hits.some(function (c) { return c.verdict !== "pass"; }) ? "bad" : "good";
    hits.slice(0, 10).forEach(function (c) { showCell(box, c); });
    if (hits.length > 10) { box.appendChild(el("p", "more", "… and " + (hits.length - 10) + " more")); }
  }

  function answerAsk() {
    var box = document.getElementById("ask-answer");
    var text = document.getElementById("ask-text").value;
    var chosen = {};
    ASK_KEYS.forEach(function (k) { chosen[k] = document.getElementById("ask-" + k).value; });
    box.textContent = "";
    box.className = "";
    if (text.trim()) {
      var match = identify(text);
      if (!match) {
        box.appendChild(el("p", null, "No catalogue entry or recorded signature matches. Normalised, it reads:"));
        box.appendChild(el("pre", null, normalise(text.trim().split(/\r?\n/)[0])));
        return;
      }
      box.className = "bad";
      showSignature(box, match);
      return;
    }
    if (ASK_KEYS.some(function (k) { return chosen[k]; })) { answerVersions(box, chosen); }
  }

  function wireAsk() {
    ASK_KEYS.forEach(function (key) {
      var select = document.getElementById("ask-" + key);
      var seen = {};
      data.cells.forEach(function (c) { var v = askValue(c, key); if (v) { seen[v] = 1; } });
      var values = Object.keys(seen);
      var order = key === "plugin" ? null : rec.dicts[key];
      if (order) { values.sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); }); }
      else { values.sort(); }
      values.forEach(function (v) { select.appendChild(el("option", null, v)); });
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
