// Phaze UI: plain JS, no build step. Every request is same-origin and carries the token
// cookie the first page load set.
"use strict";
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let schema = null;
let evalTimer = null, evalSeq = 0;
let watched = null;

async function api(path, body) {
  const init = body === undefined ? {} : {method: "POST", headers: {"Content-Type": "application/json"},
                                         body: JSON.stringify(body)};
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || data.detail && JSON.stringify(data.detail) || response.statusText);
  return data;
}
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const fmt = (n) => n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US");
const shape = (s) => Array.isArray(s[0]) ? s.map((x) => "(" + x.join(", ") + ")").join(", ") : "(" + s.join(", ") + ")";
function setStatus(text) { $("status").textContent = text; }

// --- tabs -----------------------------------------------------------------------------------
function showTab(name) {
  for (const tab of ["design", "train"]) {
    $("tab-" + tab).setAttribute("aria-selected", String(tab === name));
    $("page-" + tab).hidden = tab !== name;
  }
  if (name === "train") refreshModels();
}
$("tab-design").onclick = () => showTab("design");
$("tab-train").onclick = () => showTab("train");

// --- design form ----------------------------------------------------------------------------
function inputFor(option) {
  const id = "opt-" + option.name;
  if (option.kind === "bool") return el("input", {type: "checkbox", id});
  if (option.kind === "choice" || option.kind === "encoder") {
    const select = el("select", {id});
    for (const c of option.choices) select.append(el("option", {value: c, text: c}));
    return select;
  }
  return el("input", {type: "text", id, spellcheck: "false"});
}
function buildForm() {
  const groups = $("groups");
  for (const group of schema.groups) {
    const fieldset = el("fieldset", {}, el("legend", {text: group}));
    for (const option of schema.options.filter((o) => o.group === group)) {
      const input = inputFor(option);
      input.setAttribute("aria-describedby", "meta-" + option.name + " err-" + option.name);
      input.addEventListener(option.kind === "bool" || input.tagName === "SELECT" ? "change" : "input", scheduleEvaluate);
      const def = Array.isArray(option.default) ? option.default.join(", ") : String(option.default);
      fieldset.append(el("div", {class: "option", id: "row-" + option.name},
        el("label", {for: input.id, text: option.name}), input,
        el("div", {class: "meta", id: "meta-" + option.name,
                   text: `${option.help} Default ${def}; ${option.allowed}.${option.updatable ? " Changeable on resume." : ""}`}),
        el("div", {class: "error", id: "err-" + option.name, role: "alert"})));
    }
    groups.append(fieldset);
  }
}
function setValues(values) {
  for (const option of schema.options) {
    const input = $("opt-" + option.name), value = option.name in values ? values[option.name] : option.default;
    if (option.kind === "bool") input.checked = Boolean(value);
    else input.value = Array.isArray(value) ? value.join(", ") : String(value);
  }
  scheduleEvaluate(0);
}
function readValues() {
  const values = {};
  for (const option of schema.options) {
    const input = $("opt-" + option.name);
    if (option.kind === "bool") values[option.name] = input.checked;
    else if (option.kind === "names") values[option.name] = input.value;
    else values[option.name] = input.value;
  }
  return values;
}
function scheduleEvaluate(delay) {
  clearTimeout(evalTimer);
  evalTimer = setTimeout(evaluate, typeof delay === "number" ? delay : 250);
}
async function evaluate() {
  const seq = ++evalSeq;
  const batch = parseInt($("memory-batch").value, 10);
  setStatus("checking…");
  let result;
  try {
    result = await api("/api/evaluate", {values: readValues(), batch_size: Number.isFinite(batch) ? batch : null});
  } catch (error) { setStatus("error: " + error.message); return; }
  if (seq !== evalSeq) return;  // a newer change is on its way
  showErrors(result.errors || {});
  if (result.ok) { showDesign(result); setStatus("design is valid"); }
  else setStatus(Object.keys(result.errors).length + " error(s)");
}
function showErrors(errors) {
  for (const option of schema.options) {
    $("err-" + option.name).textContent = errors[option.name] || "";
    $("row-" + option.name).classList.toggle("invalid", option.name in errors);
    $("opt-" + option.name).setAttribute("aria-invalid", String(option.name in errors));
  }
  $("err-_general").textContent = errors._general || "";
}
function showDesign(result) {
  const summary = result.summary;
  $("total-trainable").textContent = fmt(summary.total_trainable);
  $("total-non-trainable").textContent = fmt(summary.total_non_trainable);
  $("input-shape").textContent = shape(summary.input_shape);
  $("output-shape").textContent = shape(summary.outputs[0]);
  const body = $("summary-table").tBodies[0];
  body.replaceChildren(...Object.entries(summary.submodels).map(([name, s]) =>
    el("tr", {}, el("td", {text: name}), el("td", {text: shape(s.output_shape)}),
       el("td", {class: "num", text: fmt(s.trainable)}), el("td", {class: "num", text: fmt(s.non_trainable)}))));
  $("routes").replaceChildren(...Object.entries(summary.routes).map(([side, r]) => el("div", {text: side + ": " + r})));
  drawDiagram(result.graph);
  drawCurves(result.curves);
  showMemory(result.memory_estimate);
}
function drawDiagram(graph) {
  const columns = {}, W = 132, H = 40, GX = 40, GY = 22;
  for (const n of graph.nodes) (columns[n.column] = columns[n.column] || []).push(n);
  const place = {};
  let rows = 0;
  for (const [c, nodes] of Object.entries(columns)) {
    nodes.forEach((n, i) => { place[n.name] = {x: 10 + c * (W + GX), y: 10 + i * (H + GY), n}; });
    rows = Math.max(rows, nodes.length);
  }
  const width = 10 + 6 * (W + GX), height = 20 + rows * (H + GY);
  const root = svg("svg", {viewBox: `0 0 ${width} ${height}`, class: "scaled", role: "img",
                           "aria-label": "routing diagram: " + graph.nodes.map((n) => n.name).join(", ")});
  const defs = svg("defs");
  const marker = svg("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto"});
  marker.append(svg("path", {d: "M0,0 L10,5 L0,10 z", fill: "#555"}));
  defs.append(marker); root.append(defs);
  for (const e of graph.edges) {
    const a = place[e.from], b = place[e.to];
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    root.append(svg("path", {d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, fill: "none",
                             stroke: e.label === "style" ? "#8a4baf" : "#555", "stroke-dasharray": e.label === "style" ? "4 3" : "",
                             "marker-end": "url(#arrow)", class: "edge", "data-from": e.from, "data-to": e.to}));
  }
  for (const {x, y, n} of Object.values(place)) {
    const io = n.name.startsWith("face_in") || n.name.startsWith("out_");
    const g = svg("g", {class: "node", "data-name": n.name});
    g.append(svg("rect", {x, y, width: W, height: H, rx: 6, fill: io ? "#eef2f5" : "#dce9f7", stroke: "#4a6b8a"}));
    g.append(svg("text", {x: x + W / 2, y: y + (io ? 24 : 17), "text-anchor": "middle", "font-size": 13, "font-family": "monospace"}, n.name));
    if (!io) g.append(svg("text", {x: x + W / 2, y: y + 32, "text-anchor": "middle", "font-size": 11, fill: "#444"}, fmt(n.params) + " p"));
    root.append(g);
  }
  $("diagram").replaceChildren(root);
}
function linePlot(series, title, {width = 300, height = 160, logY = false} = {}) {
  // series: [{name, color, points: [[x, y], ...]}]
  const pad = {l: 52, r: 8, t: 20, b: 24};
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p[1]));
  const root = svg("svg", {viewBox: `0 0 ${width} ${height}`, class: "scaled", role: "img", "aria-label": title});
  root.append(svg("text", {x: pad.l, y: 14, "font-size": 12, "font-weight": 600}, title));
  if (!all.length) { root.append(svg("text", {x: pad.l, y: height / 2, "font-size": 12, fill: "#777"}, "nothing to plot")); return root; }
  const ty = (v) => logY ? Math.log10(Math.max(v, 1e-9)) : v;
  let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  let y0 = Math.min(...all.map((p) => ty(p[1]))), y1 = Math.max(...all.map((p) => ty(p[1])));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= 1; y1 += 1; }
  const sx = (x) => pad.l + (x - x0) / (x1 - x0) * (width - pad.l - pad.r);
  const sy = (y) => height - pad.b - (ty(y) - y0) / (y1 - y0) * (height - pad.t - pad.b);
  root.append(svg("line", {x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, stroke: "#999"}));
  root.append(svg("line", {x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b, stroke: "#999"}));
  const label = (v) => logY ? Math.round(10 ** v).toLocaleString("en-US") : Number(v.toPrecision(3)).toLocaleString("en-US");
  root.append(svg("text", {x: pad.l - 4, y: pad.t + 8, "text-anchor": "end", "font-size": 10}, label(y1)));
  root.append(svg("text", {x: pad.l - 4, y: height - pad.b, "text-anchor": "end", "font-size": 10}, label(y0)));
  root.append(svg("text", {x: pad.l, y: height - 8, "font-size": 10}, String(x0)));
  root.append(svg("text", {x: width - pad.r, y: height - 8, "text-anchor": "end", "font-size": 10}, String(x1)));
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (!pts.length) continue;
    root.append(svg("polyline", {points: pts.map((p) => `${sx(p[0])},${sy(p[1])}`).join(" "), fill: "none", stroke: s.color, "stroke-width": 2, class: "series-" + s.name}));
    for (const p of pts.length < 40 ? pts : []) root.append(svg("circle", {cx: sx(p[0]), cy: sy(p[1]), r: 2.5, fill: s.color}));
  }
  return root;
}
function drawCurves(curves) {
  const titles = {encoder: "encoder filters", fc: "FC dense widths", gblock: "G-Block style widths", decoder: "decoder filters"};
  $("curves").replaceChildren(...Object.entries(titles).map(([key, title]) => {
    const values = curves[key] || [];
    const box = el("div", {class: "figure", id: "curve-" + key, "data-values": values.join(",")});
    box.append(linePlot([{name: key, color: "#1f5fa8", points: values.map((v, i) => [i + 1, v])}],
                        `${title}: ${values.length ? values.map(fmt).join(", ") : "none"}`, {logY: true}));
    return box;
  }));
}
function showMemory(estimate) {
  if (!estimate) { $("memory").textContent = "give a batch size"; return; }
  if (estimate.error) { $("memory").textContent = estimate.error; return; }
  const gib = (b) => (b / 2 ** 30).toFixed(2) + " GiB";
  $("memory").replaceChildren(...Object.entries(estimate).filter(([k]) => k.endsWith("_bytes")).map(([k, v]) =>
    el("div", {id: "mem-" + k, text: `${k.slice(0, -6).padEnd(14)} ${gib(v)}`})));
}
$("memory-batch").addEventListener("input", scheduleEvaluate);

async function loadDesign(body) {
  try {
    const result = await api("/api/load", body);
    setValues(result.values);
    setStatus("loaded " + (body.preset || body.path));
  } catch (error) { $("err-_general").textContent = error.message; }
}
$("load-preset").onclick = () => { const p = $("preset-select").value; p ? loadDesign({preset: p}) : setValues({}); };
$("preset-select").onchange = $("load-preset").onclick;
$("load-file").onclick = () => loadDesign({path: $("load-path").value});
$("save").onclick = async () => {
  try {
    const result = await api("/api/save", {values: readValues(), path: $("save-path").value, description: $("save-description").value});
    $("save-result").textContent = "saved " + result.path;
  } catch (error) { $("save-result").textContent = error.message; }
};

// --- training -------------------------------------------------------------------------------
const intOrNull = (id) => { const v = parseInt($(id).value, 10); return Number.isFinite(v) ? v : null; };
$("train-start").onclick = async () => {
  $("train-error").textContent = "";
  const body = {model_dir: $("train-model-dir").value, demo: $("train-demo").checked,
                faces_a: $("train-faces-a").value || null, faces_b: $("train-faces-b").value || null,
                preset: $("train-preset").value || null, config: $("train-config").value || null,
                iterations: intOrNull("train-iterations"), batch_size: intOrNull("train-batch"),
                save_interval: intOrNull("train-save"), preview_interval: intOrNull("train-preview-every"),
                threads: intOrNull("train-threads"), workers: intOrNull("train-workers")};
  try {
    await api("/api/train/start", body);
    watch(body.model_dir);
  } catch (error) { $("train-error").textContent = error.message; }
};
$("train-stop").onclick = async () => {
  if (!watched) return;
  try { await api("/api/train/stop", {model_dir: watched}); setStatus("stopping: saving first"); }
  catch (error) { $("train-error").textContent = error.message; }
};
function watch(path) { watched = path; $("train-model-dir").value = path; refreshModels(); refreshWatched(); }
async function refreshModels() {
  let data;
  try { data = await api("/api/folders"); } catch (error) { return; }
  $("roots").textContent = data.roots.join(", ");
  $("models-table").tBodies[0].replaceChildren(...data.models.map((m) => {
    const button = el("button", {type: "button", text: "watch"});
    button.onclick = () => watch(m.path);
    const row = el("tr", {}, el("td", {text: m.name, title: m.path}), el("td", {text: m.running ? "training" : (m.is_model ? "stopped" : "new")}),
                   el("td", {class: "num", text: fmt(m.running ? m.iteration : m.checkpoint_iteration)}), el("td", {}, button));
    if (m.path === watched) row.classList.add("selected");
    return row;
  }));
}
let lastPreview = null;
async function refreshWatched() {
  if (!watched) return;
  let m;
  try { m = await api("/api/model?path=" + encodeURIComponent(watched)); } catch (error) { $("train-error").textContent = error.message; return; }
  $("watch-title").textContent = m.name;
  $("iteration").textContent = fmt(m.iteration);
  $("egs").textContent = m.egs_per_sec === null ? "–" : m.egs_per_sec.toFixed(1);
  $("checkpoint").textContent = m.checkpoint_iteration === null ? "none" : "iteration " + fmt(m.checkpoint_iteration);
  $("run-state").textContent = m.running ? (m.stop ? m.stop.message : "training") : "stopped";
  $("train-stop").disabled = !m.running;
  const points = m.live_losses.length ? m.live_losses : m.loss_history;
  $("loss-plot").replaceChildren(linePlot(["a", "b"].map((side) => ({name: side, color: side === "a" ? "#1f77b4" : "#d9590b",
    points: points.filter((p) => p[side] !== undefined && p[side] !== null).map((p) => [p.iteration, p[side]])})),
    "loss per side (A blue, B orange)", {width: 760, height: 220}));
  if (m.preview_mtime && m.preview_mtime !== lastPreview) {
    lastPreview = m.preview_mtime;
    // Load off-screen first, then swap: the old preview stays until the new one is ready.
    const next = new Image(), mtime = m.preview_mtime;
    next.onload = () => { const img = $("preview"); img.src = next.src; img.dataset.mtime = String(mtime); img.hidden = false; };
    next.src = "/api/preview?path=" + encodeURIComponent(watched) + "&t=" + mtime;
  }
  const log = $("log"), atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  if (log.textContent !== m.log_tail) { log.textContent = m.log_tail; if (atEnd) log.scrollTop = log.scrollHeight; }
}
setInterval(() => { if (!$("page-train").hidden) { refreshWatched(); refreshModels(); } }, 1000);

// --- start ----------------------------------------------------------------------------------
(async function init() {
  schema = await api("/api/schema");
  buildForm();
  const presets = await api("/api/presets");
  for (const p of presets) {
    $("preset-select").append(el("option", {value: p.name, text: `${p.name} — ${p.description}`}));
    $("train-preset").append(el("option", {value: p.name, text: p.name}));
  }
  setValues({});
  document.body.dataset.ready = "1";
})();
