// One player for every variation (issue #23): play and stop, a tempo, a loop, and a cursor that
// follows the music through the piano roll and the engraved score at once. Choosing another
// variation while one plays switches to it at the same place (A/B). Notes come from the
// variation's `play` (quarters: [start, duration, pitch, velocity], bar starts, the tempo) and
// sound through synth.js; the score's bars are verovio's `g.measure` elements, matched to the
// bar starts in order, the cursor moving through each bar in proportion to the time in it.

import { audio, hush, strike } from "./synth.js";

const AHEAD = 0.2; // seconds of notes scheduled ahead of the clock
const TICK = 25; // ms between scheduling passes

// A piano roll of `play` in `canvas`; returns its pitch range for the cursor's owner.
export function drawRoll(canvas, play, shade = null) {
  const w = (canvas.width = canvas.clientWidth || 800);
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, w, canvas.height);
  const notes = play?.notes || [];
  if (!notes.length) return;
  const end = Math.max(play.end || 0, ...notes.map(([s, d]) => s + d), 1);
  const pitches = notes.map((n) => n[2]);
  const lo = Math.min(...pitches) - 2, hi = Math.max(...pitches) + 2;
  const h = canvas.height / (hi - lo + 1);
  const x = (q) => (q / end) * (w - 4) + 2;
  if (shade) { g.fillStyle = "#eef2f8"; g.fillRect(x(shade[0]), 0, x(Math.min(shade[1], end)) - x(shade[0]), canvas.height); }
  g.strokeStyle = "#e4e1d8";
  for (const b of play.bars || []) { g.beginPath(); g.moveTo(x(b) + 0.5, 0); g.lineTo(x(b) + 0.5, canvas.height); g.stroke(); }
  for (const [s, d, p] of notes) {
    const inNew = !shade || (s >= shade[0] - 1e-6 && s < shade[1] - 1e-6);
    g.fillStyle = inNew ? "#2f5d9e" : "#b9b4a6";
    g.fillRect(x(s), canvas.height - (p - lo + 1) * h, Math.max(2, (d / end) * (w - 4) - 1), Math.max(2, h - 1));
  }
}

// An engraved page's SVG put inline, scaled to its box, so that its bars can be found and lit.
export function inlineSvg(text) {
  const box = document.createElement("div");
  box.className = "page";
  box.innerHTML = text;
  const svg = box.querySelector("svg");
  if (svg && !svg.getAttribute("viewBox")) {
    const w = parseFloat(svg.getAttribute("width")), h = parseFloat(svg.getAttribute("height"));
    if (w && h) svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  }
  svg?.removeAttribute("width");
  svg?.removeAttribute("height");
  return box;
}

export class Player {
  constructor({ changed = () => {} } = {}) {
    this.views = new Map(); // id -> {play, roll, score, cursors}
    this.current = null;
    this.playing = false;
    this.tempo = null; // quarters a minute; null: each piece's own
    this.loop = true;
    this.changed = changed; // called with the player when what it does changes
    this.voices = new Set();
  }

  add(id, view) {
    for (const host of [view.roll?.parentElement, view.score]) {
      if (!host) continue;
      const c = document.createElement("div");
      c.className = "cursor";
      c.hidden = true;
      host.append(c);
      (view.cursors ||= []).push(c);
    }
    this.views.set(id, view);
  }

  clear() { this.stop(); this.views.clear(); this.current = null; }

  get view() { return this.views.get(this.current); }
  get qpm() { return this.tempo || this.view?.play?.tempo || 120; }
  get end() { const p = this.view?.play; return p ? Math.max(p.end, ...(p.notes.length ? p.notes.map(([s, d]) => s + d) : [0])) : 0; }

  // The quarter sounding now.
  position() {
    if (!this.playing) return 0;
    const t = audio().currentTime;
    const origin = t < this.origin && this.lastLap != null ? this.lastLap : this.origin; // the last lap's end still sounding
    return ((t - origin) * this.qpm) / 60;
  }

  // Play `id` (a variation) from `from` quarters; while another plays, switch to `id` where it is.
  play(id, from = null) {
    const ac = audio();
    const at = from ?? (this.playing ? this.position() : 0);
    this.silence();
    this.hideCursor();
    this.current = id;
    this.lastLap = null;
    const notes = this.view.play.notes;
    this.next = notes.findIndex(([s]) => s >= at - 1e-6);
    if (this.next < 0) this.next = notes.length;
    this.origin = ac.currentTime + (this.playing ? 0 : 0.05) - (at * 60) / this.qpm;
    if (!this.playing) {
      this.playing = true;
      this.timer = setInterval(() => this.schedule(), TICK);
      const frame = () => { if (this.playing) { this.draw(); requestAnimationFrame(frame); } };
      requestAnimationFrame(frame);
    }
    this.schedule();
    this.changed(this);
  }

  stop() {
    if (!this.playing) return;
    this.playing = false;
    clearInterval(this.timer);
    this.silence();
    this.hideCursor();
    this.changed(this);
  }

  setTempo(qpm) {
    const at = this.position();
    this.tempo = qpm || null;
    if (this.playing) { this.origin = audio().currentTime - (at * 60) / this.qpm; this.lastLap = null; }
    this.changed(this);
  }

  silence() { hush(this.voices); }

  schedule() {
    const ac = audio();
    const spq = 60 / this.qpm;
    const notes = this.view.play.notes;
    const horizon = (ac.currentTime + AHEAD - this.origin) / spq;
    while (this.next < notes.length && notes[this.next][0] <= horizon) {
      const [s, d, p, v] = notes[this.next++];
      const voice = strike(p, v, this.origin + s * spq);
      voice.stop(this.origin + (s + d) * spq);
      this.voices.add(voice);
      setTimeout(() => this.voices.delete(voice), ((s + d) * spq + 1) * 1000 + (this.origin - ac.currentTime) * 1000);
    }
    if (this.next >= notes.length && horizon >= this.end) {
      if (!this.loop) { setTimeout(() => this.stop(), Math.max(0, (this.origin + this.end * spq - ac.currentTime) * 1000)); return; }
      this.lastLap = this.origin;
      this.origin += this.end * spq; // round again from the start, on time
      this.next = 0;
    }
  }

  hideCursor() {
    const v = this.view;
    v?.cursors?.forEach((c) => (c.hidden = true));
    v?.score?.querySelectorAll("g.measure.playing").forEach((m) => m.classList.remove("playing"));
  }

  // The cursor at the sounding quarter: across the roll, and over the bar of the score.
  draw() {
    const v = this.view;
    if (!v) return;
    const q = Math.max(0, this.position());
    const end = this.end || 1;
    const [rollCursor, scoreCursor] = v.cursors;
    if (v.roll && rollCursor) {
      rollCursor.hidden = false;
      rollCursor.style.left = `${v.roll.offsetLeft + 2 + (Math.min(q, end) / end) * (v.roll.clientWidth - 4)}px`;
      rollCursor.style.top = `${v.roll.offsetTop}px`;
      rollCursor.style.height = `${v.roll.clientHeight}px`;
    }
    const bars = v.play.bars || [];
    const measures = v.score ? [...v.score.querySelectorAll("g.measure")] : [];
    if (!scoreCursor || !bars.length || !measures.length) return;
    let i = 0;
    while (i + 1 < bars.length && bars[i + 1] <= q + 1e-6) i++;
    const m = measures[bars.length === measures.length ? i : Math.min(measures.length - 1, Math.floor((i * measures.length) / bars.length))];
    if (!m.classList.contains("playing")) {
      v.score.querySelectorAll("g.measure.playing").forEach((x) => x.classList.remove("playing"));
      m.classList.add("playing");
    }
    const into = Math.min(1, Math.max(0, (q - bars[i]) / ((bars[i + 1] ?? end) - bars[i] || 1)));
    const r = m.getBoundingClientRect(), host = v.score.getBoundingClientRect();
    scoreCursor.hidden = false;
    scoreCursor.style.left = `${r.left - host.left + v.score.scrollLeft + into * r.width}px`;
    scoreCursor.style.top = `${r.top - host.top + v.score.scrollTop}px`;
    scoreCursor.style.height = `${r.height}px`;
    v.bar = i; // for a test or a screen reader: the bar index sounding
  }
}
