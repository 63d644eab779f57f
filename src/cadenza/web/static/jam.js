// Jam mode (call and response). The page listens to the piano; once every key is up and
// nothing is played for `gap` seconds, the phrase goes to /api/jam and the reply's notes are
// synthesised as they stream in (JSON lines). Playing again cuts the reply short and starts
// the next phrase. Each reply's time to first note (pause detected -> first note scheduled to
// sound) is kept in `latencies` and shown.

import { audio, hush, strike } from "./synth.js";

const LOOKAHEAD = 0.02; // seconds between a note's arrival and its sound: scheduling margin

export class Jam {
  constructor(piano, { status, log, settings }) {
    this.piano = piano;
    this.status = status;
    this.log = log;
    this.settings = settings; // () => {model, bars, temperature, top_p, gap}
    this.active = false;
    this.latencies = [];
    this.replies = [];
    this.phrase = [];
    this.open = new Map();
    this.voices = new Map();
    this.timer = null;
    this.abort = null;
    piano.on((e) => this.event(e));
  }

  start() {
    audio();
    this.active = true;
    this.phrase = [];
    this.status("listening: play a phrase, then pause");
  }

  stop() {
    this.active = false;
    clearTimeout(this.timer);
    this.cut();
    this.status("off");
  }

  event(e) {
    if (!this.active || (e.type !== "on" && e.type !== "off")) return;
    clearTimeout(this.timer);
    if (e.type === "on") {
      this.cut(); // the player takes over
      this.open.set(e.pitch, { pitch: e.pitch, velocity: e.velocity, t: e.t });
      return;
    }
    const n = this.open.get(e.pitch);
    if (n) {
      this.open.delete(e.pitch);
      this.phrase.push({ pitch: n.pitch, velocity: n.velocity, start: n.t / 1000, duration: Math.max(0.03, (e.t - n.t) / 1000) });
    }
    if (this.piano.held() === 0 && this.phrase.length) {
      const gap = this.settings().gap;
      const releasedAt = performance.now(); // the last key up: the player's own latency counts from here
      this.timer = setTimeout(() => this.respond(performance.now(), releasedAt), gap * 1000);
    }
  }

  cut() {
    if (this.abort) this.abort.abort();
    this.abort = null;
    hush(this.voices);
  }

  async respond(pausedAt, releasedAt = pausedAt) {
    const s = this.settings();
    const phrase = this.phrase.slice(-400);
    this.phrase = [];
    const t0 = Math.min(...phrase.map((n) => n.start));
    const notes = phrase.map((n) => ({ ...n, start: +(n.start - t0).toFixed(4) }));
    const controller = new AbortController();
    this.abort = controller;
    this.status("replying…");
    const reply = { notes: 0, first: null, fromRelease: null, server: null };
    let origin = null;
    const ac = audio();
    try {
      const res = await fetch("/api/jam", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ notes, model: s.model, bars: s.bars, temperature: s.temperature, top_p: s.top_p }),
        signal: controller.signal,
      });
      if (!res.ok) throw new Error((await res.json().catch(() => ({}))).detail || `HTTP ${res.status}`);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line);
          if (ev.type === "on") {
            if (origin == null) {
              origin = ac.currentTime + LOOKAHEAD;
              reply.first = performance.now() - pausedAt + LOOKAHEAD * 1000;
              reply.fromRelease = performance.now() - releasedAt + LOOKAHEAD * 1000; // the pause setting included
              reply.server = ev.server_ms;
            }
            reply.notes++;
            const at = Math.max(origin + ev.time, ac.currentTime);
            this.voices.get(ev.pitch)?.stop(at);
            this.voices.set(ev.pitch, strike(ev.pitch, ev.velocity, at));
            setTimeout(() => this.piano.flash(ev.pitch, 150), (at - ac.currentTime) * 1000);
          } else if (ev.type === "off") {
            const v = this.voices.get(ev.pitch);
            if (v) { v.stop(origin + ev.time); this.voices.delete(ev.pitch); }
          } else if (ev.type === "error") {
            throw new Error(ev.message);
          } else if (ev.type === "end") {
            reply.seconds = ev.seconds;
          }
        }
      }
      if (reply.first != null) this.latencies.push(reply.first);
      this.replies.push(reply);
      this.log(reply, this.stats());
      const left = origin == null ? 0 : Math.max(0, origin + (reply.seconds || 0) - ac.currentTime);
      setTimeout(() => { if (this.active && this.abort === controller) this.status("listening: your turn"); }, left * 1000);
    } catch (err) {
      if (err.name === "AbortError") return;
      this.status(`error: ${err.message}`);
    }
  }

  stats() {
    const xs = [...this.latencies].sort((a, b) => a - b);
    const q = (p) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] : null);
    return { n: xs.length, p50: q(0.5), p95: q(0.95) };
  }
}
