// Pier's dashboard: polls the admin API once a second and draws the last five minutes as SVG
// line charts. No library, no external request: everything comes from this admin listener.
"use strict";

const COLORS = ["#2f6fdf", "#e08a1e", "#c0392b", "#2e8b57", "#8e44ad"];
const CLASS_COLORS = ["#95a5a6", "#2e8b57", "#2f6fdf", "#e08a1e", "#c0392b"];
const SVG_NS = "http://www.w3.org/2000/svg";

function el(name, attrs) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function fmt(n, digits) {
  if (n === null || n === undefined || Number.isNaN(n)) return "-";
  if (n >= 10000) return (n / 1000).toFixed(1) + "k";
  return n.toFixed(digits);
}

// Draws series (arrays of numbers or nulls, one per point) into an SVG of 600x160.
function drawChart(svg, series, colors, opts) {
  const W = 600, H = 160, left = 44, bottom = 18, top = 8;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  let max = opts && opts.max !== undefined ? opts.max : 0;
  for (const s of series) for (const v of s) if (v !== null && v > max) max = v;
  if (max <= 0) max = 1;
  for (let i = 0; i <= 4; i++) {
    const y = top + (H - top - bottom) * (1 - i / 4);
    svg.appendChild(el("line", { x1: left, x2: W, y1: y, y2: y, class: "grid" }));
    const label = el("text", { x: left - 6, y: y + 3, "text-anchor": "end", class: "axis" });
    label.textContent = fmt((max * i) / 4, max < 4 ? 2 : 0);
    svg.appendChild(label);
  }
  const n = Math.max(1, ...series.map((s) => s.length));
  series.forEach((s, idx) => {
    let d = "";
    s.forEach((v, i) => {
      if (v === null) return;
      const x = left + ((W - left) * i) / Math.max(1, n - 1);
      const y = top + (H - top - bottom) * (1 - v / max);
      d += (d === "" ? "M" : "L") + x.toFixed(1) + " " + y.toFixed(1);
    });
    if (d) svg.appendChild(el("path", { d, class: "line", stroke: colors[idx % colors.length] }));
  });
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(path + ": " + response.status);
  return response.json();
}

function renderSeries(points) {
  const pick = (f) => points.map(f);
  drawChart(document.getElementById("chart-rps"), [pick((p) => p.rps)], COLORS);
  drawChart(document.getElementById("chart-latency"),
            [pick((p) => p.p50_ms), pick((p) => p.p95_ms), pick((p) => p.p99_ms)], COLORS);
  drawChart(document.getElementById("chart-classes"),
            [0, 1, 2, 3, 4].map((k) => pick((p) => p.class_rps[k])), CLASS_COLORS);
  drawChart(document.getElementById("chart-hit"), [pick((p) => p.cache_hit_ratio)], COLORS, { max: 1 });
  drawChart(document.getElementById("chart-limited"), [pick((p) => p.limited_rps)], COLORS);
  drawChart(document.getElementById("chart-conns"), [pick((p) => p.active_connections)], COLORS);
  const last = points[points.length - 1];
  if (!last) return;
  document.getElementById("now-rps").textContent = fmt(last.rps, 0);
  document.getElementById("now-p99").textContent = last.rps > 0 ? fmt(last.p99_ms, 2) + " ms" : "-";
  document.getElementById("now-hit").textContent =
    last.cache_hit_ratio === null ? "-" : (last.cache_hit_ratio * 100).toFixed(0) + "%";
  document.getElementById("now-limited").textContent = fmt(last.limited_rps, 0);
  document.getElementById("now-conns").textContent = String(last.active_connections);
}

function renderBackends(data) {
  const body = document.querySelector("#backends tbody");
  const rows = [];
  for (const upstream of data.upstreams) {
    for (const b of upstream.backends) {
      const usable = b.healthy && !b.ejected;
      const tr = document.createElement("tr");
      tr.dataset.backend = b.address;
      tr.dataset.health = usable ? "healthy" : "unhealthy";
      const cells = [
        upstream.name, b.address, usable ? "healthy" : (b.ejected ? "ejected" : "unhealthy"),
        String(b.in_flight), fmt(b.rps, 1), (b.error_rate * 100).toFixed(1) + "%",
        fmt(b.latency_ewma_ms, 2) + " ms", b.ejected ? b.ejected_for_s.toFixed(0) + " s" : "",
      ];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (i === 2) td.className = usable ? "healthy" : "unhealthy";
        tr.appendChild(td);
      });
      rows.push(tr);
    }
  }
  body.replaceChildren(...rows);
}

async function refresh() {
  const state = document.getElementById("state");
  try {
    const [series, upstreams] = await Promise.all([getJson("/api/series"), getJson("/api/upstreams")]);
    renderSeries(series.points);
    renderBackends(upstreams);
    state.textContent = "live";
    state.className = "state live";
  } catch (e) {
    state.textContent = "admin API unreachable";
    state.className = "state down";
  }
}

async function start() {
  try {
    const status = await getJson("/api/status");
    document.getElementById("version").textContent = "v" + status.version;
    const started = Date.now() - status.uptime_s * 1000;
    setInterval(() => {
      document.getElementById("uptime").textContent =
        "up " + Math.round((Date.now() - started) / 1000) + " s";
    }, 1000);
  } catch (e) {
    // the periodic refresh reports the API as unreachable
  }
  await refresh();
  setInterval(refresh, 1000);
}

start();
