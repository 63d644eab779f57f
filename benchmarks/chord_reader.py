"""How fast Cadenza's chord reader is, and how often it agrees with human Roman-numeral analyses.

Speed: every Bach chorale of ../shared/corpora/bach-370-chorales read with ``kern_to_piece``
(without music21), one chord a bar and two a bar; reading the files is not timed. Agreement:
music21's corpus ships RomanText analyses (Bach chorales by Andrew Jones, Monteverdi madrigals
by Dmitri Tymoczko) beside the scores; for every Roman numeral, the reader's chord over the
numeral's span is compared with the numeral's root, and with root and quality (numerals whose
chord is none of the reader's qualities, such as an augmented sixth, count as misses there).
Some pairs are not the same music: a score in another key than the one analysed, or another
version; :func:`label_fit` finds them without asking the reader, so the table gives the figures
over all pairs and over those whose labels fit their notes. Prints a table; writes
benchmarks/results/chord_reader.json.

    python benchmarks/chord_reader.py [--kern ../shared/corpora/bach-370-chorales] [--max-analyses 0]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from pathlib import Path

from cadenza.music.chord_names import QUALITIES
from cadenza.music.harmony import bar_chords, bars, read_chords
from cadenza.music.piece import Piece

_QUALITY_OF = {frozenset(v[1]): q for q, v in QUALITIES.items()}


def analyses() -> list[tuple[Path, Path]]:
    """(RomanText analysis, its score) pairs in music21's corpus."""
    from music21 import common

    root = Path(common.getCorpusFilePath())
    out = []
    for rn in sorted(root.glob("**/*.rntxt")):
        text = rn.read_text(encoding="utf-8", errors="replace")
        bwv = re.search(r"^BWV:\s*(\S+)", text, re.M)
        if bwv:  # "248(2).12" -> bwv248.12-2, "41.6s" -> bwv41.6
            m = re.fullmatch(r"(\d+)(?:\((\d+)\))?(?:\.(\d+))?s?", bwv.group(1))
            stem = f"bwv{m.group(1)}" + (f".{m.group(3)}" if m.group(3) else "") + (f"-{m.group(2)}" if m.group(2) else "") if m else ""
            folder = root / "bach"
        else:
            stem, folder = rn.stem, rn.parent
        score = next((folder / f"{stem}{s}" for s in (".mxl", ".xml", ".krn") if stem and (folder / f"{stem}{s}").is_file()), None)
        if score is not None:
            out.append((rn, score))
    return out


def labelled_spans(rntxt: Path, score_path: Path) -> tuple[Piece, list[tuple[float, float, int, str | None, bool]], int]:
    """The score as a Piece, each Roman numeral as (start, end, root, quality or None, first in
    its bar) in the score's quarters, and how many numerals were left out (a bar the score does
    not have)."""
    from music21 import converter, roman, stream

    from cadenza.music.m21 import parse_text, score_to_piece
    from cadenza.music.reader import read_notation

    score = parse_text(read_notation(score_path), "humdrum" if score_path.suffix == ".krn" else "musicxml")
    piece = score_to_piece(score, score_path.stem)
    bar_at: dict[int, tuple[float, float]] = {}  # number -> (start, length); a bar split at a fermata is one
    for m in score.parts[0].getElementsByClass(stream.Measure):
        start, length = bar_at.get(m.number, (float(m.offset), 0.0))
        bar_at[m.number] = (start, length + float(m.duration.quarterLength))
    analysis = converter.parseData(rntxt.read_text(encoding="utf-8", errors="replace"), format="romanText")
    spans, skipped = [], 0
    for am in analysis.parts[0].getElementsByClass(stream.Measure):
        bar_start, length = bar_at.get(am.number, (None, 0.0))
        numerals = list(am.getElementsByClass(roman.RomanNumeral))
        if bar_start is None or (abs(bar_start - float(am.offset)) > 1e-6 and abs(length - float(am.duration.quarterLength)) > 1e-6):
            skipped += len(numerals)  # neither where the score has that bar nor as long
            continue
        for rn in numerals:
            start = bar_start + float(rn.offset)
            end = min(start + float(rn.quarterLength), bar_start + length)
            root = rn.root().pitchClass
            quality = _QUALITY_OF.get(frozenset((pc - root) % 12 for pc in rn.pitchClasses))
            if end > start:
                spans.append((start, end, root, quality, rn is numerals[0]))
            else:
                skipped += 1
    return piece, spans, skipped


def label_fit(piece: Piece, spans: list, shift: int) -> float:
    """The share of the notes' duration inside the spans that the labelled chords (moved up
    ``shift`` semitones) hold: about 0.9 where score and analysis match, whatever the reader
    says, so it finds a score in another key or another version than the one analysed."""
    notes = [(n.start, n.start + n.duration, n.pitch % 12) for t in piece.tracks for n in t.notes]
    inside = total = 0.0
    for s, e, root, quality, _ in spans:
        if quality is None:
            continue
        chord = {(root + shift + i) % 12 for i in QUALITIES[quality][1]}
        for a, b, pc in notes:
            if min(b, e) > max(a, s):
                total += min(b, e) - max(a, s)
                inside += (min(b, e) - max(a, s)) * (pc in chord)
    return inside / total if total else 0.0


def agreement(pairs: list[tuple[Path, Path]], fit: float = 0.8) -> dict:
    """Agreement figures over ``pairs`` (see the module's docstring), per corpus, in all, and
    over the pairs whose labels fit their score (:func:`label_fit` at least ``fit``, after
    moving the labels into the score's key where it was transposed)."""
    rows: dict[str, Counter] = {}
    confusions: Counter = Counter()
    notes: dict[str, list[str]] = {"transposed": [], "misfit": []}
    for rn, score in pairs:
        piece, spans, skipped = labelled_spans(rn, score)
        fits = [label_fit(piece, spans, t) for t in range(12)]
        shift = max(range(12), key=fits.__getitem__)
        corpus = "bach" if "bach" in rn.parts else rn.parent.name
        if fits[shift] < fit:
            notes["misfit"].append(f"{rn.name} ({score.name}, fit {fits[shift]:.2f})")
        elif shift:
            notes["transposed"].append(f"{rn.name} ({score.name}, labels +{shift})")
        got = read_chords(piece, [span[:2] for span in spans])
        for group in (corpus, f"{corpus} (labels fit)") if fits[shift] >= fit else (corpus,):
            c = rows.setdefault(group, Counter())
            c["pieces"] += 1
            c["skipped"] += skipped
            moved = shift if group.endswith("(labels fit)") else 0
            for (_, _, root, quality, downbeat), chord in zip(spans, got):
                root = (root + moved) % 12
                for key in ("", "downbeat_") if downbeat else ("",):
                    c[key + "spans"] += 1
                    c[key + "root"] += chord.root == root
                    c[key + "root_quality"] += chord.root == root and chord.quality == quality
                c["in_vocabulary"] += quality is not None
                c["no_chord"] += chord.root is None
                if group.endswith("(labels fit)") and quality is not None and chord.root == root and chord.quality != quality:
                    confusions[f"{quality} read as {chord.quality}"] += 1
    fitting = [v for k, v in rows.items() if k.endswith("(labels fit)")]
    out = {k: _rates(v) for k, v in sorted(rows.items())}
    out["all (labels fit)"] = _rates(sum(fitting, Counter()))
    out["all"] = _rates(sum((v for k, v in rows.items() if not k.endswith("(labels fit)")), Counter()))
    out["top_quality_confusions"] = dict(confusions.most_common(8))
    return out | notes


def _rates(c: Counter) -> dict:
    pct = lambda a, b: round(100 * c[a] / max(c[b], 1), 1)  # noqa: E731
    return dict(c) | {"root_pct": pct("root", "spans"), "root_quality_pct": pct("root_quality", "spans"),
                      "root_quality_in_vocabulary_pct": pct("root_quality", "in_vocabulary"),
                      "downbeat_root_pct": pct("downbeat_root", "downbeat_spans"), "downbeat_root_quality_pct": pct("downbeat_root_quality", "downbeat_spans")}


def speed(kern_root: Path) -> dict:
    """Bars a second over every kern file under ``kern_root`` (empty when there is none)."""
    from cadenza.music.humdrum.to_piece import kern_to_piece

    files = sorted(kern_root.glob("*.krn")) if kern_root.is_dir() else []
    if not files:
        return {}
    pieces = [kern_to_piece(f.read_text(encoding="utf-8", errors="replace"), f.stem) for f in files]
    out = {"pieces": len(pieces)}
    for per_bar in (1, 2):
        t0 = time.perf_counter()
        n = sum(len(bar_chords(p, per_bar)) for p in pieces)
        dt = time.perf_counter() - t0
        out[f"per_bar_{per_bar}"] = {"spans": n, "seconds": round(dt, 3), "spans_per_second": round(n / dt)}
    out["bars"] = sum(len(bars(p)) for p in pieces)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kern", default="../shared/corpora/bach-370-chorales")
    ap.add_argument("--max-analyses", type=int, default=0, help="0: every analysis music21 ships")
    args = ap.parse_args()
    res = {"speed": speed(Path(args.kern))}
    if not res["speed"]:
        print(f"no kern files under {args.kern}: speed not measured")
    pairs = analyses()[: args.max_analyses or None]
    t0 = time.perf_counter()
    res["agreement"] = agreement(pairs)
    res["agreement_seconds"] = round(time.perf_counter() - t0, 1)

    if res["speed"]:
        s = res["speed"]
        print(f"{'speed (' + str(s['pieces']) + ' chorales)':<34}{'spans':>8}{'seconds':>10}{'spans/s':>10}")
        for k in ("per_bar_1", "per_bar_2"):
            print(f"{k:<34}{s[k]['spans']:>8}{s[k]['seconds']:>10.3f}{s[k]['spans_per_second']:>10}")
    head = f"{'agreement with RomanText':<26}{'pieces':>7}{'spans':>7}{'root %':>8}{'root+q %':>10}{'in-vocab %':>12}{'N':>5}{'bar 1st root/+q %':>19}"
    print("\n" + head)
    for name, r in res["agreement"].items():
        if isinstance(r, dict) and "spans" in r:
            first = f"{r['downbeat_root_pct']}/{r['downbeat_root_quality_pct']}"
            print(f"{name:<26}{r['pieces']:>7}{r['spans']:>7}{r['root_pct']:>8}{r['root_quality_pct']:>10}{r['root_quality_in_vocabulary_pct']:>12}{r['no_chord']:>5}{first:>19}")
    print("right root, other quality:", ", ".join(f"{k} {v}" for k, v in res["agreement"]["top_quality_confusions"].items()))
    for k in ("transposed", "misfit"):
        print(f"{k}: {', '.join(res['agreement'][k]) or 'none'}")
    out = Path(__file__).parent / "results" / "chord_reader.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
