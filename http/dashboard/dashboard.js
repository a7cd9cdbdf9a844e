// The coordinatool dashboard: polls /api/dashboard and renders it into the
// page's elements (stable ids and data attributes). No framework, nothing
// fetched but the server's own JSON.
"use strict";
(function () {
  var TYPES = ["restore", "archive", "remove"];
  var POLL_MS = 3000;
  var polls = 0;

  function $(id) { return document.getElementById(id); }
  function setText(id, value) { $(id).textContent = String(value); }

  function duration(seconds) {
    if (seconds < 0.001) return "< 1 ms";
    if (seconds < 1) return Math.round(seconds * 1000) + " ms";
    if (seconds < 120) return (Math.round(seconds * 10) / 10) + " s";
    if (seconds < 7200) return Math.round(seconds / 60) + " min";
    return (Math.round(seconds / 360) / 10) + " h";
  }

  function svgElement(name, attributes) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", name);
    for (var key in attributes) e.setAttribute(key, attributes[key]);
    return e;
  }

  // The samples, then the totals of this answer: the lines reach now.
  function renderChart(backlog, totals, now) {
    var svg = $("backlog-chart");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var t = backlog.t.concat([now]), width = 800, top = 10, bottom = 190;
    var series = {};
    TYPES.forEach(function (type) {
      series[type] = backlog.waiting[type].concat([totals[type].waiting]);
    });
    var max = 0;
    TYPES.forEach(function (type) {
      series[type].forEach(function (v) { if (v > max) max = v; });
    });
    // A round top: four grid lines at whole numbers.
    var step = Math.pow(10, Math.floor(Math.log10(Math.max(max, 4) / 4)));
    max = Math.max(4, Math.ceil(max / (4 * step)) * 4 * step);
    for (var i = 0; i <= 4; i++) {
      var y = top + (bottom - top) * i / 4;
      svg.appendChild(svgElement("line", { x1: 0, x2: width, y1: y, y2: y, "class": "grid" }));
      var label = svgElement("text", { x: 4, y: y + (i === 0 ? 10 : -2) });
      label.textContent = String(Math.round(max * (4 - i) / 4));
      svg.appendChild(label);
    }
    // One hour across the width, now at the right edge.
    var span = 3600, end = t.length ? t[t.length - 1] : 0;
    TYPES.forEach(function (type) {
      var values = series[type], points = [];
      for (var i = 0; i < t.length; i++) {
        var x = width - (end - t[i]) / span * width;
        var y = bottom - values[i] / max * (bottom - top);
        points.push(x.toFixed(1) + "," + y.toFixed(1));
      }
      var line = svgElement("polyline", { points: points.join(" "), "class": type, "data-type": type });
      svg.appendChild(line);
    });
    svg.setAttribute("data-samples", String(t.length));
    setText("backlog-range", backlog.t.length + " samples, one every " + backlog.period_s + " s");
  }

  function renderMovers(movers) {
    var body = $("movers").tBodies[0];
    while (body.firstChild) body.removeChild(body.firstChild);
    movers.forEach(function (m) {
      var row = body.insertRow();
      row.setAttribute("data-mover", m.id);
      row.setAttribute("data-state", m.state);
      row.setAttribute("data-draining", m.draining ? "true" : "false");
      var done = m.done.restore + m.done.archive + m.done.remove;
      [[m.id, "id"], [m.state, "state"], [m.running.restore, "running-restore"],
       [m.running.archive, "running-archive"], [m.running.remove, "running-remove"],
       [done, "done"]].forEach(function (cell, i) {
        var td = row.insertCell();
        td.textContent = String(cell[0]);
        td.setAttribute("data-field", cell[1]);
        if (i >= 2) td.className = "num";
      });
    });
    setText("mover-count", movers.length);
  }

  function renderOldest(oldest) {
    TYPES.forEach(function (type) {
      var list = $("oldest-" + type);
      while (list.firstChild) list.removeChild(list.firstChild);
      oldest[type].forEach(function (item) {
        var li = document.createElement("li");
        li.setAttribute("data-fid", item.fid);
        li.textContent = item.fid + " ";
        var age = document.createElement("span");
        age.textContent = "waiting " + duration(item.age_s) + ", archive " + item.archive_id;
        li.appendChild(age);
        list.appendChild(li);
      });
      list.setAttribute("data-count", String(oldest[type].length));
    });
  }

  function render(d) {
    setText("version", "version " + d.version);
    var lock = $("lock-state");
    lock.textContent = d.lock.name;
    lock.setAttribute("data-state", d.lock.name);
    var store = $("store-state");
    store.textContent = "store " + (d.store.writable ? "writable" : "NOT WRITABLE") + ": " + d.store.description;
    store.setAttribute("data-writable", d.store.writable ? "true" : "false");
    TYPES.forEach(function (type) {
      setText("waiting-" + type, d.totals[type].waiting);
      setText("running-" + type, d.totals[type].running);
      setText("done-" + type, d.totals[type].done);
    });
    var w = d.restore_wait;
    setText("restore-count", w.count);
    setText("restore-p50", w.count ? duration(w.p50_s) : "–");
    setText("restore-p90", w.count ? duration(w.p90_s) : "–");
    setText("restore-p99", w.count ? duration(w.p99_s) : "–");
    renderChart(d.backlog, d.totals, d.now);
    renderMovers(d.movers);
    renderOldest(d.oldest);
    setText("updated", new Date(d.now * 1000).toLocaleTimeString());
  }

  function poll() {
    fetch("/api/dashboard", { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (d) {
        render(d);
        $("error").hidden = true;
        document.body.setAttribute("data-loaded", "1");
      })
      .catch(function (e) {
        var error = $("error");
        error.textContent = "cannot read /api/dashboard: " + e.message;
        error.hidden = false;
      })
      .then(function () {
        document.body.setAttribute("data-polls", String(++polls));
        setTimeout(poll, POLL_MS);
      });
  }
  poll();
})();
