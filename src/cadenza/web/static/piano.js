// The on-screen piano and every way to play it: mouse and touch (pointer events), the computer
// keyboard (a w s e d f t g y h u j k o l p ; ' from C; z / x shift an octave), and a hardware
// keyboard through Web MIDI where the browser offers it. Each key pressed sounds at once and is
// reported to the listeners as note on/off with performance.now() times.

import { strike } from "./synth.js";

const KEYMAP = "awsedftgyhujkolp;'";
const BLACK = new Set([1, 3, 6, 8, 10]);
const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
export const noteName = (p) => NAMES[p % 12] + (Math.floor(p / 12) - 1);

export class Piano {
  constructor(el, { low = 48, octaves = 3 } = {}) {
    this.el = el;
    this.low = low;
    this.octaves = octaves;
    this.base = 60; // the computer keyboard's "a"
    this.listeners = [];
    this.voices = new Map();
    this.down = new Map(); // pitch -> source ("pointer-3", "key-a", "midi")
    this.build();
    this.bindKeys();
  }

  on(fn) { this.listeners.push(fn); }

  build() {
    this.el.innerHTML = "";
    this.el.setAttribute("role", "group");
    this.el.setAttribute("aria-label", "Piano keyboard");
    const whites = [];
    for (let p = this.low; p < this.low + 12 * this.octaves + 1; p++) {
      const key = document.createElement("div");
      key.className = BLACK.has(p % 12) ? "key black" : "key white";
      key.dataset.pitch = p;
      key.title = noteName(p);
      if (!BLACK.has(p % 12)) whites.push(key);
      this.el.appendChild(key);
    }
    const w = 100 / whites.length;
    let i = 0;
    for (const key of this.el.children) {
      const p = +key.dataset.pitch;
      if (BLACK.has(p % 12)) {
        key.style.left = `calc(${i * w}% - ${w * 0.3}%)`;
        key.style.width = `${w * 0.6}%`;
      } else {
        key.style.left = `${i * w}%`;
        key.style.width = `${w}%`;
        if (p % 12 === 0) key.innerHTML = `<span>${noteName(p)}</span>`;
        i++;
      }
    }
    const pointers = new Map();
    this.el.addEventListener("pointerdown", (e) => {
      const p = this.pitchAt(e);
      if (p == null) return;
      e.preventDefault();
      this.el.setPointerCapture?.(e.pointerId);
      pointers.set(e.pointerId, p);
      this.press(p, this.velocityAt(e), `pointer-${e.pointerId}`);
    });
    this.el.addEventListener("pointermove", (e) => {
      if (!pointers.has(e.pointerId)) return;
      const p = this.pitchAt(e);
      if (p != null && p !== pointers.get(e.pointerId)) { // glissando
        this.release(pointers.get(e.pointerId));
        pointers.set(e.pointerId, p);
        this.press(p, this.velocityAt(e), `pointer-${e.pointerId}`);
      }
    });
    const up = (e) => {
      if (!pointers.has(e.pointerId)) return;
      this.release(pointers.get(e.pointerId));
      pointers.delete(e.pointerId);
    };
    ["pointerup", "pointercancel", "lostpointercapture"].forEach((t) => this.el.addEventListener(t, up));
  }

  pitchAt(e) {
    const hit = document.elementsFromPoint(e.clientX, e.clientY).find((x) => x.classList?.contains("key") && this.el.contains(x));
    return hit ? +hit.dataset.pitch : null;
  }

  velocityAt(e) { // lower on the key: louder, as on a real keyboard
    const key = document.elementsFromPoint(e.clientX, e.clientY).find((x) => x.classList?.contains("key"));
    if (!key) return 90;
    const r = key.getBoundingClientRect();
    return Math.round(60 + 60 * Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)));
  }

  bindKeys() {
    window.addEventListener("keydown", (e) => {
      if (e.repeat || e.ctrlKey || e.metaKey || e.altKey) return;
      if (["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement?.tagName)) return;
      const k = e.key.toLowerCase();
      if (k === "z" || k === "x") {
        this.base = Math.max(24, Math.min(96, this.base + (k === "z" ? -12 : 12)));
        this.listeners.forEach((f) => f({ type: "octave", base: this.base }));
        return;
      }
      const i = KEYMAP.indexOf(k);
      if (i < 0) return;
      e.preventDefault();
      this.press(this.base + i, 90, `key-${k}`);
    });
    window.addEventListener("keyup", (e) => {
      const i = KEYMAP.indexOf(e.key.toLowerCase());
      if (i >= 0) this.release(this.base + i);
    });
    window.addEventListener("blur", () => [...this.down.keys()].forEach((p) => this.release(p)));
  }

  async connectMidi(status) {
    if (!navigator.requestMIDIAccess) { status("Web MIDI: not offered by this browser"); return; }
    try {
      const access = await navigator.requestMIDIAccess();
      const hook = () => {
        const names = [];
        for (const input of access.inputs.values()) {
          input.onmidimessage = (m) => this.midiMessage(m.data);
          names.push(input.name);
        }
        status(names.length ? `Web MIDI: ${names.join(", ")}` : "Web MIDI: no keyboard connected");
      };
      access.onstatechange = hook;
      hook();
    } catch (err) {
      status(`Web MIDI: not available here (${err.message || "refused"})`);
    }
  }

  midiMessage([status, pitch, vel]) {
    const kind = status & 0xf0;
    if (kind === 0x90 && vel > 0) this.press(pitch, vel, "midi");
    else if (kind === 0x80 || (kind === 0x90 && vel === 0)) this.release(pitch);
  }

  press(pitch, velocity = 90, source = "api") {
    if (this.down.has(pitch)) this.release(pitch);
    this.down.set(pitch, source);
    this.voices.set(pitch, strike(pitch, velocity));
    this.keyEl(pitch)?.classList.add("down");
    const t = performance.now();
    this.listeners.forEach((f) => f({ type: "on", pitch, velocity, t }));
  }

  release(pitch) {
    if (!this.down.has(pitch)) return;
    this.down.delete(pitch);
    this.voices.get(pitch)?.stop();
    this.voices.delete(pitch);
    this.keyEl(pitch)?.classList.remove("down");
    const t = performance.now();
    this.listeners.forEach((f) => f({ type: "off", pitch, t }));
  }

  held() { return this.down.size; }

  keyEl(pitch) { return this.el.querySelector(`[data-pitch="${pitch}"]`); }

  flash(pitch, ms) { // show a reply note on the keys
    const k = this.keyEl(pitch);
    if (!k) return;
    k.classList.add("reply");
    setTimeout(() => k.classList.remove("reply"), Math.max(60, ms));
  }
}
