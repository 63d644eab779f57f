// Jam mode (call and response). The page listens to the piano; once every key is up and
// nothing is played for `gap` seconds, the reply's notes are synthesised as they stream in from
// /api/jam (JSON lines). The phrase is sent when half the pause has passed (EARLY), and the
// reply sampled meanwhile is held silent until it does, so that the first note sounds as soon
// as the pause is detected rather than a round trip and a model's first steps later; a key
// played before then drops that reply unheard. Playing again cuts a reply short and starts the
// next phrase. Each reply's time to first note (pause detected -> first note scheduled to
// sound) is kept in `latencies` and shown. Each phrase, yours and the model's, is kept in
// `history` (notes in seconds from the phrase's start, `at` when it began) and handed to `shown`
// as it sounds, note by note, for the page to draw and to offer as MIDI or as a prompt.

import { audio, hush, strike } from "./synth.js";

const EARLY = 0.5; // the share of the pause after which the phrase is sent: a pause shorter than that between notes sends nothing
const LOOKAHEAD = 0.01; // seconds between a note's arrival and its sound: scheduling margin (Web Audio starts a note due now within a render quantum, 3 ms)

export class Jam {
  constructor(piano, { status, log, settings, shown = () => {} }) {
    this.shown = shown; // (entry, note or null): a phrase begun, or a note of it sounding
    this.history = [];
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
    this.early = null;
    this.pending = null; // the reply asked for before the pause ran out, held silent
    this.playing = null; // the reply sounding
    piano.on((e) => this.event(e));
  }

  start() {
    audio();
    fetch("/api/health").catch(() => {}); // the connection the first reply will use, opened now
    this.active = true;
    this.phrase = [];
    this.status("listening: play a phrase, then pause");
  }

  stop() {
    this.active = false;
    clearTimeout(this.timer);
    clearTimeout(this.early);
    this.cut();
    this.status("off");
  }

  event(e) {
    if (!this.active || (e.type !== "on" && e.type !== "off")) return;
    clearTimeout(this.timer);
    clearTimeout(this.early);
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
      this.early = setTimeout(() => (this.pending = new Reply(this, this.phrase.slice(-400), this.settings())), EARLY * gap * 1000);
      this.timer = setTimeout(() => this.respond(performance.now(), releasedAt), gap * 1000);
    }
  }

  cut() {
    this.pending?.drop();
    this.pending = null;
    this.playing?.drop();
    this.playing = null;
    hush(this.voices);
  }

  // The pause has run out: sound the reply asked for early, or ask now (none was, or it failed).
  respond(pausedAt, releasedAt = pausedAt) {
    let reply = this.pending;
    this.pending = null;
    const phrase = this.phrase.slice(-400);
    this.phrase = [];
    if (!reply || reply.failed || reply.phrase.length !== phrase.length) {
      reply?.drop();
      reply = new Reply(this, phrase, this.settings());
    }
    this.history.push(reply.yours);
    this.shown(reply.yours, null);
    this.playing = reply;
    this.status("replying…");
    reply.sound(pausedAt, releasedAt);
  }

  // a reply has ended (or failed once it sounded)
  finished(reply, err = null) {
    if (err) {
      if (err.name !== "AbortError") this.status(`error: ${err.message}`);
      return;
    }
    if (reply.record.first != null) this.latencies.push(reply.record.first);
    this.replies.push(reply.record);
    this.log(reply.record, this.stats());
    const ac = audio();
    const left = reply.origin == null ? 0 : Math.max(0, reply.origin + (reply.record.seconds || 0) - ac.currentTime);
    setTimeout(() => { if (this.active && this.playing === reply) this.status("listening: your turn"); }, left * 1000);
  }

  stats() {
    const xs = [...this.latencies].sort((a, b) => a - b);
    const q = (p) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] : null);
    return { n: xs.length, p50: q(0.5), p95: q(0.95) };
  }
}

// One reply: asked for at once, its events kept until sound() and played as they come after.
class Reply {
  constructor(jam, phrase, s) {
    this.jam = jam;
    this.phrase = phrase;
    const t0 = Math.min(...phrase.map((n) => n.start));
    this.yours = { who: "you", at: t0, notes: phrase.map((n) => ({ ...n, start: +(n.start - t0).toFixed(4) })) };
    this.theirs = { who: "model", at: null, notes: [] };
    this.sounding = new Map(); // pitch -> the reply's note begun
    this.record = { notes: 0, first: null, fromRelease: null, server: null, wait: null, headers: null, early: false };
    this.waiting = []; // events come before sound()
    this.live = false;
    this.failed = false;
    this.dropped = false;
    this.origin = null;
    this.controller = new AbortController();
    this.asked = performance.now();
    this.run(s);
  }

  drop() {
    this.dropped = true;
    this.controller.abort();
    if (this.origin != null) { // cut short by the player: keep what was heard
      const heard = audio().currentTime - this.origin;
      this.theirs.notes = this.theirs.notes.filter((n) => n.start < heard);
      for (const n of this.theirs.notes) if (n.duration == null || n.start + n.duration > heard) n.duration = Math.max(0.03, heard - n.start);
    }
  }

  sound(pausedAt, releasedAt) {
    this.pausedAt = pausedAt;
    this.releasedAt = releasedAt;
    this.live = true;
    this.record.early = this.asked < pausedAt;
    if (this.headersAt != null) this.record.headers = this.headersAt - pausedAt; // below 0: the server had begun before the pause ran out
    for (const ev of this.waiting.splice(0)) this.handle(ev);
    if (this.ended) this.jam.finished(this, this.error);
  }

  async run(s) {
    try {
      const res = await fetch("/api/jam", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ notes: this.yours.notes, model: s.model, bars: s.bars, temperature: s.temperature, top_p: s.top_p }),
        signal: this.controller.signal,
      });
      this.headersAt = performance.now();
      if (this.live) this.record.headers = this.headersAt - this.pausedAt;
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
          if (ev.type === "error") throw new Error(ev.message);
          if (this.live) this.handle(ev); else this.waiting.push(ev);
        }
      }
      this.ended = true;
      if (this.live) this.jam.finished(this);
    } catch (err) {
      this.failed = !this.live; // asked early and failed: asked again when the pause runs out
      this.ended = true;
      this.error = err;
      if (this.live) this.jam.finished(this, err);
    }
  }

  handle(ev) {
    if (this.dropped) return;
    const ac = audio();
    const jam = this.jam;
    if (ev.type === "on") {
      if (this.origin == null) {
        this.origin = ac.currentTime + LOOKAHEAD;
        const now = performance.now();
        this.record.first = now - this.pausedAt + LOOKAHEAD * 1000;
        this.record.fromRelease = now - this.releasedAt + LOOKAHEAD * 1000; // the pause setting included
        this.record.server = ev.server_ms;
        this.record.wait = ev.wait_ms;
        this.theirs.at = now / 1000 + LOOKAHEAD;
        jam.history.push(this.theirs);
      }
      this.record.notes++;
      const at = Math.max(this.origin + ev.time, ac.currentTime);
      jam.voices.get(ev.pitch)?.stop(at);
      jam.voices.set(ev.pitch, strike(ev.pitch, ev.velocity, at));
      const note = { pitch: ev.pitch, velocity: ev.velocity, start: ev.time, duration: null };
      this.sounding.set(ev.pitch, note);
      this.theirs.notes.push(note);
      setTimeout(() => { if (!this.dropped) { jam.piano.flash(ev.pitch, 150); jam.shown(this.theirs, note); } }, (at - ac.currentTime) * 1000);
    } else if (ev.type === "off") {
      const v = jam.voices.get(ev.pitch);
      if (v) { v.stop(this.origin + ev.time); jam.voices.delete(ev.pitch); }
      const n = this.sounding.get(ev.pitch);
      if (n) { n.duration = Math.max(0.03, ev.time - n.start); this.sounding.delete(ev.pitch); }
    } else if (ev.type === "end") {
      this.record.seconds = ev.seconds;
      for (const n of this.sounding.values()) n.duration = Math.max(0.03, (ev.seconds || n.start + 0.5) - n.start);
    }
  }
}
