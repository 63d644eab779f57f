// A small piano-like synthesiser on Web Audio: each note is two detuned oscillators through a
// low-pass filter with a struck envelope (fast attack, exponential decay, short release). It
// plays the on-screen piano at once and jam replies as their notes stream in.

let ctx = null;
let master = null;

export function audio() {
  if (!ctx) {
    ctx = new (window.AudioContext || window.webkitAudioContext)({ latencyHint: "interactive" });
    master = ctx.createDynamicsCompressor();
    master.threshold.value = -12;
    const gain = ctx.createGain();
    gain.gain.value = 0.6;
    master.connect(gain).connect(ctx.destination);
  }
  if (ctx.state === "suspended") ctx.resume();
  return ctx;
}

const hz = (pitch) => 440 * Math.pow(2, (pitch - 69) / 12);

// A sounding voice: stop(at) releases it (at: AudioContext time, default now).
export function strike(pitch, velocity = 90, at = 0) {
  const ac = audio();
  const t = Math.max(at || 0, ac.currentTime);
  const level = 0.12 + 0.28 * (velocity / 127);
  const env = ac.createGain();
  env.gain.setValueAtTime(0, t);
  env.gain.linearRampToValueAtTime(level, t + 0.005);
  env.gain.setTargetAtTime(level * 0.35, t + 0.01, 0.35 + 60 / pitch / 10);
  const filter = ac.createBiquadFilter();
  filter.type = "lowpass";
  filter.frequency.setValueAtTime(Math.min(12000, hz(pitch) * 8), t);
  filter.frequency.setTargetAtTime(hz(pitch) * 3, t + 0.02, 0.5);
  const oscs = [["triangle", 1, 0], ["sine", 2, 0.35], ["sawtooth", 1, 0.06]].map(([type, mult, g]) => {
    const o = ac.createOscillator();
    o.type = type;
    o.frequency.setValueAtTime(hz(pitch) * mult, t);
    o.detune.setValueAtTime((Math.random() - 0.5) * 6, t);
    if (g) {
      const gg = ac.createGain();
      gg.gain.value = g;
      o.connect(gg).connect(filter);
    } else {
      o.connect(filter);
    }
    o.start(t);
    return o;
  });
  filter.connect(env).connect(master);
  let stopped = false;
  return {
    when: t,
    stop(at2 = 0) {
      if (stopped) return;
      stopped = true;
      const e = Math.max(at2 || 0, ac.currentTime, t + 0.02);
      env.gain.cancelScheduledValues(e);
      env.gain.setTargetAtTime(0, e, 0.08);
      oscs.forEach((o) => o.stop(e + 0.6));
    },
  };
}

// Silence everything scheduled through `voices` (a Map or array of voices) at once.
export function hush(voices) {
  for (const v of voices.values ? voices.values() : voices) v.stop();
  if (voices.clear) voices.clear();
}
