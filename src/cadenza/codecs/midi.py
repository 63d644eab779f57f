"""What both of Clara's MIDI codecs (notewise, chordwise) share beyond the grid: reading a music
file, writing MIDI, the default prime and generation context, fitting a user's prompt into a
model's words, and measuring generated words in time (:class:`MidiCodec`, their common base).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from cadenza import CadenzaError
from cadenza.codecs.base import ContinuationParts, Declares, Decoded, Encoded, LengthGoal, PhraseGrid, join_tokens, split_tokens
from cadenza.codecs.bar_chords import bar_steps, chord_word, chord_word_prefixes, chord_words_of, insert_bar_words, strip_chord_words, transposed_chord
from cadenza.codecs.chord_constraint import asked_chords
from cadenza.codecs.labels import strip_labels
from cadenza.codecs.grid import Grid, GridNote, from_grid, piece_info, to_grid, transposed
from cadenza.codecs import midi_infill
from cadenza.music import PIECE_SUFFIXES, Piece, write_midi
from cadenza.music.excerpt import prompt_excerpt, prompt_then_continuation, read_prompt
from cadenza.music.harmony import bar_chords, bar_grid

SUFFIXES = (".mid", ".midi", ".mxl", ".musicxml", ".xml", ".krn")  # MIDI, and notation via music21


def export_midi(decoded: Decoded, stem: Path) -> dict[str, Path]:
    path = Path(f"{stem}.mid")
    write_midi(decoded.piece, path)
    return {"mid": path}


MAX_QUARTERS = 50_000  # about seven hours at 120 a minute: anything longer is a damaged file


def read_piece(path: Path) -> Piece:
    """A MIDI file worth encoding: with notes, and not so long that a stray event at the end of
    time would make millions of words."""
    from cadenza.music.reader import read_piece_file

    return worth_encoding(read_piece_file(Path(path)), str(path))


def worth_encoding(piece: Piece, where: str) -> Piece:
    """``piece`` (from ``where``), or a one-line error saying why it is not (see :func:`read_piece`)."""
    if not any(t.notes for t in piece.tracks):
        raise CadenzaError(f"{where}: no notes (drum tracks are left out)")
    if piece.end > MAX_QUARTERS:
        raise CadenzaError(f"{where}: lasts {piece.end:.0f} quarter notes, more than {MAX_QUARTERS} (a stray event?)")
    return piece


def quiet_prime(vocab: list[str], preferred: str) -> str:
    """The default prime of a MIDI codec: ``preferred`` (one step of silence) or, if the model
    never saw it, the shortest silence it knows (a wait, or a chordwise "nothing changes" letter)."""
    if preferred in vocab:
        return preferred
    quiet = sorted((w for w in vocab if re.fullmatch(r"wait\d+|[a-z]", w)), key=lambda w: (len(w), w))
    return quiet[0] if quiet else ""


def midi_generation_context(steps_per_quarter: int, train: list[dict[str, Any]]) -> dict[str, Any]:
    """Tempo and metre for decoding generated words: the most common among the training pieces."""

    ctx: Counter = Counter()
    for r in train:
        info = dict(r["info"])
        if info.get("time_signatures"):
            info["time_signature"] = dominant_meter(info["time_signatures"], info.get("steps", 0) / max(steps_per_quarter, 1))
        for k in ("tempo", "time_signature"):
            if k in info:
                ctx[(k, json.dumps(info[k]))] += 1
    out: dict[str, Any] = {}
    for (k, v), _ in ctx.most_common():
        out.setdefault(k, json.loads(v))
    return out


def dominant_meter(sigs: list[list[float]], end: float) -> list[int]:
    """The time signature in force longest (a pickup written as a short opening 1/4 bar must
    not become the metre of every generated piece)."""
    spans: Counter[tuple[int, int]] = Counter()
    for i, (q, num, den) in enumerate(sigs):
        nxt = sigs[i + 1][0] if i + 1 < len(sigs) else max(end, q)
        spans[(int(num), int(den))] += max(nxt - q, 0.0)
    (num, den), _ = max(spans.items(), key=lambda kv: kv[1]) if spans else ((4, 4), 0)
    return [num, den]


def fit_prompt_words(words: list[str], vocab: list[str]) -> tuple[list[str], int]:
    """Rewrite prompt words the model never saw into ones it knows, where that keeps the music:
    a ``wait9`` becomes ``wait8 wait1`` (waits add up), an unseen chordwise step becomes the
    nearest known step of the same instrument (fewest keys changed). Returns the words and how
    many were approximated (the output still holds the prompt's own notes, exactly)."""
    known = set(vocab)
    waits = sorted((int(w[4:]) for w in known if re.fullmatch(r"wait\d+", w)), reverse=True)
    steps: dict[tuple[str, int], list[str]] = {}
    for w in known:
        m = re.fullmatch(r"([a-z]+)([012]+)", w)
        if m:
            steps.setdefault((m.group(1), len(m.group(2))), []).append(w)
    out, approx = [], 0
    for w in words:
        if w in known:
            out.append(w)
            continue
        m = re.fullmatch(r"wait(\d+)", w)
        if m and waits:
            left, parts = int(m.group(1)), []
            for v in waits:
                while left >= v:
                    parts.append(f"wait{v}")
                    left -= v
            if left == 0:
                out += parts
                continue
        m = re.fullmatch(r"([a-z]+)([012]+)", w)
        if m and (m.group(1), len(m.group(2))) in steps:
            cands = steps[(m.group(1), len(m.group(2)))]
            best = min(cands, key=lambda c: (sum(a != b for a, b in zip(c[len(m.group(1)):], m.group(2))), c))
            out.append(best)
            approx += 1
            continue
        out.append(w)  # left for check_prompt to explain
    return out, approx


def check_prompt(encoded: Encoded, vocab: list[str], note_range: int, where: str) -> None:
    """Refuse, with a clear message, a prompt the model cannot express (unknown instruments or
    tokens) rather than continue garbage. Notes outside the model's range are not refused: they
    were moved by octaves into it, as training moved the corpus's (``info["folded"]`` counts
    them, and the sample's stats report it), so a piano piece reaching past a 62-key range is
    still continued."""
    known = set(vocab)
    words = encoded.text.split()
    unknown = sorted({w for w in words if w not in known})
    if unknown:

        def prefixes(words: list[str]) -> set[str]:
            return {m.group(1) for w in words if (m := re.match(r"(?:end)?([a-z]+?)[012]*\d+$", w)) and m.group(1) != "wait"}

        pre = sorted(prefixes(unknown))
        trained = sorted(prefixes(vocab))
        if pre and not set(pre) <= set(trained):
            raise CadenzaError(f"{where}: the model knows the instruments {', '.join(trained)} but the prompt has {', '.join(sorted(set(pre) - set(trained)))}")
        raise CadenzaError(f"{where}: {len(unknown)} token(s) the model never saw, e.g. {', '.join(unknown[:4])}")


@dataclass(frozen=True)
class MidiPrompt:
    """A user's file continued (:meth:`MidiCodec.continuation_parts`): its ``excerpt`` and that
    ``encoded``, the ``prime`` words fitted to the model (``approximated`` of them rewritten) and
    the ``boundary`` in quarters where the excerpt's notes end."""

    name: str
    excerpt: Piece
    encoded: Encoded
    prime: list[str]
    approximated: int
    boundary: float


class MidiCodec(Declares):
    """What the notewise and chordwise codecs share: everything but how a grid becomes words
    (``words``), words become grid notes (``parse``), and which grid step each word ends at
    (``steps``, with ``reached`` and ``cut`` built on it)."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"continue", "infill", "chords"})
    unit: ClassVar[str] = "word"
    suffixes: ClassVar[tuple[str, ...]] = SUFFIXES
    prompt_suffixes: ClassVar[tuple[str, ...]] = PIECE_SUFFIXES  # any music file, read as a Piece
    bar_token: ClassVar[str | None] = None
    sample_formats: ClassVar[tuple[str, ...]] = ("mid",)
    quiet: ClassVar[str]  # one step of silence: the default prime
    Options: ClassVar[type]

    def __init__(self, options: Any = None):
        self.options = options or self.Options()

    def words(self, grid: Grid) -> list[str]:
        raise NotImplementedError

    def parse(self, text: str) -> tuple[dict[str, list[GridNote]], dict[str, Any]]:
        raise NotImplementedError

    def steps(self, words: list[str]) -> list[int]:
        raise NotImplementedError

    def encode(self, path: Path) -> list[Encoded]:
        """One piece a file; a kern file of several segments, one a segment (music/humdrum/segments.py)."""
        from cadenza.music.reader import read_pieces

        pieces = read_pieces(Path(path))
        return [self.encode_piece(worth_encoding(p, str(path) if len(pieces) == 1 else f"{path} ({p.name})")) for p in pieces]

    def encode_piece(self, piece: Piece) -> Encoded:
        """``piece`` as words; with ``options.chords`` each bar opens with its chord's word (see
        :mod:`.bar_chords`)."""
        o = self.options
        grid = to_grid(piece, o.steps_per_quarter, o.note_range)
        words, info = self.words(grid), piece_info(piece, grid)
        if o.chords:
            words = self.with_bar_words(words, [chord_word(c) for c in bar_chords(piece)], info)
        return Encoded(piece.name, " ".join(words), info)

    def transpose(self, piece: Encoded, semitones: int) -> Encoded:
        """``semitones`` up (negative: down); see :func:`cadenza.codecs.grid.transposed`. Chord
        words move with the notes."""
        notes, _ = self.parse(strip_chord_words(piece.text))
        out = transposed(piece, notes, semitones, self.options.note_range, self.words)
        if not self.options.chords:
            return out
        chords = [chord_word(transposed_chord(c, semitones)) for c in chord_words_of(piece.text)]
        return Encoded(out.name, " ".join(self.with_bar_words(out.text.split(), chords, out.info)), out.info)

    def with_bar_words(self, words: list[str], bar_words: list[str], info: dict[str, Any]) -> list[str]:
        """``words`` with ``bar_words[b]`` where bar ``b`` begins (bars from ``info``'s time
        signatures, as :func:`~cadenza.codecs.grid.piece_info` records them)."""
        spq = self.options.steps_per_quarter
        ends = self.steps(words)
        end = max(ends, default=0)
        starts = bar_steps(info.get("time_signatures") or [[0.0, 4, 4]], end / spq, spq)
        return insert_bar_words(words, self.begins(words, ends), starts, bar_words, self.wait_word, self.wait_steps)

    def begins(self, words: list[str], ends: list[int]) -> list[int]:
        """The grid step each word begins at, given :meth:`steps` (the step each ends at)."""
        return [0] + ends[:-1]

    wait_word: Any = None  # notewise: ``n -> "wait<n>"``, so a wait across a bar line is cut there
    wait_steps: Any = None

    def can(self, what: str) -> bool:
        """A dataset prepared with chords tells each training window its bar's chord."""
        return (what == "window_prefix" and bool(self.options.chords)) or super().can(what)

    def window_prefix(self, text: str) -> list[tuple[int, str]]:
        """(word offset, the chord word in force) at each chord word (``options.chords``)."""
        return chord_word_prefixes(text.split())

    def decode(self, text: str, context: dict[str, Any]) -> Decoded:
        """Words -> :class:`Piece` (see :meth:`parse`), with tempo, metre and instruments from
        ``context``. Never raises. Labels opening the text (:mod:`.labels`) are not music: they
        are left out, as are chord words; the chords asked for (``--chords``) go on the piece's
        bars, which :func:`~cadenza.music.write_midi` writes as markers."""
        o = self.options
        notes, stats = self.parse(strip_chord_words(strip_labels(text, self.unit)))
        piece = from_grid(notes, o.steps_per_quarter, o.note_range, context)
        piece.chords = asked_chords(context, o.steps_per_quarter, piece.end)
        return Decoded(text, stats, piece)

    def export(self, decoded: Decoded, stem: Path, formats: tuple[str, ...] = ("mid",)) -> dict[str, Path]:
        """Writes ``stem.mid`` (whatever ``formats`` asks: MIDI is what this codec makes)."""
        return export_midi(decoded, stem)

    def default_prime(self, vocab: list[str]) -> str:
        return quiet_prime(vocab, self.quiet)

    def choose_layout(self, pieces: list[Encoded], want: Any) -> tuple[Any, list[tuple[int, str]]]:
        return None, []  # instruments are words: every piece fits one vocabulary

    def passages(self, text: str, width: int = 64, step: int = 32) -> list[tuple[str, ...]]:
        words = text.split()
        return [tuple(words[i : i + width]) for i in range(0, max(0, len(words) - width + 1), step)]

    def generation_context(self, train: list[dict[str, Any]], layout: Any) -> dict[str, Any]:
        return midi_generation_context(self.options.steps_per_quarter, train)


    def usual_metre_key(self, context: dict[str, Any]) -> tuple[Any, Any]:
        from cadenza.music.metre_key import Metre

        ts = context.get("time_signature")
        try:
            return (Metre(int(ts[0]), int(ts[1])) if isinstance(ts, (list, tuple)) and len(ts) == 2 else None), None
        except (CadenzaError, ValueError, TypeError):
            return None, None

    def piece_tempo(self, info: dict[str, Any]) -> float | None:
        return info.get("tempo")

    def constraint(self, vocab: list[str], context: dict[str, Any], n: int, prefix: str) -> Any:
        """None: every word sequence decodes; but with chords asked for (``context["chords"]``)
        the sampler writes each bar's chord word itself (:mod:`.chord_constraint`), on the
        codec's clock (:meth:`chord_clock`)."""
        if not context.get("chords"):
            return None
        from cadenza.codecs.chord_constraint import WordChords

        return WordChords(vocab, context, n, prefix, self.options.steps_per_quarter, self.chord_clock(vocab))

    def chord_clock(self, vocab: list[str]) -> Any:
        """How the words move time, for the chord sampler: by ``wait`` words (notewise)."""
        from cadenza.codecs.chord_constraint import WaitClock

        return WaitClock(vocab, self.wait_steps)

    def whole_bars(self, text: str, keep: int = -1) -> str:
        return text  # bars are grid time: every word ends inside one

    # Time, for generation (see the Codec protocol)

    def length_goal(self, prime: list[str], context: dict[str, Any], bars: int = 0, seconds: float = 0.0, start: float | None = None) -> LengthGoal | None:
        """Bars (of the context's metre) or seconds (at its tempo) as quarter notes past the end
        of ``prime``, checked by decoding."""
        if not (bars or seconds):
            return None
        ts = context.get("time_signature") or [4, 4]
        qpm = context.get("tempo") or 120.0
        target = seconds * qpm / 60.0 if seconds else bars * ts[0] * 4.0 / ts[1]
        if start is None:
            start = self.decode(join_tokens(prime, self.unit), context).piece.end
        end = start + target

        def done(tokens: list[str]) -> bool:
            return self.decode(join_tokens(prime + tokens, self.unit), context).piece.end >= end

        return LengthGoal(int(target * self.options.steps_per_quarter * 8), done, None, target)

    def phrase_grid(self, phrase_bars: int, context: dict[str, Any]) -> PhraseGrid:
        ts = context.get("time_signature") or [4, 4]
        bar = max(1, int(round(self.options.steps_per_quarter * 4 * ts[0] / ts[1])))
        return PhraseGrid(per_bar=bar, length=phrase_bars * bar, opening=phrase_bars * bar // 2, tokens_per_unit=8, measured=False)

    def reach(self, tokens: list[str]) -> int:
        steps = self.steps(tokens)
        return steps[-1] if steps else 0

    def infill_parts(self, path: Path, first: int, last: int, vocab: list[str], context: dict[str, Any], context_bars: int, suffix_bars: int) -> Any:
        """Bars ``first``-``last`` of a music file to rewrite (see :mod:`.midi_infill`)."""
        return midi_infill.infill_parts(self, read_piece(Path(path)), path, first, last, vocab, context, context_bars, suffix_bars)

    def join_infill(self, handle: Any, middle: list[str], context: dict[str, Any]) -> Decoded:
        return midi_infill.join_infill(self, handle, middle, context)

    def continuation_parts(self, path: Path, bars: int, seconds: float, vocab: list[str], context: dict[str, Any], out: Path) -> ContinuationParts:
        """The file's last ``bars`` bars (or ``seconds``) as words of ``vocab``
        (:func:`~cadenza.music.excerpt.prompt_excerpt`, :meth:`fit_prompt`); the length goal is
        counted in the excerpt's last tempo and metre, from where its notes end."""
        path = Path(path)
        excerpt, _ = prompt_excerpt(read_prompt(path), bars, seconds)
        enc = self.encode_piece(excerpt)
        tokens, approximated = self.fit_prompt(enc, vocab, str(path))
        boundary = self.decode(enc.text, enc.info).piece.end
        qpm = excerpt.tempos[-1][1] if excerpt.tempos else 120.0
        metre = list(excerpt.time_signatures[-1][1:]) if excerpt.time_signatures else [4, 4]
        handle = MidiPrompt(path.stem, excerpt, enc, tokens, approximated, boundary)
        # bars from the excerpt's first bar line: a progression starts on the first new one
        return ContinuationParts(tokens, dict(enc.info, tempo=qpm, time_signature=metre), handle, start=boundary, bars_before=len(bar_grid(excerpt.time_signatures, boundary)))

    def join_continuation(self, handle: Any, continuation: list[str], quarters: float, stem: Path, context: dict[str, Any] | None = None) -> tuple[Decoded, dict[str, Path]]:
        """The excerpt's notes exactly, then the continuation's (at most ``quarters``), with the
        excerpt's tempo, metre and instruments: ``stem.mid``, and ``stem-continuation.mid``
        alone; the new bars' chords (``context``'s, bars counted as the sampler counted them)
        as markers."""
        text = join_tokens(handle.prime + continuation, self.unit)
        decoded = self.decode(text, handle.encoded.info)
        full = prompt_then_continuation(handle.excerpt, decoded.piece, handle.boundary, quarters, f"{handle.name} continued")
        new = [(q, c) for q, c in asked_chords(context or {}, self.options.steps_per_quarter, full.end) if q >= handle.boundary - 1e-9]
        full.chords = [(q, c) for q, c in handle.excerpt.chords if q < (new[0][0] if new else full.end + 1)] + new  # the file's own markers, then the new bars'
        cont = full.slice(handle.boundary, max(full.end, handle.boundary) + 1e-6)
        files = {"mid": write_midi(full, Path(f"{stem}.mid")), "continuation": write_midi(cont, Path(f"{stem}-continuation.mid"))}
        stats = dict(decoded.stats, prompt_tokens_approximated=handle.approximated, prompt_notes_folded=int(handle.encoded.info.get("folded", 0)),
                     prompt_quarters=round(handle.boundary, 3), continuation_quarters=round(cont.end, 3), notes=sum(len(t.notes) for t in full.tracks), parsed=True)
        return Decoded(text, stats, full), files

    def fit_prompt(self, encoded: Encoded, vocab: list[str], where: str) -> tuple[list[str], int]:
        """See :func:`fit_prompt_words` and :func:`check_prompt`."""
        words, approximated = fit_prompt_words(split_tokens(encoded.text, self.unit), vocab)
        check_prompt(Encoded(encoded.name, join_tokens(words, self.unit), encoded.info), vocab, self.options.note_range, where)
        return words, approximated
