"""How much faster Cadenza's MIDI encoder (symusic) is than a music21-based one (Clara's route).

Encodes piano-midi.de files to notewise text both ways and prints a table; writes
benchmarks/results/encode_speed.json. music21 is slow (seconds per file), so it runs on a
sample of files (``--music21-files``); the ratio is per file, on the same files.

    python benchmarks/encode_speed.py [--root ../shared/midi/piano-midi] [--music21-files 8]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cadenza.codecs import get_codec
from cadenza.music import read_midi
from cadenza.music.m21 import score_to_piece


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="../shared/midi/piano-midi")
    ap.add_argument("--music21-files", type=int, default=8)
    args = ap.parse_args()
    files = sorted(Path(args.root).rglob("*.mid"))
    if not files:
        raise SystemExit(f"no MIDI files under {args.root}")
    codec = get_codec("notewise")
    t0 = time.perf_counter()
    for f in files:
        codec.encode_piece(read_midi(f))
    fast_all = time.perf_counter() - t0

    from music21 import converter

    sample = files[:: max(1, len(files) // args.music21_files)][: args.music21_files]
    fast = slow = 0.0
    for f in sample:
        t = time.perf_counter()
        codec.encode_piece(read_midi(f))
        fast += time.perf_counter() - t
        t = time.perf_counter()
        codec.encode_piece(score_to_piece(converter.parse(str(f))))
        slow += time.perf_counter() - t
    res = {
        "files": len(files),
        "symusic_seconds_all_files": round(fast_all, 3),
        "symusic_ms_per_file": round(1000 * fast_all / len(files), 2),
        "sample_files": len(sample),
        "symusic_ms_per_file_sample": round(1000 * fast / len(sample), 2),
        "music21_ms_per_file_sample": round(1000 * slow / len(sample), 1),
        "speedup": round(slow / fast, 1),
    }
    print(f"{'encoder':<28}{'ms per file':>14}")
    print(f"{'symusic (Cadenza)':<28}{res['symusic_ms_per_file_sample']:>14.2f}")
    print(f"{'music21 (Clara-style)':<28}{res['music21_ms_per_file_sample']:>14.1f}")
    print(f"speed-up on the same {len(sample)} files: {res['speedup']}x; all {len(files)} files with symusic: {fast_all:.2f} s")
    out = Path(__file__).parent / "results" / "encode_speed.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
