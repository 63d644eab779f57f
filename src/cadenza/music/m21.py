"""The bridge to music21 for notated music: parse kern, check it, export MusicXML and MIDI, and
turn a music21 score into a :class:`~cadenza.music.piece.Piece`.

music21 is the field's reference parser for **kern, so "valid" in Cadenza means "music21 parses
it"; its MusicXML writer stamps today's date, which we pin so equal seeds give equal bytes.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from cadenza.files import dedupe_events
from cadenza.music.piece import Note, Piece, Track


def parse_kern(kern: str):
    """A music21 Score from kern text (raises whatever music21 raises on bad input)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_text(kern, "humdrum")


def parse_text(text: str, fmt: str):
    """A music21 Score from notation text (``fmt`` "humdrum" or "musicxml"). Always text, never a
    path: music21's file reader loads pickles from a shared temporary folder (see
    :func:`parse_file`)."""
    from music21 import converter

    return converter.parseData(text, format=fmt)


def parse_file(path: Path, fmt: str, **keywords):
    """A music21 Score from a file music21 must read itself (MIDI), with its pickle cache off:
    ``converter.parse`` otherwise loads (unpickles) and writes parses in a temporary folder any
    local user can write to, so a file planted there would run as code."""
    from music21 import converter

    return converter.parse(str(path), format=fmt, forceSource=True, storePickle=False, **keywords)


def score_stats(score) -> dict[str, Any]:
    """Bars, notes (chord members counted) and duration in quarters of a parsed score."""
    from music21 import chord, note

    notes = 0
    for el in score.recurse().notes:
        if isinstance(el, chord.Chord):
            notes += len(el.pitches)
        elif isinstance(el, note.Note):
            notes += 1
    parts = score.parts
    bars = max((len(p.getElementsByClass("Measure")) for p in parts), default=0)
    return {"bars": bars, "notes": notes, "quarters": float(score.highestTime)}


_DATE = re.compile(rb"<encoding-date>[^<]*</encoding-date>")
_RANDOM_ID = re.compile(rb"\b([PI])[0-9a-f]{32}\b")  # a part's (P...) or an instrument's (I...)


def write_musicxml(score, path: Path) -> None:
    """MusicXML with a fixed encoding date, so identical music gives identical bytes."""
    tmp = score.write("musicxml", fp=str(path))
    data = Path(tmp).read_bytes()
    data = _DATE.sub(b"<encoding-date>2000-01-01</encoding-date>", data)
    # music21 names parts and instruments with random hex ids: number them in order of appearance
    ids: dict[bytes, bytes] = {}
    for m in _RANDOM_ID.finditer(data):
        ids.setdefault(m.group(0), m.group(1) + b"%d" % (1 + sum(k[:1] == m.group(1) for k in ids)))
    data = _RANDOM_ID.sub(lambda m: ids[m.group(0)], data)
    Path(path).write_bytes(data)


def write_score_midi(score, path: Path) -> None:
    """A parsed score as MIDI through music21 (for notes as a :class:`Piece`, see
    :func:`cadenza.music.midi_files.write_midi`)."""
    score.write("midi", fp=str(path))


def export_kern(kern: str, stem: Path, formats: tuple[str, ...], stats: dict[str, Any], harmony: list[tuple[float, str]] = ()) -> dict[str, Path]:
    """Write ``stem.krn`` and, if music21 parses it, ``.mid`` / ``.musicxml``; fill ``stats``.
    ``harmony``: (quarter, ``**mxhm`` value such as ``"G dominant"``) chord symbols, which music21's
    Humdrum reader leaves out, put above the top staff (MusicXML ``<harmony>``)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    krn = stem.with_suffix(".krn")
    krn.write_text(kern, encoding="utf-8")
    out["krn"] = krn
    try:
        score = parse_kern(kern)
        stats.update(score_stats(score))
        stats["parsed"] = True
        add_chord_symbols(score, harmony)
    except Exception as exc:  # music21 raises many types; the summary reports it
        stats["parsed"] = False
        stats["error"] = f"{type(exc).__name__}: {exc}"[:200]
        return out
    # music21 parses some rhythms it cannot write (a tuplet remainder becomes a "2048th" in
    # MusicXML): keep the formats that work and say which one failed
    for fmt, suffix, write in (("mid", ".mid", write_score_midi), ("musicxml", ".musicxml", write_musicxml)):
        if fmt not in formats:
            continue
        p = stem.with_suffix(suffix)
        try:
            write(score, p)
            out[fmt] = p
        except Exception as exc:  # music21 export errors have many types
            p.unlink(missing_ok=True)
            stats[f"{fmt}_error"] = f"{type(exc).__name__}: {exc}"[:200]
    return out


def add_chord_symbols(score: Any, harmony: list[tuple[float, str]]) -> None:
    """Chord symbols (``**mxhm`` values: a root as kern spells it and a MusicXML kind) into the
    measures of the score's top part; a value music21 cannot read is left out."""
    from music21 import harmony as m21harmony

    if not harmony or not score.parts:
        return
    measures = list(score.parts[0].getElementsByClass("Measure"))
    for q, value in harmony:
        root, _, kind = value.partition(" ")
        m = next((m for m in measures if m.offset <= q + 1e-6 < m.offset + max(m.duration.quarterLength, 1e-6)), None)
        if m is None or not kind:
            continue
        try:
            m.insert(q - m.offset, m21harmony.ChordSymbol(root=root, kind=kind))
        except Exception:  # music21 raises several types on a kind it does not know
            continue


def _minor(sig: Any, analysed: Any) -> int:
    """1 where a key signature is minor. MusicXML may give the fifths alone (no mode): then the
    piece's own notes decide (``analysed()``: music21's key analysis), where they agree with
    the signature."""
    from music21 import key

    if isinstance(sig, key.Key):
        return int(sig.mode == "minor")
    guess = analysed()
    return int(guess is not None and guess.sharps == sig.sharps and guess.mode == "minor")


def _key_analysis(score: Any) -> Any:
    """A memoised ``score.analyze("key")`` (None where the analysis fails on odd input)."""
    done: list[Any] = []

    def analysed() -> Any:
        if not done:
            try:
                done.append(score.analyze("key"))
            except Exception:  # noqa: BLE001 - an analysis of odd input must not lose the piece
                done.append(None)
        return done[0]

    return analysed


def score_to_piece(score, name: str = "") -> Piece:
    """A music21 Score (or Part) as a :class:`Piece`: one track per part, times in
    quarters from the first note, tied notes merged into one, grace notes dropped, chords split
    into their notes. Tempo marks, time and key signatures come from the first part; a pickup bar
    becomes a short opening time signature (a 1/4 pickup in 3/4: ``(0, 1, 4), (1, 3, 4)``), as
    MIDI files write an anacrusis, so bars computed from the time signatures line up with the
    score's barlines. No tempo mark: the Piece's default (120 quarters a minute)."""
    from music21 import chord, key, meter, note, stream, tempo

    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    tracks = []
    for i, part in enumerate(parts):
        notes: list[Note] = []
        open_ties: dict[int, int] = {}  # midi -> index in notes
        for el in part.flatten().notes:
            ql = float(el.duration.quarterLength)
            if el.duration.isGrace or ql <= 0:
                continue
            start = float(el.offset)
            members = el.notes if isinstance(el, chord.Chord) else [el]
            for n in members:
                if not isinstance(n, note.Note):
                    continue
                midi = int(round(n.pitch.ps))
                tie = n.tie.type if n.tie is not None else None  # per note: a chord's members tie separately
                if tie in ("continue", "stop") and midi in open_ties:
                    j = open_ties[midi]
                    notes[j] = Note(notes[j].start, midi, start + ql - notes[j].start, notes[j].velocity)
                    if tie == "stop":
                        del open_ties[midi]
                    continue
                open_ties.pop(midi, None)
                notes.append(Note(start, midi, ql, 80))
                if tie == "start":
                    open_ties[midi] = len(notes) - 1
        inst = part.getInstrument(returnDefault=False) if hasattr(part, "getInstrument") else None
        program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
        pname = getattr(part, "partName", None) or f"Part {i + 1}"
        tracks.append(Track(str(pname), int(program), sorted(notes)))

    first = parts[0]
    flat = first.flatten()
    tempos = dedupe_events([(float(m.offset), float(m.getQuarterBPM())) for m in flat.getElementsByClass(tempo.MetronomeMark) if m.number])
    sigs = dedupe_events([(float(t.offset), int(t.numerator), int(t.denominator)) for t in flat.getElementsByClass(meter.TimeSignature)])
    analysed = _key_analysis(score)
    keys = dedupe_events([(float(k.offset), int(k.sharps), _minor(k, analysed)) for k in flat.getElementsByClass(key.KeySignature)])
    measures = list(first.getElementsByClass(stream.Measure))
    if sigs and len(measures) > 1:
        m0 = measures[0]
        bar = sigs[0][1] * 4.0 / sigs[0][2]
        pickup = float(measures[1].offset) - float(m0.offset)
        units = pickup * sigs[0][2] / 4.0
        if 0 < pickup < bar - 1e-9 and abs(units - round(units)) < 1e-9 and not any(0 < q < pickup + 1e-9 for q, _, _ in sigs[1:]):
            sigs = [(0.0, int(round(units)), sigs[0][2]), (pickup, sigs[0][1], sigs[0][2])] + sigs[1:]
    title = name or (score.metadata.title if getattr(score, "metadata", None) is not None and score.metadata.title else "")
    piece = Piece(tracks, name=str(title or ""))
    if tempos:
        piece.tempos = tempos if tempos[0][0] == 0 else [(0.0, tempos[0][1])] + tempos
    if sigs:
        piece.time_signatures = sigs if sigs[0][0] == 0 else [(0.0, sigs[0][1], sigs[0][2])] + sigs
    piece.key_signatures = keys
    return piece
