// The page's piano on Web Audio. Once loaded (piano(), at the first sound), each note is the
// SoundFont piano the WAVs use: the server's sample nearest in pitch (/api/piano, every third
// semitone), pitch-shifted by its playback rate, with a short release. Until then, or where the
// samples cannot be had, a small synthesiser: detuned oscillators through a low-pass filter with
// a struck envelope. It plays the on-screen piano at once, jam replies as their notes stream in,
// and the player.

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
  if (!samples.loading) loadPiano();
  return ctx;
}

// pitch -> AudioBuffer of the sampled pitches; `ready` once every one is decoded
const samples = { loading: null, buffers: new Map(), pitches: [], ready: false };

function loadPiano() {
  samples.loading = (async () => {
    const index = await (await fetch("/api/piano")).json();
    await Promise.all(index.pitches.map(async (p) => {
      const data = await (await fetch(index.url.replace("{pitch}", p))).arrayBuffer();
      samples.buffers.set(p, await ctx.decodeAudioData(data));
    }));
    samples.pitches = index.pitches;
    samples.ready = true;
  })().catch(() => { samples.ready = false; }); // the oscillators stay
  return samples.loading;
}

// Resolves when the sampled piano is in use (false: it could not be loaded).
export async function pianoReady() { audio(); await samples.loading; return samples.ready; }
export const sampled = () => samples.ready;

function sampledVoice(ac, pitch, velocity, t) {
  const base = samples.pitches.reduce((a, b) => (Math.abs(b - pitch) < Math.abs(a - pitch) ? b : a));
  const src = ac.createBufferSource();
  src.buffer = samples.buffers.get(base);
  src.playbackRate.value = Math.pow(2, (pitch - base) / 12);
  const env = ac.createGain();
  const level = 0.25 + 0.75 * Math.pow(velocity / 127, 1.5);
  env.gain.setValueAtTime(level, t);
  src.connect(env).connect(master);
  src.start(t);
  let stopped = false;
  return {
    when: t,
    stop(at2 = 0) {
      if (stopped) return;
      stopped = true;
      const e = Math.max(at2 || 0, ac.currentTime, t + 0.02);
      env.gain.cancelScheduledValues(e);
      env.gain.setValueAtTime(level, e);
      env.gain.setTargetAtTime(0, e, 0.12);
      src.stop(e + 0.8);
    },
  };
}

const hz = (pitch) => 440 * Math.pow(2, (pitch - 69) / 12);

// A sounding voice: stop(at) releases it (at: AudioContext time, default now).
export function strike(pitch, velocity = 90, at = 0) {
  const ac = audio();
  const t = Math.max(at || 0, ac.currentTime);
  if (samples.ready) return sampledVoice(ac, pitch, velocity, t);
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

// A metronome click at `at` (AudioContext time); `accent` for the bar's first beat.
export function click(at, accent = false) {
  const ac = audio();
  const o = ac.createOscillator();
  const g = ac.createGain();
  o.frequency.value = accent ? 1760 : 1320;
  g.gain.setValueAtTime(0, at);
  g.gain.linearRampToValueAtTime(accent ? 0.5 : 0.3, at + 0.002);
  g.gain.exponentialRampToValueAtTime(0.001, at + 0.06);
  o.connect(g).connect(master);
  o.start(at);
  o.stop(at + 0.08);
}

// Silence everything scheduled through `voices` (a Map or array of voices) at once.
export function hush(voices) {
  for (const v of voices.values ? voices.values() : voices) v.stop();
  if (voices.clear) voices.clear();
}
