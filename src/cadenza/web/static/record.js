// Recording on the beat: a metronome at the tempo the player chose, a bar counted in, and the
// notes timed from the downbeat after the count-in, then quantised to a grid of the beat (on by
// default) so that what was played as quarters is written as quarters (issue #23).

import { audio, click } from "./synth.js";

const LEAD = 0.1; // seconds between pressing Record and the first click: time to schedule it

// Notes {start, duration} (seconds from the downbeat) placed on a grid of `step` seconds: each
// onset and end on the nearest step, a note at least one step long, and a note ending a step or
// less before the next onset held to it (a player lifts a key a little early; a score does not).
// With `barSeconds`, whole empty bars before the first note are dropped (a pickup keeps its bar).
export function quantise(notes, step, barSeconds = 0) {
  if (!notes.length || !(step > 0)) return notes;
  const q = notes.map((n) => ({ ...n, a: Math.round(n.start / step), b: Math.round((n.start + n.duration) / step) }));
  const onsets = [...new Set(q.map((n) => n.a))].sort((x, y) => x - y);
  let shift = 0;
  if (barSeconds > 0) {
    const perBar = Math.max(1, Math.round(barSeconds / step));
    shift = -Math.floor(Math.min(...onsets) / perBar) * perBar;
  }
  return q.map(({ a, b, ...n }) => {
    let end = Math.max(b, a + 1);
    const next = onsets.find((o) => o > a);
    if (next !== undefined && end < next && next - end <= 1) end = next;
    return { ...n, start: (a + shift) * step, duration: (end - a) * step };
  }).sort((x, y) => x.start - y.start || x.pitch - y.pitch);
}

// One recording: start() counts a bar in (with the metronome on) and keeps clicking until stop();
// event() takes the piano's note on/off events (performance.now() times).
export class Take {
  constructor() { this.clear(); this.ticks = 0; this.timer = null; }

  clear() { this.notes = []; this.open = new Map(); this.t0 = null; this.beat = 0.5; this.beats = 4; }

  // tempo: quarters a minute; metronome: click (and count in) or not; beats: a bar's beats
  start({ tempo = 100, metronome = true, beats = 4 } = {}) {
    this.clear();
    this.beat = 60 / tempo;
    this.beats = beats;
    this.metronome = metronome;
    if (!metronome) return; // timed from the first note
    const ac = audio();
    const lag = (ac.baseLatency || 0) + (ac.outputLatency || 0); // a click is heard this late; so is the player's answer to it
    const first = ac.currentTime + LEAD;
    this.t0 = performance.now() + (LEAD + beats * this.beat + lag) * 1000;
    let k = 0;
    const schedule = () => {
      while (first + k * this.beat < ac.currentTime + 0.15) {
        click(first + k * this.beat, k % beats === 0);
        k++;
        this.ticks++;
      }
    };
    schedule();
    this.timer = setInterval(schedule, 40);
  }

  stop() { clearInterval(this.timer); this.timer = null; }

  get rolling() { return this.t0 != null && performance.now() >= this.t0; } // the count-in is over
  get counting() { return this.metronome && this.timer != null && !this.rolling; }

  event(e) {
    if (e.type === "on") {
      if (this.t0 == null) this.t0 = e.t;
      this.open.set(e.pitch, { pitch: e.pitch, velocity: e.velocity, start: (e.t - this.t0) / 1000 });
    } else if (e.type === "off" && this.open.has(e.pitch)) {
      const n = this.open.get(e.pitch);
      this.open.delete(e.pitch);
      n.duration = Math.max(0.03, (e.t - this.t0) / 1000 - n.start);
      this.notes.push(n);
    }
  }

  // the notes as played (seconds from the downbeat, or from the first note without the metronome),
  // or quantised to `division` steps a beat (4: sixteenths, 3: triplet eighths, 2: eighths)
  result(division = 0) {
    if (!division) {
      const lo = Math.min(0, ...this.notes.map((n) => n.start)); // a note before the downbeat
      return this.notes.map((n) => ({ ...n, start: n.start - lo }));
    }
    return quantise(this.notes, this.beat / division, this.metronome ? this.beats * this.beat : 0);
  }

  get length() { return this.notes.length; }
  get seconds() { return this.notes.reduce((m, n) => Math.max(m, n.start + n.duration), 0); }
}
