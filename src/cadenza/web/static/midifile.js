// Played notes -> a Standard MIDI File (format 0, one piano track) the server can continue.
// Notes are {pitch, start, duration, velocity} in seconds; the file's tempo is `qpm`.

const PPQ = 480;

function varLen(n) {
  const bytes = [n & 0x7f];
  while ((n >>= 7)) bytes.unshift((n & 0x7f) | 0x80);
  return bytes;
}

export function notesToMidi(notes, qpm = 120) {
  const tick = (s) => Math.max(0, Math.round((s * qpm * PPQ) / 60));
  const events = [];
  for (const n of notes) {
    const on = tick(n.start);
    const off = Math.max(on + 1, tick(n.start + n.duration));
    events.push([on, 1, 0x90, n.pitch, Math.max(1, Math.min(127, n.velocity || 80))]);
    events.push([off, 0, 0x80, n.pitch, 0]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[3] - b[3]);
  const us = Math.round(60_000_000 / qpm);
  const track = [0, 0xff, 0x51, 3, (us >> 16) & 255, (us >> 8) & 255, us & 255, 0, 0xff, 0x58, 4, 4, 2, 24, 8, 0, 0xc0, 0];
  let now = 0;
  for (const [t, , status, pitch, vel] of events) {
    track.push(...varLen(t - now), status, pitch, vel);
    now = t;
  }
  track.push(0, 0xff, 0x2f, 0);
  const len = track.length;
  const head = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, PPQ >> 8, PPQ & 255];
  const th = [0x4d, 0x54, 0x72, 0x6b, (len >>> 24) & 255, (len >> 16) & 255, (len >> 8) & 255, len & 255];
  return new Blob([new Uint8Array([...head, ...th, ...track])], { type: "audio/midi" });
}
