// The page: pick a model, move a point on its 2-D map, hear the drum at that point, loop it
// while moving (new sounds crossfade in), vary it where the model can, download it as a WAV.
// Talks only to this server's /api; no libraries, no build step.
"use strict";

const FAMILY_COLOURS = ["#4e9bff", "#ff6b6b", "#ffd166", "#06d6a0", "#c77dff", "#ff9f1c",
                        "#8ecae6", "#f15bb5", "#a3b18a", "#bdbdbd", "#e76f51", "#90be6d"];
const CROSSFADE_S = 0.03;      // a new sound replaces the looping one over 30 ms: no click
const EDGE_FADE_S = 0.004;     // the loop's seam is faded so it cannot click either
const KEY_STEPS = 50;          // an arrow key moves 1/50 of the map (Shift: 1/10)
const RATE = 44100;            // the sounds are fetched as the WAV a user downloads
const SILENT_PEAK = 0.001;     // -60 dBFS: quieter than this is "almost silent"

const app = {
  models: [], model: null, codes: null, point: [0, 0], variation: null,
  wantedUrl: null, loadingUrl: null, loaded: null, ctx: null, looping: false, voice: null,
};
window.drumApp = app;  // for the browser test and the curious

const el = (id) => document.getElementById(id);
const pad = el("pad"), wave = el("wave");

function status(text, isError = false) {
  el("status").textContent = text;
  el("status").classList.toggle("error", isError);
}

async function getJson(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

// ----------------------------------------------------------------------------- models

async function start() {
  try {
    const list = await getJson("/api/models");
    app.models = list.models;
    const picker = el("model");
    for (const model of app.models) {
      const option = document.createElement("option");
      option.value = model.name;
      option.textContent = model.default ? `${model.name} (recommended)` : model.name;
      picker.append(option);
    }
    picker.value = list.default;
    picker.addEventListener("change", () => chooseModel(picker.value));
    await chooseModel(list.default);
  } catch (error) {
    status(`Cannot reach the server: ${error.message}`, true);
  }
}

async function chooseModel(name) {
  app.model = app.models.find((m) => m.name === name);
  el("description").textContent = app.model.description;
  if (app.model.collapsed) {  // the catalogue's warning: its codes do not spread
    el("description").textContent += " ⚠ Collapsed: every training sound encodes to one point, so it makes one sound everywhere.";
  }
  el("vary").hidden = !app.model.has_variation;
  app.variation = null;
  app.codes = null;
  app.point = app.model.center.slice();
  drawPad();
  if (app.model.has_codes) {
    try {
      app.codes = await getJson(app.model.codes_url);  // versioned: cached for good
    } catch (error) {
      status(`No map of training sounds: ${error.message}`, true);
    }
  }
  drawLegend();
  drawPad();
  requestSound();
}

// ----------------------------------------------------------------------------- the pad

function resizeCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio), height = Math.round(canvas.clientHeight * ratio);
  if (width && height && (canvas.width !== width || canvas.height !== height)) {
    canvas.width = width;
    canvas.height = height;
  }
}

function toPixels(x, y) {
  const [xmin, xmax, ymin, ymax] = app.model.latent_range;
  return [(x - xmin) / (xmax - xmin) * pad.width, (1 - (y - ymin) / (ymax - ymin)) * pad.height];
}

function toLatent(px, py) {
  const [xmin, xmax, ymin, ymax] = app.model.latent_range;
  const fx = Math.min(1, Math.max(0, px / pad.width)), fy = Math.min(1, Math.max(0, py / pad.height));
  return [xmin + fx * (xmax - xmin), ymin + (1 - fy) * (ymax - ymin)];
}

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
  if (app.codes) {
    const { points, family } = app.codes, radius = 2.6 * ratio;
    g.globalAlpha = 0.75;
    for (let i = 0; i < family.length; i++) {
      const [px, py] = toPixels(points[2 * i], points[2 * i + 1]);
      g.fillStyle = FAMILY_COLOURS[family[i] % FAMILY_COLOURS.length];
      g.beginPath(); g.arc(px, py, radius, 0, 2 * Math.PI); g.fill();
    }
    g.globalAlpha = 1;
  } else {
    g.fillStyle = "#9aa0a8";
    g.font = `${13 * ratio}px system-ui, sans-serif`;
    g.fillText("Every point is a new sound.", 10 * ratio, 20 * ratio);
  }
  const [px, py] = toPixels(...app.point);
  g.strokeStyle = "#ffb000";
  g.lineWidth = 2.5 * ratio;
  g.beginPath(); g.arc(px, py, 9 * ratio, 0, 2 * Math.PI); g.stroke();
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
    item.style.setProperty("--swatch", FAMILY_COLOURS[i % FAMILY_COLOURS.length]);
    item.textContent = `${name} (${counts[i]})`;
    legend.append(item);
  });
}

function moveTo(point) {
  app.point = point;
  drawPad();
  requestSound();
}

function eventPoint(event) {
  const box = pad.getBoundingClientRect(), ratio = pad.width / box.width;
  return toLatent((event.clientX - box.left) * ratio, (event.clientY - box.top) * ratio);
}

let dragging = false;
if (window.PointerEvent) {
  pad.addEventListener("pointerdown", (event) => {
    dragging = true;
    pad.setPointerCapture(event.pointerId);
    pad.focus();
    unlockAudio();
    moveTo(eventPoint(event));
  });
  pad.addEventListener("pointermove", (event) => { if (dragging) moveTo(eventPoint(event)); });
  const stop = () => { dragging = false; };
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointercancel", stop);
} else {
  // Older touch browsers without pointer events.
  const onTouch = (event) => {
    event.preventDefault();
    unlockAudio();
    moveTo(eventPoint(event.touches[0]));
  };
  pad.addEventListener("touchstart", onTouch, { passive: false });
  pad.addEventListener("touchmove", onTouch, { passive: false });
  pad.addEventListener("mousedown", (event) => { dragging = true; moveTo(eventPoint(event)); });
  window.addEventListener("mousemove", (event) => { if (dragging) moveTo(eventPoint(event)); });
  window.addEventListener("mouseup", () => { dragging = false; });
}

pad.addEventListener("keydown", (event) => {
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  if (event.key === " " || event.key === "Enter") {
    event.preventDefault();
    playOnce();
    return;
  }
  const move = moves[event.key];
  if (!move || !app.model) return;
  event.preventDefault();
  const [xmin, xmax, ymin, ymax] = app.model.latent_range, steps = event.shiftKey ? 10 : KEY_STEPS;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  moveTo([clamp(app.point[0] + move[0] * (xmax - xmin) / steps, xmin, xmax),
          clamp(app.point[1] + move[1] * (ymax - ymin) / steps, ymin, ymax)]);
});

window.addEventListener("resize", () => { drawPad(); drawWave(); });

// ----------------------------------------------------------------------------- sounds

function soundUrl() {
  const [x, y] = app.point;
  // The model's versioned URL: the same point is the same bytes until the model is retrained,
  // so any cache between here and the server may keep it.
  let url = `${app.model.sound_url}?x=${x.toFixed(4)}&y=${y.toFixed(4)}`;
  if (app.variation !== null) url += `&variation=${app.variation}`;
  return `${url}&rate=${RATE}`;
}

function audioContext() {
  if (!app.ctx) app.ctx = new (window.AudioContext || window.webkitAudioContext)();
  return app.ctx;
}

function unlockAudio() {
  const ctx = audioContext();
  if (ctx.state === "suspended") ctx.resume();
}

// Only the newest point is fetched: while one sound is on its way, later moves just
// replace the wanted URL, so a fast drag never builds a queue.
function requestSound() {
  app.wantedUrl = soundUrl();
  if (!app.loadingUrl) fetchWanted();
}

async function fetchWanted() {
  while (app.wantedUrl && app.wantedUrl !== (app.loaded && app.loaded.url)) {
    const url = app.loadingUrl = app.wantedUrl;
    const point = app.point.slice(), model = app.model.name, variation = app.variation;
    try {
      const response = await fetch(url);
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error(body.error || `${response.status}`);
      }
      const disposition = response.headers.get("Content-Disposition") || "";
      const match = /filename="([^"]+)"/.exec(disposition);
      const bytes = await response.arrayBuffer();
      const buffer = await audioContext().decodeAudioData(bytes.slice(0));
      fadeEdges(buffer);
      app.loaded = { url, point, model, variation, buffer, bytes, fileName: match ? match[1] : `${model}.wav` };
      showSound();
      if (app.looping) startLoop(buffer);
    } catch (error) {
      status(`No sound for this point: ${error.message}`, true);
      app.loaded = { url, point, model, variation, buffer: null };
    }
  }
  app.loadingUrl = null;
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

function showSound() {
  const { point, fileName, url, variation } = app.loaded;
  el("point").textContent = `${app.loaded.model} at x ${format(point[0])}, y ${format(point[1])}` +
    (variation !== null ? `, take ${variation}` : "");
  wave.dataset.soundUrl = url;
  const link = el("download");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([app.loaded.bytes], { type: "audio/wav" }));
  link.download = fileName;
  link.removeAttribute("aria-disabled");
  const peak = drawWave();
  if (peak < SILENT_PEAK) status("This point is almost silent: move towards the dots.");
  else status(app.looping ? "Looping: move the point to change the sound." : "Ready: press Play, or Loop and drag.");
}

function drawWave() {
  resizeCanvas(wave);
  const g = wave.getContext("2d");
  g.clearRect(0, 0, wave.width, wave.height);
  if (!app.loaded || !app.loaded.buffer) return 0;
  const data = app.loaded.buffer.getChannelData(0), columns = wave.width, middle = wave.height / 2;
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

// ----------------------------------------------------------------------------- playing

function playOnce() {
  if (!app.loaded || !app.loaded.buffer) return;
  const ctx = audioContext();
  ctx.resume();
  const source = ctx.createBufferSource();
  source.buffer = app.loaded.buffer;
  source.connect(ctx.destination);
  source.start();
}

// A looping voice: source -> gain. A new sound starts where the old one's playhead is and
// the two crossfade, so the rhythm carries on and nothing clicks.
function startLoop(buffer) {
  const ctx = audioContext(), now = ctx.currentTime;
  const gain = ctx.createGain(), source = ctx.createBufferSource();
  source.buffer = buffer;
  source.loop = true;
  source.connect(gain).connect(ctx.destination);
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
  if (on && app.loaded && app.loaded.buffer) {
    startLoop(app.loaded.buffer);
  } else if (!on && app.voice) {
    fadeOut(app.voice, ctx.currentTime);
    app.voice = null;
  }
  if (app.loaded && app.loaded.buffer) showSound();
}

el("play").addEventListener("click", playOnce);
el("loop").addEventListener("click", () => setLooping(!app.looping));
el("vary").addEventListener("click", () => {
  unlockAudio();
  app.variation = Math.floor(Math.random() * 10000);
  requestSound();
});
el("download").setAttribute("aria-disabled", "true");

start();
