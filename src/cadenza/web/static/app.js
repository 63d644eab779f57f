// The page: prompt (played, recorded on the beat or uploaded), the generation controls, progress
// and errors, the variations (piano roll and engraved score with one player's cursor, audio,
// downloads, "continue from here"), and jam mode. Everything goes through the JSON API that
// scripts can call too.

import { notesToMidi } from "./midifile.js";
import { Jam } from "./jam.js";
import { JamView } from "./jamview.js";
import { Piano, noteName } from "./piano.js";
import { Player, drawRoll as drawPlay, inlineSvg } from "./player.js";
import { Take } from "./record.js";
import { audio } from "./synth.js";

const $ = (id) => document.getElementById(id);
const state = { models: [], prompt: null, recording: false, busy: false };
const piano = new Piano($("piano"), { low: 48, octaves: 3 });
const recorder = new Take();

// ---- prompt ------------------------------------------------------------------------------

piano.on((e) => {
  if (e.type === "octave") { $("octave").textContent = noteName(e.base); return; }
  if (state.recording && !jam.active) { recorder.event(e); if (e.type === "off") showRecorded(); }
});

function setPrompt(prompt) {
  state.prompt = prompt;
  $("prompt-info").textContent = prompt ? prompt.label : "No prompt: the model starts from nothing.";
  $("go").textContent = prompt ? "Continue the prompt" : "Generate";
  document.querySelectorAll(".prompt-only").forEach((el) => (el.hidden = !prompt));
  drawRoll(prompt?.notes || []);
  if (prompt) preferContinuing(); else showModel();
}

// A recording is timed against the metronome (a bar counted in at the tempo chosen) and, with
// "Quantise" on, placed on its grid; the MIDI file is written at that tempo, so quarters played
// are quarters in the file.
const tempo = () => Math.min(240, Math.max(30, +$("tempo").value || 100));
$("quantise").onchange = $("grid").onchange = () => showRecorded();

function showRecorded() {
  const notes = recorder.result($("quantise").checked ? +$("grid").value : 0);
  if (!notes.length) return;
  const beats = notes.reduce((m, n) => Math.max(m, n.start + n.duration), 0) / recorder.beat;
  setPrompt({ blob: notesToMidi(notes, tempo()), name: "played.mid", notes, tempo: tempo(), label: `Played: ${notes.length} notes, ${beats.toFixed(beats % 1 ? 2 : 0)} beats at ${tempo()} a minute` });
}

$("record").onclick = () => {
  audio();
  state.recording = !state.recording;
  $("record").classList.toggle("on", state.recording);
  $("record").textContent = state.recording ? "■ Stop recording" : "● Record";
  if (state.recording) {
    recorder.start({ tempo: tempo(), metronome: $("metronome").checked });
    if (recorder.counting) { $("prompt-info").textContent = "Counting in: one bar…"; setTimeout(() => state.recording && ($("prompt-info").textContent = "Recording: play"), recorder.t0 - performance.now()); }
  } else recorder.stop();
};
$("clear").onclick = () => { recorder.stop(); recorder.clear(); $("upload").value = ""; setPrompt(null); };
$("upload").onchange = () => {
  const f = $("upload").files[0];
  if (f) { setPrompt({ blob: f, name: f.name, label: `File: ${f.name} (${(f.size / 1024).toFixed(1)} kB)` }); drawUpload(f); }
};

// an uploaded file is drawn in the prompt roll too: the server reads it as a continuation would
async function drawUpload(f) {
  const body = new FormData();
  body.append("file", f, f.name);
  const res = await fetch("/api/notes", { method: "POST", body }).catch(() => null);
  if (!res || state.prompt?.blob !== f) return;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) { showError(data.detail || `${f.name} cannot be read`); return; }
  state.prompt.notes = data.notes;
  state.prompt.bars = data.bars;
  $("prompt-info").textContent = `File: ${f.name}: ${data.bars} bars, ${data.notes.length}${data.truncated ? "+" : ""} notes`;
  drawRoll(data.notes);
}

function drawRoll(notes) {
  const c = $("prompt-roll");
  const w = (c.width = c.clientWidth || 800);
  const g = c.getContext("2d");
  g.clearRect(0, 0, w, c.height);
  if (!notes.length) return;
  const end = Math.max(...notes.map((n) => n.start + n.duration), 1);
  const mid = (Math.min(...notes.map((n) => n.pitch)) + Math.max(...notes.map((n) => n.pitch))) / 2;
  const span = Math.max(18, Math.max(...notes.map((n) => n.pitch)) - Math.min(...notes.map((n) => n.pitch)) + 4);
  const lo = Math.floor(mid - span / 2), hi = lo + span;
  const h = c.height / (hi - lo + 1);
  g.fillStyle = "#e9b949";
  for (const n of notes) g.fillRect((n.start / end) * (w - 4) + 2, c.height - (n.pitch - lo + 1) * h, Math.max(2, (n.duration / end) * (w - 4)), Math.max(3, h - 1));
}

// ---- models and controls ----------------------------------------------------------------

async function loadModels() {
  const res = await fetch("/api/models");
  const data = await res.json();
  state.models = data.models;
  for (const sel of [$("model"), $("jam-model")]) sel.innerHTML = "";
  for (const m of data.models) {
    $("model").add(new Option(`${m.name} (${m.codec})`, m.name, false, m.name === data.default));
    if (m.jam) $("jam-model").add(new Option(m.name, m.name, false, m.name === data.default));
  }
  showModel();
}

const model = () => state.models.find((m) => m.name === $("model").value) || {};

// A key as the key field takes it ("F", "bb", "G:dor") in words: capitals major, lower case minor.
function keyName(k) {
  const m = /^([A-Ga-g])([#b-]?)$/.exec(k || "");
  return m ? `${m[1].toUpperCase()}${m[2] === "-" ? "b" : m[2]} ${m[1] === m[1].toUpperCase() ? "major" : "minor"}` : k;
}

// What the next pieces are written in. A kern model takes the metre and key typed, draws what is
// left blank from its training pieces (each variation its own), and keeps a prompt's; its most
// common metre and key (m.metre, m.key) are not what it writes, so they are not shown for it.
// A MIDI model's bars are counted in the metre it decodes with.
function writtenIn(m) {
  if (!m.metre_key) return [m.metre && `metre ${m.metre}`];
  if (state.prompt) return ["metre and key of the prompt"];
  const metre = $("metre").value.trim(), key = $("key").value.trim();
  if (!metre && !key) return ["metre and key drawn from its pieces for each variation"];
  return [metre ? `metre ${metre}` : "metre drawn from its pieces", key ? `key ${keyName(key)}` : "key drawn from its pieces"];
}

function showModel() {
  const m = model();
  const bits = [m.about, ...writtenIn(m), m.tempo && `${m.tempo} quarters/min`, m.licence && `licence: ${m.licence}`];
  $("model-info").textContent = bits.filter(Boolean).join(" · ");
  document.querySelectorAll(".form-only").forEach((el) => (el.hidden = !m.form || !!state.prompt));
  document.querySelectorAll(".metre-only").forEach((el) => (el.hidden = !m.metre_key || !!state.prompt));
  document.querySelectorAll(".infill-only").forEach((el) => (el.hidden = !m.infills || !state.prompt));
  $("chords-box").hidden = !m.chords || !!state.prompt;
  for (const kind of ["composer", "style", "instrument"]) {  // a conditioned model's labels, for new pieces
    const names = (m.labels || {})[kind] || [];
    const sel = $(kind);
    if (sel.dataset.model !== m.name) {
      sel.dataset.model = m.name;
      sel.replaceChildren(new Option("any", ""), ...names.map((n) => new Option(n, n)));
    }
    sel.parentElement.hidden = !names.length || !!state.prompt;
  }
  if (state.prompt && !m.continues) $("model-info").textContent += " · this model cannot continue a prompt; pick one that does";
}

function preferContinuing() {
  if (!model().continues) {
    const c = state.models.find((m) => m.continues && m.name === "piano-notewise") || state.models.find((m) => m.continues);
    if (c) $("model").value = c.name;
  }
  showModel();
}
$("model").onchange = showModel;
$("metre").oninput = $("key").oninput = showModel;

// ---- generation ------------------------------------------------------------------------

function fields() {
  const f = new FormData();
  for (const k of ["model", "bars", "variations", "temperature", "top_p", "seed", "prompt_bars"]) if ($(k).value !== "") f.append(k, $(k).value);
  if (!state.prompt && $("form").value.trim()) { f.append("form", $("form").value.trim()); f.append("phrase_bars", $("phrase_bars").value); }
  if (!state.prompt && model().metre_key) for (const k of ["metre", "key"]) if ($(k).value.trim()) f.append(k, $(k).value.trim());
  if (!state.prompt) for (const k of ["composer", "style", "instrument"]) if (!$(k).parentElement.hidden && $(k).value) f.append(k, $(k).value);
  if (!state.prompt && model().chords && $("chords").value.trim()) f.append("chords", $("chords").value.trim());
  return f;
}

function showError(msg) {
  $("error").hidden = !msg;
  $("error").textContent = msg || "";
}

async function run(rewrite = false) {
  if (state.busy) return;
  if (rewrite && !$("rewrite").value.trim()) { showError("Say which bars to rewrite, e.g. 5-8 (the prompt's own bar numbers)."); $("rewrite").focus(); return; }
  state.busy = true;
  $("go").disabled = $("rewrite-go").disabled = true;
  showError("");
  const job = `j${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const f = fields();
  f.append("job", job);
  if (state.prompt) f.append("file", state.prompt.blob, state.prompt.name);
  if (rewrite) f.append("rewrite", $("rewrite").value.trim());
  const bar = $("progress");
  bar.hidden = false;
  bar.removeAttribute("value");
  $("status").textContent = "starting…";
  const started = performance.now();
  const poll = setInterval(async () => {
    const r = await fetch(`/api/jobs/${job}`).catch(() => null);
    if (!r || !r.ok) return;
    const p = await r.json();
    const secs = ((performance.now() - started) / 1000).toFixed(0);
    if (p.stage === "queued") $("status").textContent = `waiting for a worker (${p.waiting || 0} ahead)… ${secs} s`;
    else if (p.stage === "sampling") { $("status").textContent = `sampling… ${secs} s`; if (p.total) { bar.max = p.total; bar.value = p.done; } }
    else if (p.stage === "rendering") { $("status").textContent = `engraving and rendering variation ${p.done + 1} of ${p.total}… ${secs} s`; bar.max = p.total; bar.value = p.done; }
  }, 400);
  try {
    const res = await fetch(rewrite ? "/api/infill" : state.prompt ? "/api/continue" : "/api/generate", { method: "POST", body: f });
    const data = await res.json().catch(() => ({ detail: `the server answered ${res.status} without a message` }));
    if (!res.ok) throw new Error(data.detail || `HTTP ${res.status}`);
    showResults(data);
    $("status").textContent = `done in ${((performance.now() - started) / 1000).toFixed(1)} s (seed ${data.seed})`;
  } catch (err) {
    showError(err.message === "Failed to fetch" ? "The server cannot be reached: is `cadenza serve` still running?" : err.message);
    $("status").textContent = "";
  } finally {
    clearInterval(poll);
    bar.hidden = true;
    state.busy = false;
    $("go").disabled = $("rewrite-go").disabled = false;
  }
}
$("go").onclick = () => run(false);
$("rewrite-go").onclick = () => run(true);

async function showWhole(v, card, button) {
  // the whole piece's score is engraved on first request (a long upload takes seconds), its WAV too
  const view = card._view;
  if (button.dataset.whole) {  // back to the new bars
    showPlay(card, v.play, v.svg_pages, newQuarters(v));
    if (view.audio) view.audio.src = v.wav;
    delete button.dataset.whole;
    button.textContent = "Show the whole piece";
    return;
  }
  button.disabled = true;
  button.textContent = "engraving the whole piece…";
  try {
    const res = await fetch(v.whole.score);
    const data = await res.json().catch(() => ({ detail: `the server answered ${res.status}` }));
    if (!res.ok) throw new Error(data.detail);
    await showPlay(card, data.play, data.svg_pages, v.prompt_quarters != null ? [v.prompt_quarters, Infinity] : null);
    if (view.audio) view.audio.src = v.whole.wav;
    button.dataset.whole = "1";
    button.textContent = "Show only the new bars";
  } catch (err) {
    showError(err.message);
    button.textContent = "Show the whole piece";
  } finally {
    button.disabled = false;
  }
}

// One "safe <-> adventurous" control over temperature and top-p (the numbers stay under Advanced):
// 0 is temperature 0.5, top-p 0.8 (the likeliest notes); 0.6 the model as trained (1.0, 1.0); 1 temperature 1.33.
function character() {
  const x = +$("character").value;
  $("temperature").value = (0.5 + (5 / 6) * x).toFixed(2);
  $("top_p").value = Math.min(1, 0.8 + x / 3).toFixed(2);
  $("character-out").textContent = `temperature ${$("temperature").value}, top-p ${$("top_p").value}`;
}
$("character").oninput = character;
for (const k of ["temperature", "top_p"]) $(k).addEventListener("input", () => { $("character-out").textContent = `temperature ${$("temperature").value}, top-p ${$("top_p").value} (set by hand)`; });
character();

function link(url, text, download) {
  const a = document.createElement("a");
  a.href = url;
  a.textContent = text;
  a.className = "dl";
  if (download) a.download = download;
  return a;
}

// ---- the player: one transport for every variation --------------------------------------

const player = new Player({
  changed: (p) => {
    document.querySelectorAll(".variation button.play").forEach((b) => {
      const on = p.playing && b.closest(".variation").id === p.current;
      b.textContent = on ? "■ Stop" : p.playing ? "▶ Switch here" : "▶ Play";
      b.classList.toggle("on", on);
    });
    $("player-status").textContent = p.playing ? `playing variation ${p.current.split("-")[1]} at ${Math.round(p.qpm)} a minute` : "";
  },
});
$("play-tempo").oninput = () => player.setTempo(+$("play-tempo").value || null);
$("play-loop").onchange = () => (player.loop = $("play-loop").checked);
$("play-stop").onclick = () => player.stop();

// The quarters a variation's own new bars span within what is shown (the rest is drawn grey).
function newQuarters(v) {
  if (v.shown) return v.shown.new_quarters;
  return v.prompt_quarters != null ? [v.prompt_quarters, Infinity] : null;
}

// Draw `play` in the card's roll, its score pages inline (their bars lit as they sound), and
// give the player the notes; `pages`: SVG URLs.
async function showPlay(card, play, pages, shade) {
  const view = card._view;
  if (player.current === card.id) player.stop();
  const known = player.views.get(card.id);
  if (known && play) known.play = play;
  if (view.roll?.getContext && play) drawPlay(view.roll, play, shade);
  const texts = await Promise.all(pages.map((u) => fetch(u).then((r) => (r.ok ? r.text() : ""))));
  const cursor = view.score.querySelector(".cursor");
  view.score.replaceChildren(...texts.filter(Boolean).map(inlineSvg), ...(cursor ? [cursor] : []));
  view.score.dataset.pages = String(texts.filter(Boolean).length);
}

function showResults(data) {
  const box = $("results");
  player.clear();
  box.innerHTML = "";
  for (const v of data.variations) {
    const card = document.createElement("article");
    card.className = "variation";
    const what = data.rewrite ? `bars ${data.rewrite} of ${data.prompt} rewritten` : data.prompt ? `continuing ${data.prompt}` : `${data.bars} bars`;
    const inKey = v.metre || v.key ? ` · ${[v.metre, v.key && keyName(v.key)].filter(Boolean).join(", ")}` : "";
    card.innerHTML = `<h3>Variation ${v.index} <span class="muted">${data.model} · seed ${data.seed} · ${what}${inKey} · ${v.notes ?? "?"} notes</span></h3>`;
    let roll = null, audio = null;
    if (v.shown) {  // a continuation or a rewrite: the new bars with a little context, the whole piece a click away
      const note = document.createElement("p");
      note.className = "shown muted";
      const ctx = data.rewrite ? `bars ${data.rewrite} rewritten (highlighted), with ${v.shown.context_bars} bars either side shaded` : `the new bars, after the last ${v.shown.context_bars} bars of ${data.prompt} (shaded)`;
      note.textContent = `Showing bars ${v.shown.first_bar}–${v.shown.last_bar}: ${ctx}. `;
      const whole = document.createElement("button");
      whole.type = "button";
      whole.className = "whole";
      whole.textContent = "Show the whole piece";
      whole.onclick = () => showWhole(v, card, whole);
      note.append(whole);
      card.append(note);
    }
    if (v.play) {  // drawn here, so the player's cursor can run through it
      const box = document.createElement("div");
      box.className = "rollbox";
      roll = document.createElement("canvas");
      roll.className = "roll";
      roll.height = 120;
      roll.setAttribute("role", "img");
      roll.setAttribute("aria-label", `Piano roll of variation ${v.index}${v.prompt_quarters != null || v.shown ? " (the prompt in grey)" : ""}`);
      box.append(roll);
      card.append(box);
    } else if (v.png) { roll = new Image(); roll.src = v.png; roll.className = "roll"; roll.alt = `Piano roll of variation ${v.index}`; card.append(roll); }
    const row = document.createElement("div");
    row.className = "row";
    if (v.wav) { audio = document.createElement("audio"); audio.controls = true; audio.preload = "auto"; audio.src = v.wav; row.append(audio); }
    if (v.play) {
      const play = document.createElement("button");
      play.type = "button";
      play.className = "play";
      play.textContent = "▶ Play";
      play.title = "Play this variation with the cursor; while another plays, switch to this one at the same place";
      play.onclick = () => (player.playing && player.current === card.id ? player.stop() : player.play(card.id));
      row.append(play);
    }
    const more = document.createElement("button");
    more.type = "button";
    more.textContent = "Continue from here";
    more.onclick = () => continueFrom(v, data);
    row.append(more);
    if (state.models.find((m) => m.name === data.model)?.infills) {
      const again = document.createElement("button");
      again.type = "button";
      again.textContent = "Rewrite bars…";
      again.title = "Make this variation the prompt, then choose bars to write anew";
      again.onclick = () => useForRewrite(v, data);
      row.append(again);
    }
    const dl = document.createElement("span");
    dl.className = "downloads";
    const stem = `cadenza-${data.model}-${data.seed}-${v.index}`;
    const of = v.shown ? " (whole piece)" : "";
    if (v.midi) dl.append(link(v.midi, `MIDI${of}`, `${stem}.mid`));
    if (v.musicxml) { const m = link(v.musicxml, `MusicXML${of}`, `${stem}.musicxml`); m.onclick = (e) => downloadChecked(e, v.musicxml, `${stem}.musicxml`); dl.append(m); }
    if (v.krn) { const k = link(v.krn, `Kern${of}`, `${stem}.krn`); k.onclick = (e) => downloadChecked(e, v.krn, `${stem}.krn`); dl.append(k); }
    if (v.shown && v.whole?.wav) { const w = link(v.whole.wav, "WAV (whole piece)", `${stem}.wav`); w.onclick = (e) => downloadChecked(e, v.whole.wav, `${stem}.wav`); dl.append(w); }
    if (v.wav) dl.append(link(v.wav, v.shown ? `WAV (bars ${v.shown.first_bar}–${v.shown.last_bar})` : "WAV", v.shown ? `${stem}-bars-${v.shown.first_bar}-${v.shown.last_bar}.wav` : `${stem}.wav`));
    row.append(dl);
    card.append(row);
    for (const w of v.warnings || []) { const p = document.createElement("p"); p.className = "warn"; p.textContent = w; card.append(p); }
    const score = document.createElement("div");
    score.className = "score";
    score.setAttribute("role", "img");
    score.setAttribute("aria-label", `Score of variation ${v.index}${v.shown ? `, bars ${v.shown.first_bar}–${v.shown.last_bar}` : ""}`);
    card.append(score);
    card.id = `variation-${v.index}`;
    card._view = { roll, audio, score };
    box.append(card);
    if (v.play) player.add(card.id, { play: v.play, roll, score });
    showPlay(card, v.play, v.svg_pages || [], newQuarters(v));
  }
  $("transport").hidden = !data.variations.some((v) => v.play);
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}

// Kern is written on first request and may be impossible for a piece: say why in words.
async function downloadChecked(e, url, name) {
  e.preventDefault();
  const res = await fetch(url);
  if (!res.ok) { showError((await res.json().catch(() => ({}))).detail || `the server answered ${res.status}`); return; }
  const a = link(URL.createObjectURL(await res.blob()), "", name);
  a.click();
}

// Rewriting keeps the variation's own notation: its kern where the model writes kern.
async function useForRewrite(v, data) {
  const kern = state.models.find((m) => m.name === data.model)?.codec === "kern";
  const url = kern && v.krn ? v.krn : v.midi;
  const res = await fetch(url);
  if (!res.ok) { showError("That result is gone from the server (old results are removed); generate again."); return; }
  const name = `variation-${v.index}.${url === v.midi ? "mid" : "krn"}`;
  setPrompt({ blob: await res.blob(), name, label: `Variation ${v.index} of ${data.model} (seed ${data.seed}): choose bars to rewrite` });
  $("model").value = data.model;
  showModel();
  $("rewrite").focus();
  $("controls").scrollIntoView({ behavior: "smooth", block: "start" });
}

async function continueFrom(v, data) {
  const res = await fetch(v.midi);
  if (!res.ok) { showError("That result is gone from the server (old results are removed); generate again."); return; }
  const blob = await res.blob();
  setPrompt({ blob, name: `variation-${v.index}.mid`, label: `Variation ${v.index} of ${data.model} (seed ${data.seed})` });
  run();
}

// ---- jam -------------------------------------------------------------------------------

const jamView = new JamView($("jam-roll"), $("jam-history"), (blob, name, notes, label) => {
  setPrompt({ blob, name, notes, label });
  $("controls").scrollIntoView({ behavior: "smooth", block: "start" });
});
$("jam-save").onclick = () => jamView.whole("save");
$("jam-prompt").onclick = () => jamView.whole("prompt");
const jam = new Jam(piano, {
  shown: (entry, note) => { jamView.shown(entry, note); $("jam-whole").hidden = false; },
  status: (s) => ($("jam-status").textContent = s),
  log: (r, st) => {
    $("jam-log").textContent = `last reply: ${r.notes} notes, first note after ${r.first?.toFixed(0)} ms (server ${r.server} ms)` +
      (st.n ? ` · over ${st.n} replies: p50 ${st.p50.toFixed(0)} ms, p95 ${st.p95.toFixed(0)} ms` : "");
  },
  settings: () => ({ model: $("jam-model").value, bars: +$("jam-bars").value || 2, temperature: +$("temperature").value || 1, top_p: +$("top_p").value || 1, gap: +$("gap").value }),
});
$("gap").oninput = () => ($("gap-out").textContent = `${$("gap").value} s`);
$("jam").onclick = () => {
  if (jam.active) jam.stop(); else jam.start();
  $("jam").classList.toggle("on", jam.active);
  $("jam").textContent = jam.active ? "Stop jam" : "Start jam";
};

window.cadenza = { state, piano, jam, jamView, recorder, player, showModel };
piano.connectMidi((s) => ($("midi-status").textContent = s));
setPrompt(null);
loadModels().catch((err) => showError(`Cannot load the model list: ${err.message}`));
