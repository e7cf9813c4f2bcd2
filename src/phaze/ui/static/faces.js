// Faces page: a face folder's gallery with mask overlays (sortable by phaze faces sort's
// measures), a brush/erase/polygon mask editor, exclusions, "retrain the segmenter", and the
// A/B coverage picture. Plain JS; the token travels in the session cookie.
"use strict";

const state = { folder: "", sort: "name", offset: 0, pageSize: 48, total: 0, faces: [], current: -1,
                image: null, mask: null, undo: [], polygon: [], edits: 0, painting: false };
const $ = (id) => document.getElementById(id);
const q = (path, params) => path + "?" + new URLSearchParams(params).toString();

async function api(path, body) {
  const init = body === undefined ? {} : { method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" } };
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || data.detail || response.statusText);
  return data;
}

function loadImage(url) {
  return new Promise((resolve) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => resolve(null);
    image.src = url;
  });
}

function faceUrl(kind, name) {
  return q("/api/faces/" + kind, { folder: state.folder, name, t: Date.now() });
}

// The face with its mask drawn over it: visible face green, the rest dimmed.
function drawOverlay(ctx, image, mask, size) {
  ctx.drawImage(image, 0, 0, size, size);
  if (!mask) return;
  const layer = document.createElement("canvas");
  layer.width = layer.height = size;
  const lctx = layer.getContext("2d");
  lctx.drawImage(mask, 0, 0, size, size);
  const pixels = lctx.getImageData(0, 0, size, size);
  for (let i = 0; i < pixels.data.length; i += 4) {
    const on = pixels.data[i] / 255;
    pixels.data[i] = 0; pixels.data[i + 1] = 200 * on; pixels.data[i + 2] = 0;
    pixels.data[i + 3] = on > 0.5 ? 90 : 120;
  }
  lctx.putImageData(pixels, 0, 0);
  ctx.drawImage(layer, 0, 0);
}

async function openFolder() {
  state.folder = $("folder").value.trim();
  try {
    $("count").textContent = state.sort === "name" ? "" : "measuring the faces…";
    const data = await api(q("/api/faces/list", { folder: state.folder, offset: state.offset,
                                                   limit: state.pageSize, sort: state.sort }));
    state.total = data.total;
    state.faces = data.faces;
    $("count").textContent = `${data.total} faces` + (data.sort === "name" ? "" : `, by ${data.sort}`);
    document.body.dataset.order = data.faces.map((face) => face.name).join("/");
    $("page").textContent = `${state.offset + 1}–${state.offset + data.faces.length} of ${data.total}`;
    await renderGallery();
  } catch (error) {
    $("count").textContent = error.message;
  }
}

function valueText(face) {
  return face.value === null || face.value === undefined ? "" : ` (${Number(face.value.toPrecision(4))})`;
}

async function loadSortKeys() {
  const select = $("sort");
  for (const key of await api("/api/faces/sort-keys")) {
    const option = document.createElement("option");
    option.value = key.name;
    option.textContent = key.name;
    option.title = key.description;
    select.append(option);
  }
}

// The picture and the list of uncovered A faces, as `phaze faces coverage` writes them.
async function showCoverage() {
  const params = { faces_a: $("cover-a").value.trim(), faces_b: $("cover-b").value.trim() };
  $("cover-status").textContent = "measuring the faces…";
  try {
    const data = await api(q("/api/faces/coverage", params));
    const gaps = data.uncovered;
    $("cover-status").textContent = `${Math.round(100 * data.covered_fraction)} % of A's ` +
      `${data.count_a} faces have a close B face; ${gaps.length} lack one`;
    $("cover-gaps").replaceChildren(...gaps.slice(0, 20).map((gap) => {
      const item = document.createElement("li");
      item.textContent = `${gap.face}: yaw ${gap.yaw}°, pitch ${gap.pitch}°, mouth ${gap.mouth_open}` +
        ` (nearest B: ${gap.nearest_b}, ${gap.distance_in_tolerances}× the tolerance)`;
      return item;
    }));
    const picture = $("cover-picture");
    picture.dataset.loaded = "0";
    picture.onload = () => { picture.dataset.loaded = "1"; };
    picture.src = q("/api/faces/coverage.png", { ...params, t: Date.now() });
    picture.hidden = false;
  } catch (error) {
    $("cover-status").textContent = error.message;
  }
}

async function renderGallery() {
  const gallery = $("gallery");
  gallery.replaceChildren();
  for (const [index, face] of state.faces.entries()) {
    const item = document.createElement("div");
    item.className = "thumb" + (face.excluded ? " excluded" : "");
    item.dataset.name = face.name;
    item.dataset.hasMask = face.has_mask ? "1" : "0";
    item.dataset.handDrawn = face.hand_drawn ? "1" : "0";
    item.tabIndex = 0;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 108;
    const label = document.createElement("div");
    label.textContent = face.name + valueText(face) + (face.hand_drawn ? " ✎" : "") + (face.excluded ? " (excluded)" : "");
    item.append(canvas, label);
    item.addEventListener("click", () => edit(index));
    item.addEventListener("keydown", (event) => { if (event.key === "Enter") edit(index); });
    gallery.append(item);
    const [image, mask] = await Promise.all([loadImage(faceUrl("image", face.name)),
      face.has_mask ? loadImage(faceUrl("mask", face.name)) : null]);
    if (image) drawOverlay(canvas.getContext("2d"), image, mask, 108);
  }
}

async function edit(index) {
  if (index < 0 || index >= state.faces.length) return;
  state.current = index;
  const face = state.faces[index];
  document.querySelectorAll(".thumb").forEach((t) => t.classList.toggle("selected", t.dataset.name === face.name));
  state.image = await loadImage(faceUrl("image", face.name));
  const stored = face.has_mask ? await loadImage(faceUrl("mask", face.name)) : null;
  state.mask = document.createElement("canvas");
  state.mask.width = state.image.naturalWidth;
  state.mask.height = state.image.naturalHeight;
  const mctx = state.mask.getContext("2d");
  mctx.fillStyle = "#000";
  mctx.fillRect(0, 0, state.mask.width, state.mask.height);
  if (stored) mctx.drawImage(stored, 0, 0, state.mask.width, state.mask.height);
  state.undo = [];
  state.polygon = [];
  $("editing").textContent = face.name;
  $("exclude").checked = face.excluded;
  $("editor").hidden = false;
  $("editor-status").textContent = face.hand_drawn ? "hand-drawn mask" : (face.has_mask ? "segmenter's mask" : "no mask yet");
  redraw();
}

function redraw() {
  const canvas = $("canvas");
  const ctx = canvas.getContext("2d");
  drawOverlay(ctx, state.image, state.mask, canvas.width);
  if (state.polygon.length) {
    ctx.strokeStyle = "#ff0";
    ctx.beginPath();
    const scale = canvas.width / state.mask.width;
    state.polygon.forEach(([x, y], i) => (i ? ctx.lineTo(x * scale, y * scale) : ctx.moveTo(x * scale, y * scale)));
    ctx.stroke();
  }
}

function tool() { return document.querySelector("input[name=tool]:checked").value; }

function maskPoint(event) {
  const rect = $("canvas").getBoundingClientRect();
  return [(event.clientX - rect.left) * state.mask.width / rect.width,
          (event.clientY - rect.top) * state.mask.height / rect.height];
}

function remember() {
  const mctx = state.mask.getContext("2d");
  state.undo.push(mctx.getImageData(0, 0, state.mask.width, state.mask.height));
  if (state.undo.length > 30) state.undo.shift();
}

// One brush segment from the last point (a line with round caps: no gaps in fast strokes).
function dab(event) {
  const [x, y] = maskPoint(event);
  const [x0, y0] = state.last || [x, y];
  const mctx = state.mask.getContext("2d");
  mctx.strokeStyle = tool() === "erase" ? "#000" : "#fff";
  mctx.lineWidth = Number($("size").value) * state.mask.width / 384;
  mctx.lineCap = mctx.lineJoin = "round";
  mctx.beginPath();
  mctx.moveTo(x0, y0);
  mctx.lineTo(x, y);
  mctx.stroke();
  state.last = [x, y];
  redraw();
}

function closePolygon() {
  if (state.polygon.length < 3) { state.polygon = []; redraw(); return; }
  remember();
  const mctx = state.mask.getContext("2d");
  mctx.fillStyle = "#fff";
  mctx.beginPath();
  state.polygon.forEach(([x, y], i) => (i ? mctx.lineTo(x, y) : mctx.moveTo(x, y)));
  mctx.closePath();
  mctx.fill();
  state.polygon = [];
  redraw();
}

function undo() {
  const last = state.undo.pop();
  if (last) { state.mask.getContext("2d").putImageData(last, 0, 0); redraw(); }
}

async function save() {
  const face = state.faces[state.current];
  const png = state.mask.toDataURL("image/png").split(",")[1];
  try {
    await api("/api/faces/mask", { folder: state.folder, name: face.name, png_base64: png });
    face.has_mask = face.hand_drawn = true;
    state.edits += 1;
    $("edits").textContent = `${state.edits} masks edited` + (state.edits >= 10 ? ": retrain the segmenter" : "");
    $("editor-status").textContent = "saved";
    await refreshThumb(face);
  } catch (error) {
    $("editor-status").textContent = error.message;
  }
}

async function refreshThumb(face) {
  const item = document.querySelector(`.thumb[data-name="${CSS.escape(face.name)}"]`);
  if (!item) return;
  item.dataset.hasMask = face.has_mask ? "1" : "0";
  item.dataset.handDrawn = face.hand_drawn ? "1" : "0";
  item.classList.toggle("excluded", face.excluded);
  item.lastChild.textContent = face.name + valueText(face) + (face.hand_drawn ? " ✎" : "") + (face.excluded ? " (excluded)" : "");
  const [image, mask] = await Promise.all([loadImage(faceUrl("image", face.name)),
    face.has_mask ? loadImage(faceUrl("mask", face.name)) : null]);
  if (image) drawOverlay(item.firstChild.getContext("2d"), image, mask, 108);
}

async function setExcluded() {
  const face = state.faces[state.current];
  try {
    await api("/api/faces/exclude", { folder: state.folder, name: face.name, excluded: $("exclude").checked });
    face.excluded = $("exclude").checked;
    $("editor-status").textContent = face.excluded ? "excluded from training" : "used in training";
    await refreshThumb(face);
  } catch (error) {
    $("editor-status").textContent = error.message;
  }
}

async function retrain() {
  const model_dir = $("model-dir").value.trim();
  try {
    await api("/api/faces/retrain", { folder: state.folder, model_dir, steps: Number($("steps").value) });
  } catch (error) {
    $("retrain-status").textContent = error.message;
    return;
  }
  $("retrain-status").textContent = "training…";
  const poll = async () => {
    const status = await api(q("/api/faces/retrain", { model_dir }));
    $("retrain-status").textContent = status.log.split("\n").filter(Boolean).slice(-3).join("\n");
    if (status.running) { setTimeout(poll, 1000); return; }
    $("retrain-status").dataset.done = status.exit_code === 0 ? "ok" : "failed";
    state.edits = 0;
    await openFolder();
  };
  setTimeout(poll, 1000);
}

function wire() {
  $("open").addEventListener("click", () => { state.offset = 0; openFolder(); });
  $("sort").addEventListener("change", () => { state.sort = $("sort").value; state.offset = 0; openFolder(); });
  $("cover").addEventListener("click", showCoverage);
  $("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.pageSize); openFolder(); });
  $("next").addEventListener("click", () => {
    if (state.offset + state.pageSize < state.total) { state.offset += state.pageSize; openFolder(); }
  });
  const canvas = $("canvas");
  canvas.addEventListener("mousedown", (event) => {
    if (tool() === "polygon") { state.polygon.push(maskPoint(event)); redraw(); return; }
    remember();
    state.painting = true;
    state.last = null;
    dab(event);
  });
  canvas.addEventListener("mousemove", (event) => { if (state.painting) dab(event); });
  window.addEventListener("mouseup", () => { state.painting = false; });
  canvas.addEventListener("dblclick", closePolygon);
  $("undo").addEventListener("click", undo);
  $("save").addEventListener("click", save);
  $("exclude").addEventListener("change", setExcluded);
  $("close").addEventListener("click", () => { $("editor").hidden = true; });
  $("retrain").addEventListener("click", retrain);
  document.addEventListener("keydown", (event) => {
    if ($("editor").hidden || event.target.tagName === "INPUT") return;
    const keys = { ArrowRight: () => edit(state.current + 1), ArrowLeft: () => edit(state.current - 1),
      b: () => { document.querySelector("input[value=brush]").checked = true; },
      e: () => { document.querySelector("input[value=erase]").checked = true; },
      p: () => { document.querySelector("input[value=polygon]").checked = true; },
      z: undo, s: save, Enter: closePolygon };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });
  const folder = new URLSearchParams(location.search).get("folder");
  if (folder) { $("folder").value = folder; $("cover-a").value = folder; openFolder(); }
  document.body.dataset.ready = "1";
}

wire();
loadSortKeys();
