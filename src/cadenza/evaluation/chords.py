"""Does the model follow the chords it is given? (``evaluate --chords``, issue 22.)

``n`` samples are generated with the progression asked for and ``n`` without it, from the same
seeds; every bar of each is read back by the chord reader (:mod:`cadenza.music.harmony`, the
same reader that labelled the training text) and compared with the chord asked for that bar
(the progression repeating, as the sampler repeats it). The figure is the share of bars whose
chord (root and quality; the bass is not asked) is the one asked for, and of bars whose root
is; the unconditioned samples give the rate a model reaches by chance and habit. A bar of two
chords (``F C7``) counts when it reads as either. Kern samples are also checked as ``evaluate``
checks validity (music21 parses them; bars that fill the metre), so a chord is not bought with
broken bars.

With ``strengths`` the progression is asked again at each chord guidance strength
(``--chord-strength``, a sampler control; 0: the model alone, which only a model with chord
tokens takes). The reader is not told the strength: it reads the notes. Beside each row, two
quality proxies from ``evaluate``'s features, so the price of guidance shows: the share of
consonant vertical intervals and the notes a bar.

:func:`heldout_progressions` asks whether the chords help prediction, not just the label: the
held-out pieces' bits per note with their own chord lines given and without.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Callable

from cadenza.generation.request import Request
from cadenza.music.harmony import Chord, bars, read_chords


def sample_bars(path: Path) -> tuple[Any, list[tuple[float, float]]]:
    """(piece, bar spans in quarters) of a generated file: a kern file's own barlines, a MIDI
    file's bars from its time signatures. Bars without music are left out."""
    path = Path(path)
    if path.suffix == ".krn":
        from cadenza.music.humdrum.to_piece import kern_bars

        piece, times = kern_bars(path.read_text(encoding="utf-8"))
        ends = times[1:] + [piece.end]
        spans = [(a, b) for a, b in zip(times, ends) if b > a + 1e-9]
    else:
        from cadenza.music import read_midi

        piece = read_midi(path)
        spans = [(b.start, b.start + b.length) for b in bars(piece)]
    return piece, spans


def bar_agreement(path: Path, progression: list[tuple[Chord, ...]], read: tuple[Any, list[tuple[float, float]]] | None = None) -> dict[str, int]:
    """Bars of one sample read back, and how many carry the chord (and the root) asked for."""
    piece, spans = read or sample_bars(path)
    spans = [s for s in spans if s[0] < piece.end - 1e-9]
    got = read_chords(piece, [(a, b, a) for a, b in spans]) if spans else []
    same = root = 0
    for k, chord in enumerate(got):
        asked = progression[k % len(progression)]
        same += any(chord.root == c.root and chord.quality == c.quality for c in asked)
        root += any(chord.root == c.root for c in asked)
    return {"bars": len(got), "chord": same, "root": root}


def chord_adherence(run: Any, chords: str, n: int = 8, bars_per_sample: int = 8, seed: int = 0, metre: str | None = None, key: str | None = None,
                    out: Path | None = None, progress: Callable[[str, int, int], None] | None = None, strength: float | None = None,
                    strengths: tuple[float, ...] = ()) -> dict[str, Any]:
    """The share of bars carrying the chord asked for, with ``chords`` (at guidance ``strength``,
    None: the default) and without (same seeds), and at each of ``strengths``; written to
    ``out/chords.json`` when ``out`` is given."""
    from cadenza.evaluation.features import consonance
    from cadenza.generation import generate
    from cadenza.generation.chords import DEFAULT_STRENGTH
    from cadenza.generation.run import open_run

    run = open_run(run)
    asked = Request(chords=chords, key=key)
    progression = asked.progression
    rows: dict[str, dict[str, Any]] = {}
    steer = {"metre": metre, "key": key} if run.codec.can("metre_key") else {}  # a word model keeps its own metre (the context's) and key
    runs = [("asked", chords, strength), ("unconditioned", None, None)] + [(f"strength {s:g}", chords, s) for s in strengths]
    with tempfile.TemporaryDirectory() as tmp:
        for label, given, s in runs:
            total: dict[str, Any] = {"bars": 0, "chord": 0, "root": 0, "notes": 0}
            if given:
                total["strength"] = DEFAULT_STRENGTH if s is None else s
            harmony = []
            for i in range(n):
                if progress:
                    progress(label, i, n)
                got = generate(run, Path(tmp) / label / str(i), n=1, bars=bars_per_sample, seed=seed + i, chords=given, **steer,
                               chord_strength=s, formats=("krn",) if "krn" in run.codec.sample_formats else None)
                path = got[0].files.get("krn") or got[0].files.get("mid")
                read = sample_bars(path)
                for k, v in bar_agreement(path, progression, read).items():
                    total[k] += v
                total["notes"] += sum(len(t.notes) for t in read[0].tracks)
                c = consonance(read[0])
                if c == c:  # NaN: no two notes ever sound together
                    harmony.append(c)
                if path.suffix == ".krn":  # the chords must not cost validity: music21 parses it, its bars fill the metre
                    from cadenza.evaluation.validity import kern_validity

                    v = kern_validity(path.read_text(encoding="utf-8"))
                    for k, x in (("parsed", int(v["parsed"])), ("metre_bars", v["bars"]), ("metre_bars_ok", v["bars_ok"])):
                        total[k] = total.get(k, 0) + x
            total["consonance"] = sum(harmony) / max(len(harmony), 1)  # mean over samples: the share of consonant vertical intervals
            rows[label] = total
    report = {"chords": chords, "key": key, "metre": metre, "samples": n, "bars_per_sample": bars_per_sample, "seed": seed,
              **{label: dict(r, chord_rate=r["chord"] / max(r["bars"], 1), root_rate=r["root"] / max(r["bars"], 1), notes_per_bar=r["notes"] / max(r["bars"], 1))
                 for label, r in rows.items()}}
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "chords.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report


def heldout_progressions(run: Any, dataset: Path | None = None, baseline: Any = None, max_pieces: int = 0, wrong: int = 6,
                         progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Does the chord line help the model predict the music, not just write the label? Each
    held-out test piece of the run's dataset (prepared with chords: its own chords, as the chord
    reader hears them, on every bar) is read whole from the model's empty state twice: with its
    chord lines and with them left out, the text otherwise the same. Only the music's tokens are
    scored, so both readings score the same tokens; bits per note divide by the pieces' notes.
    A third reading tells it the wrong chords (each ``wrong`` semitones away): a model that follows its
    chord lines finds the music less likely then. ``baseline`` (a run without chords, e.g. the
    model this one was fine-tuned from) reads the text without chords: the same music, by a
    model that never saw chord lines."""
    import numpy as np

    from cadenza.codecs import split_tokens
    from cadenza.codecs.bar_chords import chord_marks, moved_chords
    from cadenza.evaluation.heldout import fast_piece, find_dataset, split_pieces
    from cadenza.evaluation.likelihood import LN2, piece_ids, token_nats
    from cadenza.evaluation.pieces import piece_notes
    from cadenza.generation.run import open_run

    run = open_run(run)
    codec, unit = run.codec, run.codec.unit
    dataset = Path(dataset) if dataset is not None else find_dataset(run.config, run.path)
    if dataset is None:
        from cadenza import CadenzaError

        raise CadenzaError(f"{run}: its dataset is not found; give it")
    pieces = split_pieces(dataset, "test", unit)[: max_pieces or None]
    texts, plains, notes, chords = [], [], 0, 0
    for text, row in pieces:
        toks = split_tokens(text, unit)
        marks = chord_marks(toks, unit)
        chords += sum(1 for k, m in enumerate(marks) if m and (k == 0 or not marks[k - 1]))
        plain = [t for t, m in zip(toks, marks) if not m]
        texts.append((toks, marks))
        plains.append("".join(plain) if unit == "char" else " ".join(plain))
        notes += len(piece_notes(fast_piece(codec, plains[-1], row.get("info") or {}, row["name"])))
    if not chords:
        from cadenza import CadenzaError

        raise CadenzaError(f"{dataset}: its test pieces carry no chords; prepare it with --condition chords")

    def music_nats(model: Any, vocab: list[str], seqs_text: list[str], masks: list[list[bool]] | None, label: str) -> tuple[float, int, int]:
        seqs, unknown, prefix = piece_ids(seqs_text, codec, vocab)
        nats = token_nats(model, seqs, progress=(lambda d, n: progress(label, d, n)) if progress else None)
        total = scored = 0
        if masks is not None and unknown:
            from cadenza import CadenzaError

            raise CadenzaError(f"{dataset}: {unknown} test token(s) {run} never saw")
        for k, x in enumerate(nats):
            keep = np.ones(len(x), dtype=bool)
            if masks is not None:  # x[j] scores token j + 1 of prefix + ids; a chord's tokens are not scored
                m = np.array(masks[k], dtype=bool)
                keep = ~m[1 - len(prefix) : 1 - len(prefix) + len(x)]
                first = int(np.argmin(m)) if not m.all() else len(m)  # the music's first token: without a prefix, unscored without chords
                if not prefix and 0 < first <= len(x):
                    keep[first - 1] = False
            total += float(x[keep].sum())
            scored += int(keep.sum())
        return total, scored, unknown

    def join(toks: list[str]) -> str:
        return "".join(toks) if unit == "char" else " ".join(toks)

    moved = [moved_chords(t, m, unit, wrong) for t, m in texts]  # each chord `wrong` semitones away (a tritone: the label contradicts the notes)
    rows: dict[str, Any] = {}
    for label, model, vocab, seqs, masks in (("with chords", run.model, run.vocab, [join(t) for t, _ in texts], [m for _, m in texts]),
                                             ("without chords", run.model, run.vocab, plains, None),
                                             ("with wrong chords", run.model, run.vocab, [join(t) for t, _ in moved], [m for _, m in moved])):
        total, scored, unknown = music_nats(model, vocab, seqs, masks, label)
        rows[label] = {"music_tokens": scored, "unknown_tokens": unknown, "bits_per_token": total / scored / LN2, "bits_per_note": total / notes / LN2}
    if baseline is not None:
        base = open_run(baseline)
        total, scored, unknown = music_nats(base.model, base.vocab, plains, None, "baseline")
        rows["baseline, without chords"] = {"run": str(baseline), "music_tokens": scored, "unknown_tokens": unknown, "bits_per_token": total / scored / LN2,
                                            "bits_per_note": total / notes / LN2}
    return {"run": str(run), "dataset": str(dataset), "pieces": len(pieces), "notes": notes, "chords": chords, "wrong_chords_moved": wrong, "rows": rows}
