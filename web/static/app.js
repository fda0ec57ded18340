// The page: pick a model, move a point on its 2-D map and hear the drum at that point as it is
// reached, loop it while moving (new sounds crossfade in), vary it where the model can, hear it
// in a 16-step beat whose lanes keep their own sounds, keep it as a favourite, go back and
// forward, share its address, download it as a WAV, and take the favourites or the beat's
// sounds home as a kit. Talks only to this server's /api; no libraries, no build step.
"use strict";

// One colour per family, by name, so every model's map agrees: Okabe and Ito's palette for
// colour-blind eyes, assigned so that the look-alike families differ most (snare sky blue / clap
// vermillion, hat yellow / percussion purple). tests/test_web_page_keep.py checks every pair
// under simulated protanopia, deuteranopia and tritanopia.
const FAMILY_COLOURS = {
  kick: "#e69f00", snare: "#56b4e9", clap: "#d55e00", hat: "#f0e442", tom: "#0072b2",
  cymbal: "#009e73", percussion: "#cc79a7", other: "#e8e8e8", unknown: "#9aa0a8",
};
const familyColour = (name) => FAMILY_COLOURS[name] || FAMILY_COLOURS.other;
const CROSSFADE_S = 0.03;      // a new sound replaces the looping one over 30 ms: no click
const EDGE_FADE_S = 0.004;     // the loop's seam is faded so it cannot click either
const KEY_STEPS = 50;          // an arrow key moves 1/50 of the map (Shift: 1/10)
const DEFAULT_RATE = 44100;    // the sounds are fetched as the WAV a user downloads
const SILENT_PEAK = 0.001;     // -60 dBFS: quieter than this is "almost silent"
const STORE = "drumApp.";      // localStorage keys: the listener's choices, kept between visits
const MAX_HISTORY = 200;       // back/forward steps kept (the oldest are forgotten)
const MAX_FAVOURITES = 100;
// Above this the master bus bends peaks smoothly towards full scale instead of clipping them.
const LIMIT_KNEE = 0.8;        // -1.9 dBFS: below it the limiter passes the sound untouched
const LIMIT_RANGE = 4;         // inputs up to 4 (+12 dBFS) are bent; beyond it they sit at full scale

const app = {
  models: [], levels: ["as made"], model: null, codes: null, point: [0, 0], variation: null,
  // a model with more than two latent axes: its whole vector (the pad's two axes are app.point's),
  // and which two axes the pad shows (its own pad_axes until the listener picks others)
  axes: null, padAxes: null,
  level: remembered("level", "as made"), volume: rememberedVolume(), rates: [DEFAULT_RATE],
  rate: Number(remembered("rate", String(DEFAULT_RATE))),
  bitsOffered: [16], bits: Number(remembered("bits", "16")),  // the file's sample format: 16 or 24-bit PCM
  audition: remembered("audition", "on") === "on",
  // the family asked for ("" is "All families", the plain pad), and a hybrid's second with its weight
  family: remembered("family", ""), family2: "", mixWeight: 0.5,
  // a model that renders any length: the length asked for (null: its own window)
  seconds: null,
  // The newest point's URL (the one slot: a fast drag never queues fetches), the one in flight,
  // the sound on the page (its waveform, point line and Download), and why the wanted one failed.
  wantedUrl: null, loadingUrl: null, shown: null, failure: null,
  auditionPending: false, playWhenReady: false,
  ctx: null, master: null, output: null, oneShot: null, looping: false, voice: null, beat: null,
  placed: null,  // the user's own sample: its file name and where the server placed it
  // the sounds visited (back/forward) and kept, each {model, query, label}: kept in the browser
  history: { steps: [], at: -1 }, favourites: [], dragging: false,
};
window.drumApp = app;  // for the browser test and the curious

const el = (id) => document.getElementById(id);
const pad = el("pad"), wave = el("wave");

function remembered(name, fallback) {
  try { return localStorage.getItem(STORE + name) ?? fallback; } catch { return fallback; }
}

function rememberedVolume() {
  const volume = Number(remembered("volume", "0.8"));
  return Number.isFinite(volume) ? Math.min(1, Math.max(0, volume)) : 0.8;
}

function remember(name, value) {
  try { localStorage.setItem(STORE + name, String(value)); } catch { /* private mode: not kept */ }
}

// A kept list or record, or ``fallback`` when there is none or it is not what was kept (an
// older page's, or edited by hand): the page starts afresh rather than failing.
function rememberedJson(name, fallback, valid) {
  try {
    const value = JSON.parse(remembered(name, "null"));
    return value !== null && valid(value) ? value : fallback;
  } catch {
    return fallback;
  }
}

const isSpec = (s) => s && typeof s.model === "string" && typeof s.query === "string" && typeof s.label === "string";

function status(text, isError = false) {
  el("status").textContent = text;
  el("status").classList.toggle("error", isError);
}

// A failure in words a listener can act on: never a bare status code or "Failed to fetch".
class Unreachable extends Error {}

function friendly(error) {
  if (error instanceof Unreachable) return "The server cannot be reached. Check the connection, then press Play to try again.";
  if (error.status === 429) return "Too many sounds asked for at once: wait a moment, then press Play.";
  if (error.status === 503) {
    const reason = error.message.replace(/[.;]? *try again$/, "");
    const words = reason ? `${reason[0].toUpperCase()}${reason.slice(1)}.` : "The server cannot make sounds right now.";
    return `${words} Press Play to try again in a moment.`;
  }
  if (error.status >= 500) return "The server failed to make this sound. Press Play to try again.";
  if (error.status >= 400 && error.message) return `This sound cannot be made: ${error.message}.`;
  return "Something went wrong with this sound. Press Play to try again.";
}

async function request(url) {
  let response;
  try {
    response = await fetch(url);
  } catch {
    throw new Unreachable();
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const error = new Error(body.error || "");
    error.status = response.status;
    throw error;
  }
  return response;
}

const getJson = async (url) => (await request(url)).json();

// ----------------------------------------------------------------------------- models

async function start() {
  status("Loading\u2026");
  try {
    const list = await getJson("/api/models");
    app.models = list.models;
    app.levels = list.levels || ["as made"];
    app.rates = list.rates || [DEFAULT_RATE];
    app.bitsOffered = list.bits || [16];
    if (!app.bitsOffered.includes(app.bits)) app.bits = app.bitsOffered[0];
    el("bits").replaceChildren(...app.bitsOffered.map((b) => new Option(`${b}-bit`, String(b))));
    el("bits").value = String(app.bits);
    if (!app.levels.includes(app.level)) app.level = list.default_level || app.levels[0];
    fillPicker(list);
    fillLevels();
    const linked = linkedSpec();  // a shared link's sound, or the one last shown (a reload)
    await chooseModel(linked ? linked.model : list.default, linked);
    loadLaneSounds();
  } catch (error) {
    app.failure = { url: null, message: friendly(error) };
    status(app.failure.message, true);
    updateControls();
  }
}

function fillPicker(list) {
  const picker = el("model");
  picker.replaceChildren();
  for (const model of app.models) {
    const option = document.createElement("option");
    option.value = model.name;
    option.textContent = model.default ? `${model.name} (recommended)` : model.name;
    picker.append(option);
  }
  picker.value = list.default;
  picker.disabled = false;
}

function fillLevels() {
  const picker = el("level");
  picker.replaceChildren();
  for (const level of app.levels) {
    const option = document.createElement("option");
    option.value = level;
    option.textContent = level;
    picker.append(option);
  }
  picker.value = app.level;
  picker.disabled = false;
}

// ``spec`` (a link's, a favourite's, a history step's) sets the point, family, take, level and
// rate; without one the model opens at its centre.
async function chooseModel(name, spec = null, { audition = false } = {}) {
  app.model = app.models.find((m) => m.name === name);
  el("model").value = name;
  el("description").textContent = app.model.description;
  if (app.model.collapsed) {  // the catalogue's warning: its codes do not spread
    el("description").textContent += " ⚠ Collapsed: every training sound encodes to one point, so it makes one sound everywhere.";
  }
  el("vary").hidden = !app.model.has_variation;
  app.variation = null;
  app.codes = null;
  app.point = app.model.center.slice();
  app.axes = app.model.latent ? app.model.latent.center.slice() : null;
  app.padAxes = app.model.latent ? app.model.latent.pad_axes.slice() : null;
  app.placed = null;
  const problems = spec ? applyQuery(spec.query) : [];
  fillAxes();
  fillFamilies();
  fillRates();
  fillLength();
  el("level").value = app.level;
  if (problems.length) notice(`This link was opened as near as it can be: ${problems.join("; ")}.`, true);
  showPlaced();
  forget();
  padNote(app.model.has_codes ? "Loading the map\u2026" : "Every point is a new sound.");
  drawLegend();
  drawPad();
  requestSound({ audition });
  await loadCodes();
}

// The rates a file may be asked at: 44.1 and 48 kHz, and the model's own where the server
// offers it. A sound made at 22.05 kHz and fetched at 44.1 holds nothing above 11 kHz, so the
// page says what the model makes and names the file after both.
const kHz = (rate) => `${rate / 1000}`;

function fillRates() {
  const native = app.model.sample_rate, picker = el("rate");
  const offered = app.rates.filter((r) => r === native || r >= DEFAULT_RATE);
  if (!offered.includes(app.rate)) app.rate = offered.includes(DEFAULT_RATE) ? DEFAULT_RATE : offered[0];
  picker.replaceChildren(...offered.map((r) => new Option(`${kHz(r)} kHz${r === native ? " (as made)" : ""}`, String(r))));
  picker.value = String(app.rate);
  picker.disabled = offered.length < 2;
  showRate();
}

function showRate() {
  const native = app.model.sample_rate;
  el("native").textContent = `${app.model.name} makes ${kHz(native)} kHz sound` + (app.rate === native
    ? "; the file is as made." : `; the file is resampled to ${kHz(app.rate)} kHz (nothing above ${kHz(native / 2)} kHz).`);
}

// The server names a file after its point, take, level and rate, and a resampled file after
// the rate it was made at too ("…_44.1kHz_from_22.05kHz.wav"), so the name promises no more than
// it holds; a name without it (an older server's) gets it here.
function honestName(name, rate, native) {
  return rate === native || name.includes("_from_") ? name : name.replace(/\.wav$/, `_from_${kHz(native)}kHz.wav`);
}

// The training sounds where the pad plays them: with a family chosen, on that family's pad.
async function loadCodes() {
  const model = app.model, query = familyQuery();
  if (!model.has_codes) return;
  try {
    const codes = await getJson(model.codes_url + (query ? `?${query.slice(1)}` : ""));  // versioned: cached for good
    if (app.model !== model || familyQuery() !== query) return;  // picked another meanwhile
    app.codes = codes;
    padNote("");
  } catch (error) {
    if (app.model === model) padNote(`No map of training sounds: ${friendly(error)}`);
  }
  drawLegend();
  drawPad();
}

// ----------------------------------------------------------------------------- families

// A model with training codes plays a family on its family pad (the pad spans that family's
// region), and a conditioned model makes the family asked for; one, or a hybrid of two. "All
// families" is the plain pad. A model that takes none says why.
const families = () => (app.model && app.model.families) || [];
const optional = () => Boolean(app.model && app.model.family_optional);

function fillFamilies() {
  const list = families(), first = el("family"), second = el("family2");
  if (!list.includes(app.family) && !(optional() && app.family === "")) app.family = optional() ? "" : (list[0] || "");
  if (!list.includes(app.family2) || !app.family) app.family2 = "";
  const choices = list.length ? (optional() ? [["All families", ""], ...list.map((f) => [f, f])] : list.map((f) => [f, f]))
    : [["none", "none"]];
  first.replaceChildren(...choices.map(([text, value]) => new Option(text, value)));
  second.replaceChildren(new Option("\u2014", ""), ...list.map((f) => new Option(f, f)));
  first.value = list.length ? app.family : "none";
  second.value = app.family2;
  const why = list.length ? "" : (app.model.no_family_reason || `${app.model.name} takes no family`);
  for (const id of ["family", "family2", "mix"]) {
    el(id).disabled = !list.length || (id !== "family" && !app.family) || (id === "mix" && !app.family2);
    el(id).title = why;
  }
  el("families").title = why;
  // A model that takes no family says so in one line: a row of disabled selectors would push
  // Play, Vary and Download below the fold on a phone.
  el("families").hidden = !list.length;
  el("no-family").hidden = Boolean(list.length);
  el("no-family").textContent = list.length ? "" : `Family: ${why}.`;
  el("mix-text").textContent = app.family2 && list.length
    ? `${app.family} ${(1 - app.mixWeight).toFixed(2)} + ${app.family2} ${app.mixWeight.toFixed(2)}` : "";
}

function familyQuery() {
  if (!families().length || !app.family) return "";
  if (!app.family2 || app.family2 === app.family) return `&family=${encodeURIComponent(app.family)}`;
  const w = app.mixWeight;
  return `&mix=${encodeURIComponent(`${app.family}:${(1 - w).toFixed(2)},${app.family2}:${w.toFixed(2)}`)}`;
}

function familyChanged() {
  app.family = el("family").value;
  app.family2 = el("family2").value;
  app.mixWeight = Number(el("mix").value);
  remember("family", app.family);
  fillFamilies();
  drawPad();
  if (!app.model) return;
  forget();
  requestSound({ audition: app.audition });
  loadCodes();
}
for (const id of ["family", "family2"]) el(id).addEventListener("change", familyChanged);
el("mix").addEventListener("change", familyChanged);

// ----------------------------------------------------------------------------- your own sample

// A sample the user drops on the map (or chooses) is posted to the model's encoder, which
// answers where it sits: the point moves there, its sound plays, and its likeliest family
// and nearest training sounds are named. The server keeps nothing of the file.
async function placeSample(file) {
  const model = app.model;
  if (!model) return;
  if (!model.encode_url) {
    status(`${model.name} has no encoder (it only generates): a sample has no place on its map. Pick another model.`, true);
    return;
  }
  status(`Finding ${file.name} on the map\u2026`);
  let response;
  try {
    response = await fetch(model.encode_url, { method: "POST", body: file });
  } catch {
    status(friendly(new Unreachable()), true);
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (app.model !== model) return;  // another model was picked meanwhile
  if (!response.ok) {
    status(`${file.name}: ${body.error || "it cannot be placed"}.`, true);
    return;
  }
  if (app.family && optional()) {  // its point is on the plain pad: show that one
    app.family = app.family2 = "";
    fillFamilies();
    loadCodes();
  } else if (body.frame_family) {
    // a family frame's sample is given in the frame of the family it is likeliest under (so
    // its own code plays, not one kept within another family's bounds): the page plays that family
    [app.family, app.family2] = [body.frame_family, ""];
    fillFamilies();
    loadCodes();
  }
  app.placed = { file: file.name, ...body };
  if (body.shown_vector && app.axes) {  // a wide latent: the whole code, on the axes the pad shows
    app.axes = rounded(body.shown_vector);
    app.point = app.padAxes.map((axis) => app.axes[axis]);
    fillAxes();
  } else app.point = body.shown.slice();
  showPlaced();
  forget();
  drawPad();
  requestSound({ audition: true });
}

function showPlaced() {
  const placed = app.placed;
  el("placed").hidden = !placed;
  if (!placed) return;
  const near = placed.nearest.map((n) => `${n.name} (${n.family})`).join(", ");
  const where = placed.vector ? placed.vector.map((v, axis) => `axis ${axis} ${v.toFixed(2)}`).join(", ")
    : `x ${placed.point[0].toFixed(2)}, y ${placed.point[1].toFixed(2)}`;
  el("placed").textContent = `${placed.file}: at ${where}`
    + (placed.inside ? "" : " (beyond the map: played at its edge)")
    + (placed.family ? ` \u00b7 most like a ${placed.family}` : "")
    + (near ? ` \u00b7 nearest: ${near}` : "");
}

el("sample-file").addEventListener("change", () => {
  const file = el("sample-file").files[0];
  el("sample-file").value = "";
  if (file) placeSample(file);
});
pad.addEventListener("dragover", (event) => {
  event.preventDefault();
  pad.classList.add("dropping");
});
pad.addEventListener("dragleave", () => pad.classList.remove("dropping"));
pad.addEventListener("drop", (event) => {
  event.preventDefault();
  pad.classList.remove("dropping");
  const file = event.dataTransfer && event.dataTransfer.files[0];
  if (file) placeSample(file);
});

// ----------------------------------------------------------------------------- the pad

function padNote(text) {
  el("pad-note").textContent = text;
  el("pad-note").hidden = !text;
}

function resizeCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio), height = Math.round(canvas.clientHeight * ratio);
  if (width && height && (canvas.width !== width || canvas.height !== height)) {
    canvas.width = width;
    canvas.height = height;
  }
}

// What the pad spans: the model's range, or for a wide latent whose pad shows other axes than
// its own, those two axes' ranges (the sliders').
function padRange() {
  const latent = app.model.latent;
  if (!latent || ownAxes()) return app.model.latent_range;
  const [a, b] = app.padAxes;
  return [latent.low[a], latent.high[a], latent.low[b], latent.high[b]];
}

const ownAxes = () => !app.padAxes || (app.padAxes[0] === app.model.latent.pad_axes[0] && app.padAxes[1] === app.model.latent.pad_axes[1]);

function toPixels(x, y) {
  const [xmin, xmax, ymin, ymax] = padRange();
  return [(x - xmin) / (xmax - xmin) * pad.width, (1 - (y - ymin) / (ymax - ymin)) * pad.height];
}

function toLatent(px, py) {
  const [xmin, xmax, ymin, ymax] = padRange();
  const fx = Math.min(1, Math.max(0, px / pad.width)), fy = Math.min(1, Math.max(0, py / pad.height));
  return [xmin + fx * (xmax - xmin), ymin + (1 - fy) * (ymax - ymin)];
}

// The training sounds' places on the pad's two axes, flattened (x, y, x, y...): the codes as the
// server sent them, or on a wide latent's other axes their whole codes' columns; null without.
function codePoints() {
  if (!app.codes) return null;
  if (ownAxes()) return app.codes.points;
  const { full, dim } = app.codes;
  if (!full) return null;
  const [a, b] = app.padAxes, points = [];
  for (let i = 0; i < full.length / dim; i++) points.push(full[i * dim + a], full[i * dim + b]);
  return points;
}

// The training sounds of the family asked for (or of either family of a hybrid) keep their
// colour; the others are greyed.
const GREYED = "#4a4f58";
const highlighted = (name) => !families().length || !app.family || name === app.family
  || (app.family2 && name === app.family2);

function drawPad() {
  resizeCanvas(pad);
  const g = pad.getContext("2d"), ratio = window.devicePixelRatio || 1;
  g.clearRect(0, 0, pad.width, pad.height);
  if (!app.model) return;
  g.strokeStyle = "#2c3038";
  g.lineWidth = ratio;
  for (let i = 1; i < 4; i++) {
    g.beginPath(); g.moveTo(pad.width * i / 4, 0); g.lineTo(pad.width * i / 4, pad.height); g.stroke();
    g.beginPath(); g.moveTo(0, pad.height * i / 4); g.lineTo(pad.width, pad.height * i / 4); g.stroke();
  }
  const points = codePoints();
  if (points) {
    const { family } = app.codes, radius = 2.6 * ratio;
    g.globalAlpha = 0.75;
    for (let i = 0; i < family.length; i++) {
      const [px, py] = toPixels(points[2 * i], points[2 * i + 1]);
      const name = app.codes.families[family[i]];
      g.fillStyle = highlighted(name) ? familyColour(name) : GREYED;
      g.beginPath(); g.arc(px, py, radius, 0, 2 * Math.PI); g.fill();
    }
    g.globalAlpha = 1;
  }
  // a point beyond the pad's square (a dropped sample's, a link's) is drawn at the edge it lies
  // beyond, its ring dashed
  const [ax, ay] = toPixels(...app.point);
  const px = Math.min(Math.max(ax, 0), pad.width), py = Math.min(Math.max(ay, 0), pad.height);
  g.setLineDash(px !== ax || py !== ay ? [4 * ratio, 3 * ratio] : []);
  g.strokeStyle = "#ffb000";
  g.lineWidth = 2.5 * ratio;
  g.beginPath(); g.arc(px, py, 9 * ratio, 0, 2 * Math.PI); g.stroke();
  g.setLineDash([]);
  g.beginPath(); g.moveTo(px - 14 * ratio, py); g.lineTo(px + 14 * ratio, py);
  g.moveTo(px, py - 14 * ratio); g.lineTo(px, py + 14 * ratio); g.stroke();
}

function drawLegend() {
  const legend = el("legend");
  legend.replaceChildren();
  if (!app.codes) return;
  const counts = new Array(app.codes.families.length).fill(0);
  for (const f of app.codes.family) counts[f]++;
  app.codes.families.forEach((name, i) => {
    const item = document.createElement("li");
    item.style.setProperty("--swatch", familyColour(name));
    item.textContent = `${name} (${counts[i]})`;
    legend.append(item);
  });
}

// The point is kept as the server decodes it, to 4 decimals: the page, its address and a link's
// page then hold the same number.
const rounded = (point) => point.map((v) => Number(v.toFixed(4)) + 0);

function moveTo(point, { audition = false } = {}) {
  if (!app.model) return;
  app.point = rounded(point);
  drawPad();
  requestSound({ audition });
}

function eventPoint(event) {
  const box = pad.getBoundingClientRect(), ratio = pad.width / box.width;
  return toLatent((event.clientX - box.left) * ratio, (event.clientY - box.top) * ratio);
}

// A touch on the pad is heard as it moves (when "Audition on click" is on); each point the drag
// reaches asks for its sound, and only the newest is fetched next.
// The press focuses the pad as any focusable element is focused (no ring for a mouse or a
// touch: :focus-visible is for the keyboard). The points a drag passes through are not history
// steps: only where it is let go.
const touched = (event) => moveTo(eventPoint(event), { audition: app.audition });
const stop = () => {
  app.dragging = false;
  if (isReady()) settle();
};
if (window.PointerEvent) {
  pad.addEventListener("pointerdown", (event) => {
    app.dragging = true;
    pad.setPointerCapture(event.pointerId);
    touched(event);
  });
  pad.addEventListener("pointermove", (event) => { if (app.dragging) touched(event); });
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointercancel", stop);
} else {
  // Older touch browsers without pointer events.
  const onTouch = (event) => {
    event.preventDefault();
    touched(event.touches[0]);
  };
  pad.addEventListener("touchstart", onTouch, { passive: false });
  pad.addEventListener("touchmove", onTouch, { passive: false });
  pad.addEventListener("mousedown", (event) => { app.dragging = true; touched(event); });
  window.addEventListener("mousemove", (event) => { if (app.dragging) touched(event); });
  window.addEventListener("mouseup", () => { if (app.dragging) stop(); });
}

pad.addEventListener("keydown", (event) => {
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  if (event.key === " " || event.key === "Enter") {
    event.preventDefault();
    play();
    return;
  }
  const move = moves[event.key];
  if (!move || !app.model) return;
  event.preventDefault();
  const [xmin, xmax, ymin, ymax] = padRange(), steps = event.shiftKey ? 10 : KEY_STEPS;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  moveTo([clamp(app.point[0] + move[0] * (xmax - xmin) / steps, xmin, xmax),
          clamp(app.point[1] + move[1] * (ymax - ymin) / steps, ymin, ymax)]);
});

window.addEventListener("resize", () => { drawPad(); drawWave(); });

// ----------------------------------------------------------------------------- the other axes

// A model with more than two latent axes (its latent in /api/models): the pad plays two of them
// and each other axis is a slider, named by its number, spanning its range and starting at its
// centre. The sound is the whole vector's (the sound URL's z=), so a link, a favourite, a
// history step and a download hold every axis.
const otherAxes = () => {
  const latent = app.model && app.model.latent;
  return latent ? [...latent.center.keys()].filter((axis) => !app.padAxes.includes(axis)) : [];
};

function latentVector() {
  const vector = app.axes.slice(), [a, b] = app.padAxes;
  [vector[a], vector[b]] = app.point;
  return vector;
}

// The pad shows another axis: the vector stays as it is (so the sound does), the pad's point is
// its two chosen numbers, and the axis the pad no longer shows becomes a slider. Choosing the
// axis the other pad direction shows swaps the two.
function chooseAxis(which, axis) {
  const vector = latentVector(), axes = app.padAxes.slice();
  if (axes[1 - which] === axis) axes[1 - which] = axes[which];
  axes[which] = axis;
  app.axes = vector;
  app.padAxes = axes;
  app.point = axes.map((a) => vector[a]);
  fillAxes();
  padNote(app.codes && !codePoints() ? "The training sounds' places on these axes are not known." : "");
  drawPad();
}

function fillAxes() {
  const box = el("axes"), latent = app.model.latent;
  box.hidden = !latent;
  box.replaceChildren();
  if (!latent) return;
  // which two axes the pad shows: the sound stays that of the whole vector
  for (const [which, name] of [[0, "Pad across"], [1, "Pad up"]]) {
    const label = document.createElement("label"), choice = document.createElement("select");
    label.className = "inline";
    choice.id = which ? "pad-y" : "pad-x";
    for (const axis of latent.center.keys()) choice.add(new Option(`Axis ${axis}`, String(axis)));
    choice.value = String(app.padAxes[which]);
    choice.addEventListener("change", () => chooseAxis(which, Number(choice.value)));
    label.append(`${name} `, choice);
    box.append(label);
  }
  for (const axis of otherAxes()) {
    const label = document.createElement("label"), slider = document.createElement("input");
    const name = document.createElement("span"), text = document.createElement("span");
    label.className = "inline";
    name.className = "axis-name";  // of one width, so that the sliders line up past Axis 9
    name.textContent = `Axis ${axis}`;
    text.className = "axis-value";
    label.append(name, slider, text);
    Object.assign(slider, { type: "range", id: `axis-${axis}`, min: String(latent.low[axis]), max: String(latent.high[axis]) });
    slider.step = String((latent.high[axis] - latent.low[axis]) / 200);
    slider.value = String(app.axes[axis]);
    text.textContent = format(app.axes[axis]);
    // the values a slider passes through are heard but are not history steps: only where it is let go
    slider.addEventListener("pointerdown", () => { app.dragging = true; });
    slider.addEventListener("input", () => {
      app.axes[axis] = rounded([Number(slider.value)])[0];
      text.textContent = format(app.axes[axis]);
      requestSound({ audition: app.audition });
    });
    slider.addEventListener("pointerup", stop);
    slider.addEventListener("change", stop);
    box.append(label);
  }
}

// ----------------------------------------------------------------------------- sounds

// Everything that makes the sound, as the sound URL's query: the point, the take, the family or
// hybrid, the rate and the level. The same query is the page's address, a favourite, a history
// step and a beat lane, so each of them opens exactly these bytes.
function soundQuery() {
  const [x, y] = app.point;
  let query = app.axes ? `z=${latentVector().map((v) => v.toFixed(4)).join(",")}` : `x=${x.toFixed(4)}&y=${y.toFixed(4)}`;
  if (app.variation !== null) query += `&variation=${app.variation}`;
  query += familyQuery();
  query += `&rate=${app.rate}`;
  if (app.bits !== 16) query += `&bits=${app.bits}`;
  if (app.seconds !== null) query += `&seconds=${app.seconds}`;
  return app.level === "as made" ? query : `${query}&level=${encodeURIComponent(app.level)}`;
}

// The Length control, for a model that renders any length (its seconds_range): from its window
// up to the server's most; each sound still ends in the model's fade. Other models hide it.
function fillLength() {
  const range = app.model.seconds_range, control = el("length");
  el("length-control").hidden = !range;
  if (!range) { app.seconds = null; return; }
  [control.min, control.max] = range.map(String);
  control.value = String(app.seconds ?? app.model.seconds);
  showLength();
}

function showLength() {
  const seconds = app.seconds ?? app.model.seconds;
  el("length-text").textContent = `${seconds.toFixed(2)} s${app.seconds === null ? " (its window)" : ""}`;
}

// The model's versioned URL: the same point is the same bytes until the model is retrained,
// so any cache between here and the server may keep it.
const soundUrlOf = (model, query) => `${model.sound_url}?${query}`;
const soundUrl = () => soundUrlOf(app.model, soundQuery());

// What a sound must share with the page to be shown: the same model, take, level, family and
// rate. A sound of another point of the same drag may be shown (it is where the drag was); any
// other is dropped.
const context = () => `${app.model && app.model.name}|${app.variation}|${app.level}|${familyQuery()}|${app.rate}`;
const isReady = () => Boolean(app.shown && app.shown.url === app.wantedUrl);

function requestSound({ audition = false } = {}) {
  app.wantedUrl = soundUrl();
  app.failure = null;
  if (audition) app.auditionPending = true;
  updateControls();
  if (!app.loadingUrl) fetchWanted();
}

async function fetchWanted() {
  while (app.wantedUrl && !isReady() && !app.failure) {
    const url = app.loadingUrl = app.wantedUrl, point = app.point.slice(), vector = app.axes && latentVector();
    const model = app.model.name, variation = app.variation, level = app.level, wanted = context();
    const query = soundQuery(), family = familyQuery(), native = app.model.sample_rate, rate = app.rate;
    try {
      const response = await request(url);
      const disposition = response.headers.get("Content-Disposition") || "";
      const match = /filename="([^"]+)"/.exec(disposition);
      const bytes = await response.arrayBuffer();
      const buffer = await audioContext().decodeAudioData(bytes.slice(0));
      if (context() !== wanted) continue;  // another model, take or level was chosen meanwhile
      fadeEdges(buffer);
      const fileName = honestName(match ? match[1] : `${model}.wav`, rate, native);
      show({ url, query, point, vector, model, variation, level, family, buffer, bytes, fileName });
    } catch (error) {
      if (url !== app.wantedUrl) continue;  // a newer point is wanted: its fetch decides
      forget();
      app.failure = { url, message: friendly(error) };
      app.auditionPending = app.playWhenReady = false;
    }
  }
  app.loadingUrl = null;
  updateControls();
}

// A sound arrived: it goes on the page and, when a touch or Play asked for it, is heard.
function show(sound) {
  app.shown = sound;
  const ready = isReady();
  if (app.looping) {
    startLoop(sound.buffer);
  } else if (app.auditionPending || (ready && app.playWhenReady)) {
    playShown();
  }
  if (ready) app.auditionPending = app.playWhenReady = false;
  drawShown();
  if (ready && !app.dragging) settle();
}

// The page no longer has a sound to show (another model, take or level; a failure).
// A loop of the old sound stops too: nothing is heard that is not on the page.
function forget() {
  app.shown = null;
  if (app.voice) {
    fadeOut(app.voice, app.ctx.currentTime);
    app.voice = null;
  }
  drawShown();
}

function fadeEdges(buffer) {
  const n = Math.min(Math.floor(EDGE_FADE_S * buffer.sampleRate), Math.floor(buffer.length / 2));
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = buffer.getChannelData(c);
    for (let i = 0; i < n; i++) {
      const gain = i / n;
      data[i] *= gain;
      data[data.length - 1 - i] *= gain;
    }
  }
}

const format = (v) => (v < 0 && v.toFixed(2) !== "-0.00" ? "\u2212" : "+") + Math.abs(v).toFixed(2);

// "vae_c at x +0.20, y -1.10" (a wide latent's: "drums8 at axis 0 +0.20, axis 1 -1.10, ..."), with ", snare" (or ", kick:0.50,tom:0.50"), ", take 17" and
// ", normalised" where they apply.
function describeSound(sound) {
  const family = new URLSearchParams(sound.family.slice(1));
  // a wide latent's sound is its whole vector, every axis by its number, whichever two the pad shows
  const where = sound.vector ? sound.vector.map((v, axis) => `axis ${axis} ${format(v)}`).join(", ")
    : `x ${format(sound.point[0])}, y ${format(sound.point[1])}`;
  return `${sound.model} at ${where}` +
    (family.get("family") || family.get("mix") ? `, ${family.get("family") || family.get("mix")}` : "") +
    (sound.variation !== null ? `, take ${sound.variation}` : "") +
    (sound.level !== "as made" ? `, ${sound.level}` : "");
}

function drawShown() {
  const sound = app.shown;
  el("point").textContent = sound ? describeSound(sound) : "";
  wave.dataset.soundUrl = sound ? sound.url : "";
  app.peak = drawWave();
  updateControls();
  drawKept();
}

// Play and Download work on the sound shown, and only when it is the one asked for: while the
// next one loads they wait, and after a failure Play asks again.
function updateControls() {
  const ready = isReady(), failed = Boolean(app.failure);
  el("play").disabled = !(ready || failed);
  wave.classList.toggle("stale", !ready);
  const link = el("download"), offered = ready ? app.shown.url : "";
  if (link.dataset.soundUrl !== offered) {
    if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
    link.dataset.soundUrl = offered;
    if (ready) {
      link.href = URL.createObjectURL(new Blob([app.shown.bytes], { type: "audio/wav" }));
      link.download = app.shown.fileName;
      link.removeAttribute("aria-disabled");
    } else {
      link.removeAttribute("href");  // a link without href cannot be followed, by Enter or otherwise
      link.setAttribute("aria-disabled", "true");
    }
  }
  if (ready) el("share").removeAttribute("aria-disabled");
  else el("share").setAttribute("aria-disabled", "true");
  if (failed) status(app.failure.message, true);
  else if (!ready) status(app.model ? `Loading ${app.model.name}\u2026` : "Loading\u2026");
  else if (app.peak < SILENT_PEAK) status("This point is almost silent: move towards the dots.");
  else status(app.looping ? "Looping: move the point to change the sound." : "Ready: tap or drag on the map, or press Play.");
}

function drawWave() {
  resizeCanvas(wave);
  const g = wave.getContext("2d");
  g.clearRect(0, 0, wave.width, wave.height);
  if (!app.shown) return 0;
  const data = app.shown.buffer.getChannelData(0), columns = wave.width, middle = wave.height / 2;
  const step = Math.max(1, Math.floor(data.length / columns));
  let peak = 1e-6;  // drawn to its own peak, so a quiet sound is still seen
  for (let i = 0; i < data.length; i++) peak = Math.max(peak, Math.abs(data[i]));
  const scale = middle * 0.95 / peak;
  g.fillStyle = "#ffb000";
  for (let x = 0; x < columns; x++) {
    let low = 0, high = 0;
    for (let i = x * step; i < Math.min(data.length, (x + 1) * step); i++) {
      if (data[i] < low) low = data[i];
      if (data[i] > high) high = data[i];
    }
    g.fillRect(x, middle - high * scale, 1, Math.max(1, (high - low) * scale));
  }
  return peak;
}

// ----------------------------------------------------------------------------- keeping and sharing

// A line for what the listener did not ask for (a link that could not be opened as it was, a
// lane that lost its sound): it stays until the next one, unlike the status line.
function notice(text, isError = false) {
  el("notice").textContent = text;
  el("notice").hidden = !text;
  el("notice").classList.toggle("error", isError);
}

const specOf = (sound) => ({ model: sound.model, query: sound.query, label: describeSound(sound) });
const sameSpec = (a, b) => Boolean(a && b && a.model === b.model && a.query === b.query);
const address = (spec) => `#model=${encodeURIComponent(spec.model)}&${spec.query}`;

// The sound on the page is settled (a click, the end of a drag, a key, a family, a take): it
// becomes a history step (unless it is the step the page is at), and the page's address.
function settle() {
  const spec = specOf(app.shown), history = app.history;
  if (!sameSpec(spec, history.steps[history.at])) {
    history.steps = history.steps.slice(0, history.at + 1);
    history.steps.push(spec);
    history.steps.splice(0, Math.max(0, history.steps.length - MAX_HISTORY));
    history.at = history.steps.length - 1;
    remember("history", JSON.stringify(history));
  }
  try { window.history.replaceState(null, "", address(spec)); } catch { /* a sandboxed frame: no address */ }
  el("share").href = location.href;
  drawKept();
}

// The sound a link (or a reload) asks for: the address's model and query; with no address, the
// history's step (a new visit opens where the last one was); else null. A model this server
// does not serve is said in words, and the page opens as usual.
function linkedSpec() {
  const params = new URLSearchParams(location.hash.slice(1)), name = params.get("model");
  if (!name) {
    const step = app.history.steps[app.history.at];
    return step && app.models.some((m) => m.name === step.model) ? step : null;
  }
  if (!app.models.some((m) => m.name === name)) {
    notice(`This link's model, ${name}, is not served here, so the page opens on another.`, true);
    return null;
  }
  params.delete("model");
  return { model: name, query: params.toString(), label: "" };
}

// Sets the page's point, take, family, level and rate from a query (a link's, a favourite's, a
// history step's); what does not fit this model is left as it is and named in the answer.
function applyQuery(query) {
  const params = new URLSearchParams(query), problems = [], model = app.model;
  const number = (text) => (text !== null && text.trim() !== "" ? Number(text) : NaN);
  if (app.axes) {
    const vector = (params.get("z") ?? "").split(",").map(number), dim = model.latent.dim;
    const x = number(params.get("x")), y = number(params.get("y"));
    if (vector.length === dim && vector.every(Number.isFinite)) {
      app.axes = rounded(vector);
      app.point = app.padAxes.map((axis) => app.axes[axis]);
    } else if (model.latent.family_frame && !params.has("z") && Number.isFinite(x) && Number.isFinite(y)) {
      // a family frame's pad point (a link from before the page had its sliders): the other axes at 0
      app.axes = model.latent.center.slice();
      [app.axes[model.latent.pad_axes[0]], app.axes[model.latent.pad_axes[1]]] = rounded([x, y]);
      app.point = app.padAxes.map((axis) => app.axes[axis]);
    } else problems.push(`its point is not the ${dim} numbers of ${model.name}'s latent, so its centre is shown`);
  } else {
    const x = number(params.get("x")), y = number(params.get("y"));
    if (Number.isFinite(x) && Number.isFinite(y)) app.point = rounded([x, y]);
    else problems.push("its point is not two numbers, so the map's centre is shown");
  }
  const take = params.get("variation");
  if (take !== null) {
    const seed = number(take);
    if (model.has_variation && Number.isInteger(seed) && seed >= 0 && seed <= 9999) app.variation = seed;
    else problems.push(model.has_variation ? `take ${take} is not a take (0 to 9999)` : `${model.name} has no takes`);
  }
  const list = families(), mix = params.get("mix"), family = params.get("family");
  if (mix !== null) {
    const parts = mix.split(",").map((p) => p.split(":"));
    const weight = parts.length === 2 ? Number(parts[1][1]) : NaN;
    if (parts.length === 2 && parts.every(([f]) => list.includes(f)) && weight > 0 && weight < 1) {
      [app.family, app.family2, app.mixWeight] = [parts[0][0], parts[1][0], weight];
      el("mix").value = String(weight);
    } else problems.push(`${model.name} cannot mix ${mix}`);
  } else if (family !== null) {
    if (list.includes(family)) [app.family, app.family2] = [family, ""];
    else problems.push(`${model.name} has no family ${family}`);
  } else if (optional()) {
    [app.family, app.family2] = ["", ""];
  }
  const level = params.get("level") ?? "as made";
  if (app.levels.includes(level)) app.level = level;
  else problems.push(`there is no level ${level}`);
  const rate = number(params.get("rate"));
  if (app.rates.includes(rate)) app.rate = rate;
  else if (params.has("rate")) problems.push(`${params.get("rate")} Hz is not offered`);
  const bits = number(params.get("bits") ?? "16");
  if (app.bitsOffered.includes(bits)) app.bits = bits;
  else problems.push(`${params.get("bits")}-bit is not offered`);
  el("bits").value = String(app.bits);
  const seconds = number(params.get("seconds")), range = model.seconds_range;
  if (!params.has("seconds")) app.seconds = null;
  else if (range && seconds >= range[0] && seconds <= range[1]) app.seconds = seconds;
  else problems.push(range ? `${params.get("seconds")} s is not a length from ${range[0]} to ${range[1]} s`
    : `${model.name} renders only its ${model.seconds} s window`);
  return problems;
}

// A favourite or history step opened: its model, then its sound (heard when auditioning is on).
async function openSpec(spec) {
  notice("");
  if (!app.models.some((m) => m.name === spec.model)) {
    notice(`${spec.model} is not served here any more, so ${spec.label} cannot be opened.`, true);
    return;
  }
  if (spec.model !== app.model.name) {
    await chooseModel(spec.model, spec, { audition: app.audition });
    return;
  }
  const families = familyQuery(), problems = applyQuery(spec.query);
  fillAxes();
  fillFamilies();
  fillRates();
  fillLength();
  el("level").value = app.level;
  if (problems.length) notice(`Opened as near as it can be: ${problems.join("; ")}.`, true);
  app.placed = null;
  showPlaced();
  forget();
  drawPad();
  requestSound({ audition: app.audition });
  if (familyQuery() !== families) loadCodes();
}

function goHistory(by) {
  const history = app.history, at = history.at + by;
  if (at < 0 || at >= history.steps.length) return;
  history.at = at;
  remember("history", JSON.stringify(history));
  drawKept();
  openSpec(history.steps[at]);
}

// Keep: the sound shown becomes a favourite (pressed again, it is no longer one).
function toggleFavourite() {
  if (!isReady()) return;
  const spec = specOf(app.shown), at = app.favourites.findIndex((f) => sameSpec(f, spec));
  if (at >= 0) app.favourites.splice(at, 1);
  else app.favourites.unshift(spec);
  app.favourites.splice(MAX_FAVOURITES);
  remember("favourites", JSON.stringify(app.favourites));
  drawKept();
}

function drawKept() {
  const history = app.history, spec = isReady() ? specOf(app.shown) : null;
  el("back").disabled = history.at <= 0;
  el("forward").disabled = history.at >= history.steps.length - 1;
  const kept = app.favourites.some((f) => sameSpec(f, spec));
  el("keep").disabled = !spec;
  el("keep").setAttribute("aria-pressed", String(kept));
  el("keep").textContent = kept ? "\u2605 Kept" : "\u2606 Keep";
  const list = el("favourites");
  list.replaceChildren(...app.favourites.map((favourite, index) => {
    const item = document.createElement("li"), open = document.createElement("button");
    const remove = document.createElement("button");
    open.type = remove.type = "button";
    open.className = "favourite";
    open.textContent = favourite.label;
    open.title = "Open this sound";
    open.setAttribute("aria-current", String(sameSpec(favourite, spec)));
    open.addEventListener("click", () => openSpec(favourite));
    remove.className = "forget";
    remove.textContent = "\u00d7";
    remove.setAttribute("aria-label", `Forget ${favourite.label}`);
    remove.addEventListener("click", () => {
      app.favourites.splice(index, 1);
      remember("favourites", JSON.stringify(app.favourites));
      drawKept();
    });
    item.append(open, remove);
    return item;
  }));
  el("favourites-empty").hidden = app.favourites.length > 0;
}

// The link is the page's address; a click copies it where the browser lets the page write to
// the clipboard, and otherwise says where to copy it from.
async function copyLink(event) {
  event.preventDefault();
  if (!isReady()) return;
  try {
    await navigator.clipboard.writeText(el("share").href);
    notice("Link copied: it opens this exact sound.");
  } catch {
    notice(`The browser did not let the page copy: copy the address bar (${el("share").href}).`);
  }
}

app.history = rememberedJson("history", { steps: [], at: -1 },
  (h) => Array.isArray(h.steps) && h.steps.every(isSpec) && Number.isInteger(h.at) && h.at < h.steps.length);
app.favourites = rememberedJson("favourites", [], (f) => Array.isArray(f) && f.every(isSpec));
// ----------------------------------------------------------------------------- a kit to take home

// Download kit: the favourites (the newest MAX_KIT_SOUNDS) or the beat's set lanes, posted to
// /api/kit as each sound's model, version and query; the server answers a zip of WAVs with
// kit.json, or a Hydrogen kit, whose samples are the very WAVs these sounds' URLs give.
const MAX_KIT_SOUNDS = 16;

function kitNote(text, isError = false) {
  el("kit-note").textContent = text;
  el("kit-note").classList.toggle("error", isError);
}

// The file name an answer's Content-Disposition gives (its UTF-8 name where there is one).
function attachmentName(response, fallback) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const utf8 = /filename\*=UTF-8''([^;]+)/.exec(disposition), plain = /filename="([^"]+)"/.exec(disposition);
  if (utf8) return decodeURIComponent(utf8[1]);
  return plain ? plain[1] : fallback;
}

// A kit that could not be made, in words a listener can act on (as friendly() is for a sound).
function kitTrouble(error) {
  const again = "press Download kit again";
  if (error instanceof Unreachable) return `The server cannot be reached: check the connection, then ${again}.`;
  if (error.status === 429) return `Too many sounds are being made for this browser at once: wait a moment, then ${again}.`;
  if (error.status === 503) {
    const reason = error.message.replace(/[.;]? *try again.*$/, "") || "the server cannot make sounds right now";
    return `${reason[0].toUpperCase()}${reason.slice(1)}: ${again} in a moment.`;
  }
  if (error.status >= 400 && error.status < 500 && error.message) return `The kit cannot be made: ${error.message}.`;
  return `The server failed to make the kit: ${again}.`;
}

async function downloadKit() {
  const source = el("kit-source").value, format = el("kit-format").value;
  const specs = source === "beat" ? app.beat.lanes.filter((lane) => lane.spec).map((lane) => lane.spec) : app.favourites;
  if (!specs.length) {
    kitNote(source === "beat" ? "No lane is set: press Set on a lane to put its sound in the kit."
      : "No favourites yet: Keep a sound to put it in the kit.", true);
    return;
  }
  const served = specs.filter((spec) => app.models.some((m) => m.name === spec.model));
  const chosen = served.slice(0, MAX_KIT_SOUNDS), left = [];
  if (served.length < specs.length) left.push(`${specs.length - served.length} of a model not served here`);
  if (served.length > chosen.length) left.push(`${served.length - chosen.length} past the first ${MAX_KIT_SOUNDS}`);
  if (!chosen.length) {
    kitNote("None of these sounds' models is served here any more, so there is no kit to make.", true);
    return;
  }
  const sounds = chosen.map((spec) => {
    const model = app.models.find((m) => m.name === spec.model);
    return { model: model.name, version: model.version, ...Object.fromEntries(new URLSearchParams(spec.query)) };
  });
  const name = source === "beat" ? "Beat" : "Favourites";
  el("kit-download").disabled = true;
  kitNote("Making the kit\u2026");
  try {
    let response;
    try {
      response = await fetch("/api/kit", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name, format, sounds }) });
    } catch {
      throw new Unreachable();
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const error = new Error(body.error || "");
      error.status = response.status;
      throw error;
    }
    const bytes = await response.arrayBuffer();
    const file = attachmentName(response, `${name}.${format}`);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([bytes], { type: response.headers.get("Content-Type") }));
    link.download = file;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);  // the download has its bytes by then
    app.kit = { file, sounds, size: bytes.byteLength };
    const words = `${file}: ${chosen.length} sound${chosen.length === 1 ? "" : "s"}, each the WAV heard here`;
    kitNote(left.length ? `${words} (left out: ${left.join("; ")}).` : `${words}.`);
  } catch (error) {
    kitNote(kitTrouble(error), true);
  } finally {
    el("kit-download").disabled = false;
  }
}

el("kit-download").addEventListener("click", downloadKit);
el("beat-download").addEventListener("click", downloadLoop);
el("beat-midi").addEventListener("click", downloadMidi);
el("back").addEventListener("click", () => goHistory(-1));
el("forward").addEventListener("click", () => goHistory(1));
el("keep").addEventListener("click", toggleFavourite);
el("share").addEventListener("click", copyLink);

// ----------------------------------------------------------------------------- playing

// Everything heard goes through one gain, the volume control (listening only; a download is
// the sound at its level, whatever the volume), and then the master bus's limiter: the beat's
// hits that land together add up, and the speakers must never get more than full scale.
function audioContext() {
  if (!app.ctx) {
    const ctx = app.ctx = new (window.AudioContext || window.webkitAudioContext)();
    app.master = ctx.createGain();
    app.master.gain.value = app.volume;
    const range = ctx.createGain(), limiter = ctx.createWaveShaper();
    range.gain.value = 1 / LIMIT_RANGE;  // the curve spans -LIMIT_RANGE..LIMIT_RANGE
    limiter.curve = limitCurve();
    limiter.oversample = "none";  // an oversampling filter could ring past full scale
    app.output = ctx.createGain();  // what the speakers get
    app.master.connect(range).connect(limiter).connect(app.output).connect(ctx.destination);
  }
  return app.ctx;
}

// The limiter's transfer curve: untouched up to LIMIT_KNEE, then bent smoothly (its slope
// continuous) towards full scale, which it never reaches. The knee falls on a point of the
// curve, so below it the curve's interpolation is the identity.
function limitCurve() {
  const half = 2560, curve = new Float32Array(2 * half + 1);
  for (let i = 0; i < curve.length; i++) {
    const x = LIMIT_RANGE * (i - half) / half, a = Math.abs(x);
    const bent = a <= LIMIT_KNEE ? a : LIMIT_KNEE + (1 - LIMIT_KNEE) * Math.tanh((a - LIMIT_KNEE) / (1 - LIMIT_KNEE));
    curve[i] = Math.sign(x) * Math.min(1, bent);
  }
  return curve;
}

// A phone's browser lets a page start sound only inside a user activation, and a touch's
// pointerdown is not one (its pointerup and click are). Every such event resumes the context,
// so the sound of the first tap, started while the context waited, is heard.
function unlockAudio() {
  const ctx = audioContext();
  if (ctx.state !== "running") ctx.resume().catch(() => {});
}
for (const type of ["pointerup", "click", "touchend", "keydown"]) {
  document.addEventListener(type, unlockAudio, { capture: true, passive: true });
}

function startBuffer(buffer, when = 0, destination = app.master) {
  const source = audioContext().createBufferSource();
  source.buffer = buffer;
  source.connect(destination);
  source.start(when);
  return source;
}

// One audition voice, as in a sample browser: a new sound cuts the one before it (with a short
// fade, so no click), so a fast drag is a run of sounds, not a pile of them. The beat's hits are
// voices of their own.
const CHOKE_S = 0.008;

function playShown() {
  if (!app.shown) return;
  const ctx = audioContext(), now = ctx.currentTime, old = app.oneShot;
  if (old) {
    old.gain.gain.setValueAtTime(1, now);
    old.gain.gain.linearRampToValueAtTime(0, now + CHOKE_S);
    old.source.stop(now + CHOKE_S);
  }
  const gain = ctx.createGain();
  gain.connect(app.master);
  app.oneShot = { source: startBuffer(app.shown.buffer, 0, gain), gain };
}

// Play: the sound shown; while it loads, as soon as it arrives; after a failure (or a server
// that could not be reached at all), ask again.
function play() {
  unlockAudio();
  if (isReady()) { playShown(); return; }
  app.playWhenReady = true;
  if (!app.model) start();
  else if (app.failure) requestSound();
}

// A looping voice: source -> gain. A new sound starts where the old one's playhead is and
// the two crossfade, so the rhythm carries on and nothing clicks.
function startLoop(buffer) {
  const ctx = audioContext(), now = ctx.currentTime;
  const gain = ctx.createGain(), source = ctx.createBufferSource();
  source.buffer = buffer;
  source.loop = true;
  source.connect(gain).connect(app.master);
  let offset = 0;
  const old = app.voice;
  if (old) {
    offset = (now - old.started + old.offset) % old.source.buffer.duration;
    fadeOut(old, now);
    gain.gain.setValueAtTime(0, now);
    gain.gain.linearRampToValueAtTime(1, now + CROSSFADE_S);
  }
  source.start(now, offset % buffer.duration);
  app.voice = { source, gain, started: now, offset: offset % buffer.duration };
}

function fadeOut(voice, now) {
  voice.gain.gain.cancelScheduledValues(now);
  voice.gain.gain.setValueAtTime(voice.gain.gain.value, now);
  voice.gain.gain.linearRampToValueAtTime(0, now + CROSSFADE_S);
  voice.source.stop(now + CROSSFADE_S + 0.01);
}

function setLooping(on) {
  app.looping = on;
  el("loop").setAttribute("aria-pressed", String(on));
  const ctx = audioContext();
  ctx.resume();
  if (on && app.shown) {
    startLoop(app.shown.buffer);
  } else if (!on && app.voice) {
    fadeOut(app.voice, ctx.currentTime);
    app.voice = null;
  }
  updateControls();
}

el("play").addEventListener("click", play);
el("loop").addEventListener("click", () => setLooping(!app.looping));
el("vary").addEventListener("click", () => {
  app.variation = Math.floor(Math.random() * 10000);
  forget();
  requestSound({ audition: app.audition });
});
el("model").addEventListener("change", () => { notice(""); chooseModel(el("model").value); });
el("rate").addEventListener("change", () => {
  app.rate = Number(el("rate").value);
  remember("rate", app.rate);
  showRate();
  forget();
  requestSound();
});
el("bits").addEventListener("change", () => {
  app.bits = Number(el("bits").value);
  remember("bits", app.bits);
  if (!app.model) return;
  forget();
  requestSound({ audition: app.audition });
});
el("length").addEventListener("change", () => {
  const seconds = Number(el("length").value);
  app.seconds = Math.abs(seconds - app.model.seconds) < 0.005 ? null : seconds;
  showLength();
  forget();
  requestSound({ audition: app.audition });
});
el("level").addEventListener("change", () => {
  app.level = el("level").value;
  remember("level", app.level);
  if (!app.model) return;
  forget();
  requestSound({ audition: app.audition });
});
el("volume").value = String(app.volume);
el("volume").addEventListener("input", () => {
  app.volume = Number(el("volume").value);
  remember("volume", app.volume);
  if (app.master) app.master.gain.setTargetAtTime(app.volume, app.ctx.currentTime, 0.01);
});
el("audition").checked = app.audition;
el("audition").addEventListener("change", () => {
  app.audition = el("audition").checked;
  remember("audition", app.audition ? "on" : "off");
});
// Belt and braces: a disabled link never navigates (an old browser may still follow it).
el("download").addEventListener("click", (event) => { if (!isReady()) event.preventDefault(); });
// Drag out: Chromium saves a link dragged from a page to the desktop or a DAW as a file when the
// drag carries "DownloadURL" (type:name:address). The address is the sound's own, whose bytes
// are the ones playing (the server gives the same bytes for it), and the name the Download's.
el("download").addEventListener("dragstart", (event) => {
  if (!isReady()) { event.preventDefault(); return; }
  const address = new URL(app.shown.url, location.href).href;
  event.dataTransfer.setData("DownloadURL", `audio/wav:${app.shown.fileName}:${address}`);
  event.dataTransfer.setData("text/uri-list", address);
});

// ----------------------------------------------------------------------------- the beat

// Four lanes of 16 steps. A lane that is set owns the sound (point, family, take, level, rate)
// that was on the page when Set was pressed, so moving the point afterwards leaves it alone; a
// lane not set plays the sound on the page. Each lane has its volume and mute; swing delays the
// off-beat sixteenths. Hits are scheduled on the audio clock a little ahead of time by a timer
// that only looks ahead ("A tale of two clocks"): each step's time is computed from the step's
// number, never by adding up intervals, so the beat cannot drift however long it runs. The
// beat (steps, lanes' sounds, volumes, mutes, tempo, swing) is kept in the browser.
const LANES = ["kick", "snare", "hat", "free"];
const STEPS = 16;
const LOOKAHEAD_MS = 25;
// Hits are handed to the audio clock at least this far ahead, and up to twice the longest
// recent wait between the timer's calls (at most MAX_AHEAD_S): a timer held up by less than
// that (a busy machine: 0.12 s fixed skipped one sixteenth a minute at load 6 on 2 cores) still
// places every hit on time; a change of step is heard at most that late. A step whose time has
// passed when the timer comes (a hidden tab's timer runs once a second) is skipped, never
// rushed, and counted in beat.skipped.
const SCHEDULE_AHEAD_S = 0.2;
const MAX_AHEAD_S = 1.0;
const AHEAD_EASING = 0.999;  // per call: a wait's effect halves in about 17 s
const BEAT_LOG = 8192;   // the scheduled hits kept for the curious (and the test)
const LANE_VOLUME = 0.8;
const MAX_SWING = 0.5;   // the off-beat moved by at most half a step
const DEFAULT_STEPS = { kick: [0, 8, 10], snare: [4, 12], hat: [0, 2, 4, 6, 8, 10, 12, 14], free: [] };

function newBeat(kept) {
  const keptLane = (name) => (kept.lanes || []).find((l) => l && l.name === name) || {};
  const unit = (v, fallback) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : fallback);
  return {
    bpm: Number.isFinite(kept.bpm) ? Math.min(300, Math.max(40, Math.round(kept.bpm))) : 120,
    swing: Number.isFinite(kept.swing) ? Math.min(MAX_SWING, Math.max(0, kept.swing)) : 0,
    playing: false, timer: null, origin: 0, originStep: 0, next: 0, log: [],
    ahead: SCHEDULE_AHEAD_S, lastCall: null, skipped: [],
    lanes: LANES.map((name) => {
      const k = keptLane(name);
      const steps = Array.isArray(k.steps) && k.steps.length === STEPS ? k.steps.map(Boolean)
        : Array.from({ length: STEPS }, (_, i) => DEFAULT_STEPS[name].includes(i));
      // spec: what the lane was set to ({model, query, label}); sound: its decoded buffer once here
      return { name, steps, spec: isSpec(k.spec) ? k.spec : null, sound: null, problem: "",
               volume: unit(k.volume, LANE_VOLUME), muted: Boolean(k.muted), gain: null };
    }),
  };
}

function saveBeat() {
  const beat = app.beat;
  remember("beat", JSON.stringify({
    bpm: beat.bpm, swing: beat.swing,
    lanes: beat.lanes.map(({ name, steps, spec, volume, muted }) => ({ name, steps, spec, volume, muted })),
  }));
}

const stepSeconds = (beat) => 60 / beat.bpm / 4;  // sixteenth notes
const straightTime = (beat, n) => beat.origin + (n - beat.originStep) * stepSeconds(beat);
const stepTime = (beat, n) => straightTime(beat, n) + (n % 2 ? beat.swing * stepSeconds(beat) : 0);

// A set lane plays its own sound (none while it loads, or when it could not be loaded); a lane
// not set plays the sound on the page.
const laneSound = (lane) => (lane.spec ? lane.sound : app.shown);

function laneGain(lane) {
  if (!lane.gain) {
    lane.gain = audioContext().createGain();
    lane.gain.gain.value = lane.muted ? 0 : lane.volume;
    lane.gain.connect(app.master);
  }
  return lane.gain;
}

function scheduleBeat() {
  const beat = app.beat, ctx = app.ctx, now = ctx.currentTime;
  if (beat.lastCall !== null) {
    beat.ahead = Math.min(MAX_AHEAD_S, Math.max(SCHEDULE_AHEAD_S, AHEAD_EASING * beat.ahead, 2 * (now - beat.lastCall)));
  }
  beat.lastCall = now;
  const horizon = now + beat.ahead;
  for (let when = stepTime(beat, beat.next); when < horizon; when = stepTime(beat, ++beat.next)) {
    const clock = ctx.currentTime;  // read again for each step: a busy machine may stall this loop too
    if (when <= clock) {  // the timer was held up longer than the lead: skip, never rush
      beat.skipped.push(beat.next);
      if (beat.skipped.length > 2 * BEAT_LOG) beat.skipped.splice(0, beat.skipped.length - BEAT_LOG);
      continue;
    }
    const step = beat.next % STEPS;
    beat.lanes.forEach((lane, index) => {
      const sound = lane.steps[step] && !lane.muted && laneSound(lane);
      if (!sound) return;
      startBuffer(sound.buffer, when, laneGain(lane));
      beat.log.push({ n: beat.next, step, lane: index, when, at: clock, url: sound.url });
    });
    if (beat.log.length > 2 * BEAT_LOG) beat.log.splice(0, beat.log.length - BEAT_LOG);
    setTimeout(() => { if (beat.playing) drawPlayhead(step); }, (when - ctx.currentTime) * 1000);
  }
}

// The beat as a WAV loop: one bar (16 steps at its tempo and swing), each lane at its volume
// (mutes kept; the listening volume left out, as for every download) through the master bus's
// limiter, rendered offline. A hit that rings past the bar's end is heard again from its start,
// so the file loops without a gap or a cut.
async function downloadLoop() {
  const beat = app.beat, hits = [];
  beat.lanes.forEach((lane) => {
    const sound = !lane.muted && laneSound(lane);
    if (sound) lane.steps.forEach((on, step) => { if (on) hits.push({ buffer: sound.buffer, step, volume: lane.volume }); });
  });
  if (!hits.length) {
    notice("The beat has nothing to play: switch steps on in a lane that is not muted and has a sound.", true);
    return;
  }
  const rate = hits[0].buffer.sampleRate, step = stepSeconds(beat), frames = Math.round(STEPS * step * rate);
  const offline = new OfflineAudioContext(1, frames, rate);
  const range = offline.createGain(), limiter = offline.createWaveShaper();
  range.gain.value = 1 / LIMIT_RANGE;
  limiter.curve = limitCurve();
  limiter.oversample = "none";
  range.connect(limiter).connect(offline.destination);
  for (const hit of hits) {
    const when = (hit.step + (hit.step % 2 ? beat.swing : 0)) * step, gain = offline.createGain();
    gain.gain.value = hit.volume;
    gain.connect(range);
    for (const [start, offset] of [[when, 0], [0, frames / rate - when]]) {  // this bar, the bar before's tail
      if (offset >= hit.buffer.duration) continue;
      const source = offline.createBufferSource();
      source.buffer = hit.buffer;
      source.connect(gain);
      source.start(start, offset);
    }
  }
  const rendered = await offline.startRendering();
  const file = `beat_${beat.bpm}bpm${beat.swing ? `_swing${Math.round(beat.swing * 100)}` : ""}_${rate / 1000}kHz.wav`;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([wavFile(rendered.getChannelData(0), rate)], { type: "audio/wav" }));
  link.download = file;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  beat.loopFile = file;
  notice(`${file}: one bar, ${hits.length} hits, ready to loop.`);
}

// The beat as a MIDI file: one bar of a format 0 Standard MIDI File at the beat's tempo, each
// lane's steps as General MIDI drum notes on channel 10 (kick 36, snare 38, closed hat 42, the
// free lane a hand clap, 39), swung as it plays, each lane's volume as its velocity; muted
// lanes left out. It plays the beat on any drum kit: a DAW's, or Hydrogen's.
const MIDI_NOTES = { kick: 36, snare: 38, hat: 42, free: 39 };
const MIDI_TICKS_PER_QUARTER = 96;  // a sixteenth is 24 ticks: swing to the tick
const MIDI_NOTE_TICKS = 12;         // each hit held a 32nd

function midiFile(beat) {
  const step = MIDI_TICKS_PER_QUARTER / 4, events = [];
  beat.lanes.forEach((lane) => {
    if (lane.muted) return;
    const velocity = Math.max(1, Math.round(127 * lane.volume));
    lane.steps.forEach((on, index) => {
      if (!on) return;
      const at = Math.round((index + (index % 2 ? beat.swing : 0)) * step);
      events.push([at, 0x99, MIDI_NOTES[lane.name], velocity], [at + MIDI_NOTE_TICKS, 0x89, MIDI_NOTES[lane.name], 0]);
    });
  });
  events.sort((a, b) => a[0] - b[0] || (a[1] === 0x89 ? -1 : 1));  // at one tick, note-offs first
  const track = [];
  const variable = (n) => {  // a delta time: 7 bits a byte, high bit set on all but the last
    const bytes = [n & 0x7f];
    for (n >>= 7; n > 0; n >>= 7) bytes.unshift((n & 0x7f) | 0x80);
    return bytes;
  };
  const tempo = Math.round(60e6 / beat.bpm);  // microseconds per quarter note
  track.push(0, 0xff, 0x51, 3, (tempo >> 16) & 0xff, (tempo >> 8) & 0xff, tempo & 0xff);
  track.push(0, 0xff, 0x58, 4, 4, 2, 24, 8);  // 4/4
  let now = 0;
  for (const [at, status, note, velocity] of events) {
    track.push(...variable(at - now), status, note, velocity);
    now = at;
  }
  track.push(...variable(STEPS * step - now), 0xff, 0x2f, 0);  // the bar's end: it loops whole
  const header = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0, MIDI_TICKS_PER_QUARTER];
  const length = [(track.length >>> 24) & 0xff, (track.length >> 16) & 0xff, (track.length >> 8) & 0xff, track.length & 0xff];
  return new Uint8Array([...header, 0x4d, 0x54, 0x72, 0x6b, ...length, ...track]);
}

function downloadMidi() {
  const beat = app.beat;
  if (!beat.lanes.some((lane) => !lane.muted && lane.steps.some(Boolean))) {
    notice("The beat has no step to write: switch steps on in a lane that is not muted.", true);
    return;
  }
  const file = `beat_${beat.bpm}bpm${beat.swing ? `_swing${Math.round(beat.swing * 100)}` : ""}.mid`;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([midiFile(beat)], { type: "audio/midi" }));
  link.download = file;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  notice(`${file}: one bar on General MIDI drums (channel 10).`);
}

// A mono 16-bit PCM WAV file of samples in -1..1.
function wavFile(samples, rate) {
  const view = new DataView(new ArrayBuffer(44 + 2 * samples.length));
  const text = (at, words) => [...words].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + 2 * samples.length, true); text(8, "WAVE");
  text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, 2 * rate, true); view.setUint16(32, 2, true);
  view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, 2 * samples.length, true);
  samples.forEach((v, i) => view.setInt16(44 + 2 * i, Math.round(32767 * Math.max(-1, Math.min(1, v))), true));
  return view.buffer;
}

function setBeatPlaying(on) {
  const beat = app.beat, ctx = audioContext();
  unlockAudio();
  clearInterval(beat.timer);
  beat.playing = on;
  el("beat-play").setAttribute("aria-pressed", String(on));
  el("beat-play").textContent = on ? "\u25A0 Stop beat" : "\u25B6 Play beat";
  if (!on) { drawPlayhead(-1); return; }
  beat.origin = ctx.currentTime + 0.05;
  beat.originStep = beat.next = 0;
  beat.ahead = SCHEDULE_AHEAD_S;
  beat.lastCall = null;
  beat.skipped = [];
  scheduleBeat();
  beat.timer = setInterval(scheduleBeat, LOOKAHEAD_MS);
}

function setTempo(bpm) {
  const beat = app.beat;
  bpm = Number.isFinite(bpm) && bpm > 0 ? Math.min(300, Math.max(40, Math.round(bpm))) : beat.bpm;
  if (beat.playing) {  // the next step keeps its time; the ones after it follow the new tempo
    beat.origin = straightTime(beat, beat.next);
    beat.originStep = beat.next;
  }
  beat.bpm = bpm;
  el("tempo").value = String(bpm);
  saveBeat();
}

function setSwing(swing) {
  app.beat.swing = Math.min(MAX_SWING, Math.max(0, Number.isFinite(swing) ? swing : 0));
  el("swing").value = String(app.beat.swing);
  el("swing-text").textContent = `${Math.round(app.beat.swing * 100)}%`;
  saveBeat();
}

// Set: the lane takes the sound on the page now, with its point, family, take, level and rate.
function setLane(index) {
  const lane = app.beat.lanes[index];
  if (!isReady()) {
    notice(`The ${lane.name} lane takes the sound on the page: wait until it is here, then press Set.`, true);
    return;
  }
  lane.spec = specOf(app.shown);
  lane.sound = app.shown;
  lane.problem = "";
  drawLane(lane);
  saveBeat();
}

function followPoint(index) {
  const lane = app.beat.lanes[index];
  lane.spec = lane.sound = null;
  lane.problem = "";
  drawLane(lane);
  saveBeat();
}

// After a reload, a set lane's sound is fetched again from its query (at the model's current
// version, so the URL is the one the model serves now).
async function loadLaneSound(lane) {
  const spec = lane.spec, model = app.models.find((m) => m.name === spec.model);
  if (!model) {
    lane.problem = `${spec.model} is not served here any more`;
    drawLane(lane);
    return;
  }
  const url = soundUrlOf(model, spec.query);
  try {
    const bytes = await (await request(url)).arrayBuffer();
    const buffer = await audioContext().decodeAudioData(bytes);
    fadeEdges(buffer);
    if (lane.spec !== spec) return;  // set again meanwhile
    lane.sound = { url, buffer, model: spec.model };
    lane.problem = "";
  } catch (error) {
    if (lane.spec !== spec) return;
    lane.problem = friendly(error).replace(/ Press Play.*$/, "");
  }
  drawLane(lane);
}

function loadLaneSounds() {
  for (const lane of app.beat.lanes) if (lane.spec && !lane.sound) loadLaneSound(lane);
}

function drawLane(lane) {
  const what = el(`lane-${lane.name}`);
  what.textContent = !lane.spec ? "follows the point"
    : lane.problem ? `${lane.spec.label}: ${lane.problem}` : lane.spec.label;
  what.classList.toggle("error", Boolean(lane.problem));
  what.title = what.textContent;
  el(`follow-${lane.name}`).hidden = !lane.spec;
  el(`mute-${lane.name}`).setAttribute("aria-pressed", String(lane.muted));
  el(`volume-${lane.name}`).value = String(lane.volume);
  if (lane.gain) lane.gain.gain.setTargetAtTime(lane.muted ? 0 : lane.volume, app.ctx.currentTime, 0.005);
}

function button(id, text, title, onClick) {
  const made = document.createElement("button");
  made.type = "button";
  made.id = id;
  made.textContent = text;
  made.title = title;
  made.addEventListener("click", onClick);
  return made;
}

function buildBeat() {
  app.beat = newBeat(rememberedJson("beat", {}, (b) => typeof b === "object" && !Array.isArray(b)));
  const grid = el("steps");
  app.beat.lanes.forEach((lane, index) => {
    const row = document.createElement("div");
    row.className = "lane";
    const head = document.createElement("div");
    head.className = "lane-head";
    const name = document.createElement("span");
    name.className = "lane-name";
    name.textContent = lane.name;
    const what = document.createElement("span");
    what.className = "lane-sound";
    what.id = `lane-${lane.name}`;
    const set = button(`set-${lane.name}`, "Set", `The ${lane.name} lane keeps the sound on the page now`,
                       () => setLane(index));
    const follow = button(`follow-${lane.name}`, "\u21ba", `The ${lane.name} lane follows the point again`,
                          () => followPoint(index));
    follow.setAttribute("aria-label", `${lane.name}: follow the point`);
    const mute = button(`mute-${lane.name}`, "M", `Mute the ${lane.name} lane`, () => {
      lane.muted = !lane.muted;
      drawLane(lane);
      saveBeat();
    });
    mute.setAttribute("aria-label", `Mute ${lane.name}`);
    for (const b of [set, follow, mute]) b.className = "lane-button";
    const volume = document.createElement("input");
    Object.assign(volume, { type: "range", min: "0", max: "1", step: "0.01", id: `volume-${lane.name}` });
    volume.className = "lane-volume";
    volume.setAttribute("aria-label", `${lane.name} volume`);
    volume.addEventListener("input", () => {
      lane.volume = Number(volume.value);
      drawLane(lane);
      saveBeat();
    });
    head.append(name, what, set, follow, mute, volume);
    const cells = document.createElement("div");
    cells.className = "cells";
    lane.steps.forEach((on, step) => {
      const cell = document.createElement("button");
      cell.type = "button";
      cell.className = "step";
      cell.dataset.lane = lane.name;
      cell.dataset.step = String(step);
      cell.setAttribute("aria-label", `${lane.name} step ${step + 1}`);
      cell.setAttribute("aria-pressed", String(on));
      cell.addEventListener("click", () => {
        lane.steps[step] = !lane.steps[step];
        cell.setAttribute("aria-pressed", String(lane.steps[step]));
        saveBeat();
      });
      cells.append(cell);
    });
    row.append(head, cells);
    grid.append(row);
    drawLane(lane);
  });
  el("tempo").value = String(app.beat.bpm);
  el("tempo").addEventListener("change", () => setTempo(Number(el("tempo").value)));
  setSwing(app.beat.swing);
  el("swing").addEventListener("input", () => setSwing(Number(el("swing").value)));
  el("beat-play").addEventListener("click", () => setBeatPlaying(!app.beat.playing));
}

function drawPlayhead(step) {
  for (const cell of document.querySelectorAll(".step")) cell.classList.toggle("now", Number(cell.dataset.step) === step);
}

buildBeat();
updateControls();
drawKept();
start();
