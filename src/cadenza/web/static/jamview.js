// What a jam looks like: the last exchange drawn as it sounds (your phrase in amber, the reply in
// blue, each note appearing as it is heard), and the history of phrases, each of which, or the
// whole jam as it was played, can be saved as a MIDI file or made the prompt of a generation.

import { notesToMidi } from "./midifile.js";

const COLOURS = { you: "#e9b949", model: "#2f5d9e" };

export class JamView {
  // canvas: the roll; list: the history's element; usePrompt(blob, name, notes, label)
  constructor(canvas, list, usePrompt) {
    this.canvas = canvas;
    this.list = list;
    this.usePrompt = usePrompt;
    this.exchange = []; // [entry, ...] drawn: your phrase, then the reply
    this.entries = [];
  }

  // a phrase begun (note null) or one of its notes sounding
  shown(entry, note) {
    if (note == null && entry.who === "you") { this.exchange = [entry]; this.add(entry); }
    else if (!this.exchange.includes(entry)) { this.exchange.push(entry); this.add(entry); }
    entry.refresh?.();
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const w = (c.width = c.clientWidth || 800);
    const g = c.getContext("2d");
    g.clearRect(0, 0, w, c.height);
    const t0 = this.exchange[0]?.at ?? 0;
    const spans = this.exchange.flatMap((e) => e.notes.map((n) => [e, n]));
    if (!spans.length) return;
    const when = (e, n) => (e.at ?? t0) - t0 + n.start;
    const end = Math.max(4, ...spans.map(([e, n]) => when(e, n) + (n.duration ?? 0.3)));
    const pitches = spans.map(([, n]) => n.pitch);
    const lo = Math.min(...pitches) - 2, hi = Math.max(...pitches) + 2;
    const h = c.height / (hi - lo + 1);
    for (const [e, n] of spans) {
      g.fillStyle = COLOURS[e.who];
      g.fillRect((when(e, n) / end) * (w - 4) + 2, c.height - (n.pitch - lo + 1) * h, Math.max(3, ((n.duration ?? 0.3) / end) * (w - 4) - 1), Math.max(3, h - 1));
    }
    this.drawn = spans.length; // notes on the roll (a test reads it)
  }

  add(entry) {
    this.entries.push(entry);
    const row = document.createElement("li");
    row.className = entry.who;
    const label = document.createElement("span");
    const k = this.entries.filter((e) => e.who === entry.who).length;
    const describe = () => `${entry.who === "you" ? "You" : "Model"}, phrase ${k}: ${entry.notes.length} notes`;
    label.textContent = describe();
    row.append(label, this.button("Save MIDI", () => this.save([entry], `jam-${entry.who}-${k}.mid`)),
      this.button("Use as prompt", () => this.prompt([entry], `${entry.who === "you" ? "your" : "the model's"} phrase ${k}`)));
    this.list.prepend(row);
    entry.refresh = () => (label.textContent = describe());
    this.list.hidden = false;
  }

  button(text, fn) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.onclick = fn;
    return b;
  }

  // entries laid out as they were played (seconds from the first's start)
  notes(entries) {
    const t0 = Math.min(...entries.map((e) => e.at ?? Infinity));
    return entries.flatMap((e) => e.notes.map((n) => ({ ...n, start: (e.at ?? t0) - t0 + n.start, duration: n.duration ?? 0.25 })));
  }

  save(entries, name) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(notesToMidi(this.notes(entries)));
    a.download = name;
    a.click();
  }

  prompt(entries, what) {
    const notes = this.notes(entries);
    this.usePrompt(notesToMidi(notes), "jam.mid", notes, `Jam: ${what}, ${notes.length} notes`);
  }

  whole(kind) { return kind === "save" ? this.save(this.entries, "jam.mid") : this.prompt(this.entries, "the whole jam"); }
}
