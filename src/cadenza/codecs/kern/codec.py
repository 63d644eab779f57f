"""The kern codec: cleaned **kern characters in, restored files out (see :mod:`.cleaning`)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

from cadenza import CadenzaError
from cadenza.codecs import Declares, Decoded, Encoded, register
from cadenza.codecs.kern.cleaning import KernOptions, clean, read_text
from cadenza.codecs.kern.harm import harmony_of, marker_chords, with_chords
from cadenza.codecs.kern.header import CLEANING, Header, default_header
from cadenza.codecs.kern.restoring import restore
from cadenza.codecs.labels import strip_labels
from cadenza.codecs.kern.transposition import (
    _SPELLINGS,
    _transpose_key,
    choose_interval,
    transpose_text,
)
from cadenza.music.humdrum.interpretations import KEYSIG as _KEYSIG
from cadenza.music.humdrum.interpretations import keysig_fifths as _keysig_fifths
from cadenza.music.humdrum.interpretations import keysig_token as _keysig_token
from cadenza.music.humdrum.spines import BAR
from cadenza.music.metre_key import Key, Metre
from cadenza.music.reader import PIECE_SUFFIXES


# The codec


@register
class KernCodec(Declares):
    """Character-level **kern (see the module docstring for what cleaning keeps)."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"metre_key", "continue", "infill", "settles_metre", "window_prefix", "dataset_problem", "chords"})
    name: ClassVar[str] = "kern"
    unit: ClassVar[str] = "char"
    # what a corpus may hold: kern as written, other scores written as kern first (see .convert)
    suffixes: ClassVar[tuple[str, ...]] = (".krn", ".mid", ".midi", ".mxl", ".musicxml", ".xml", ".abc")
    # files it continues: kern as written, MIDI / MusicXML written as kern first (see .prompt)
    prompt_suffixes: ClassVar[tuple[str, ...]] = (".krn", *(s for s in PIECE_SUFFIXES if s != ".krn"))
    bar_token: ClassVar[str | None] = BAR
    sample_formats: ClassVar[tuple[str, ...]] = ("krn", "mid", "musicxml")
    Options = KernOptions

    def __init__(self, options: KernOptions | None = None):
        self.options = options or KernOptions()
        if self.options.layouts not in ("one", "all"):
            raise CadenzaError(f"--layouts {self.options.layouts!r}: 'one' (a dataset of one spine count) or 'all' (every layout, each piece with its own)")

    def encode(self, path: Path) -> list[Encoded]:
        if path.suffix.lower() != ".krn":  # MIDI, MusicXML, ABC: written as kern in their own layout (one: the dataset's)
            from cadenza.codecs.kern.convert import encode_score_file

            pieces = encode_score_file(path, self.options.spines if self.options.layouts == "one" else 0)
            return [Encoded(p.name, with_chords(p.text), p.info) for p in pieces] if self.options.chords else pieces
        from cadenza.music.humdrum.segments import segment_names, segments

        parts = segments(read_text(path))  # pieces one after another: each its own (music/humdrum.py)
        out = []
        for part, name in zip(parts, segment_names(path.stem, parts)):
            text, header = clean(part.text, str(path) if len(parts) == 1 else f"{path} (piece {name} from line {part.line})")
            if self.options.chords:  # each bar's chord line after its barline (see .harm)
                text = with_chords(text)
            out.append(Encoded(name, text, {"header": header.to_dict(), "fifths": _first_fifths(header), "bars": text.count(BAR + "\n")}))
        return out

    def encode_text(self, text: str, name: str = "<text>") -> Encoded:
        body, header = clean(text, name)
        return Encoded(name, body, {"header": header.to_dict(), "fifths": _first_fifths(header)})

    def transpose(self, piece: Encoded, semitones: int) -> Encoded:
        fifths = piece.info.get("fifths", 0)
        text = transpose_text(piece.text, semitones, fifths)
        info = dict(piece.info)
        header = Header.from_dict(info["header"])
        steps, _ = choose_interval(semitones, fifths)
        _, df = min(_SPELLINGS[semitones % 12], key=lambda o: (abs(fifths + o[1]), o[1] < 0 and semitones % 12 == 6))
        header.keysig = [_keysig_token(_keysig_fifths(k) + df) if _KEYSIG.match(k) else k for k in header.keysig]
        if header.key:
            header.key = _transpose_key(header.key, steps, semitones)
        info["header"] = header.to_dict()
        info["fifths"] = fifths + df
        info["transposed"] = semitones
        return Encoded(f"{piece.name}{semitones:+d}", text, info)

    def decode(self, text: str, context: dict[str, Any]) -> Decoded:
        header = Header.from_dict(context["header"]) if "header" in context else default_header(context.get("spines", 2))
        kern, stats = restore(text, header)
        return Decoded(text, stats, score=kern, read=self.to_piece)

    def default_prime(self, vocab: list[str]) -> str:
        # "@\n" starts a bar, as the 2015 experiment's -primetext "@"
        return BAR + "\n"

    def choose_layout(self, pieces: list[Encoded], want: Any) -> tuple[Any, list[tuple[int, str]]]:
        """The spine count the dataset keeps (a character model writes one): ``want`` (``--spines``)
        or the corpus's most common; pieces of other counts are left out, with the reason."""
        counts = Counter(p.info["header"]["spines"] for p in pieces)
        if not counts:
            return None, []
        if self.options.layouts == "all":  # every piece keeps its own; the most common is the default preamble's
            return counts.most_common(1)[0][0], []
        layout = want or counts.most_common(1)[0][0]
        return layout, [(i, f"{n} **kern spines; this dataset's layout is {layout} (use --spines {n} for a dataset of those)")
                        for i, p in enumerate(pieces) if (n := p.info["header"]["spines"]) != layout]

    def passages(self, text: str) -> list[tuple[str, ...]]:
        """Runs of the top line's intervals (:mod:`.fingerprint`): editions of one piece share
        them in any key, where they share no passage of text."""
        from cadenza.codecs.kern.fingerprint import melody_passages

        return melody_passages(text)

    def generation_context(self, train: list[dict[str, Any]], layout: Any) -> dict[str, Any]:
        """The preamble of samples, the training pieces' metre/key openings (``condition``
        draws from them), the token shapes they write (the generation grammar,
        :mod:`.shapes`) and the cleaning version (:data:`CLEANING`: older runs and datasets
        are told apart by its absence)."""
        from cadenza.codecs.kern.conditioning import openings
        from cadenza.codecs.kern.shapes import learn_shapes

        bars = sum(r["info"].get("bars", 0) for r in train)
        chars = sum(r["tokens"] for r in train)
        heads = [r["info"]["header"] for r in train]
        mixed = self.options.layouts == "all"
        if mixed:  # each opening with its staves and labels, so asking for a style draws its layout
            from cadenza.codecs.kern.conditioning import main_meter

            table = openings([Header.from_dict(h) for h in heads], [r.get("labels") or {} for r in train], [main_meter(r["text"]) if "text" in r else None for r in train])
        else:
            table = openings([Header.from_dict(h) for h in heads if h["spines"] == layout])
        context = {"header": most_common_header(heads, layout).to_dict(), "chars_per_bar": round(chars / max(bars, 1), 1), "cleaning": CLEANING, "openings": table}
        if mixed:
            context["layouts"] = dict(Counter("\t".join(h["clefs"]) for h in heads).most_common())
        if all("text" in r for r in train):
            context["shapes"] = learn_shapes(r["text"] for r in train).to_dict()
        return context

    def condition(self, context: dict[str, Any], vocab: list[str], metre: Metre | None, key: Key | None, seed: int,
                  labels: dict[str, str] | None) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
        """(prime, context, report) for a sample in ``metre`` / ``key`` (see :mod:`.conditioning`);
        a model of many layouts draws the staves of a training piece with ``labels``."""
        from cadenza.codecs.kern.conditioning import condition

        return condition(context, vocab, metre, key, seed, labels)

    def window_prefix(self, text: str) -> list[tuple[int, str]]:
        """(token offset, header text in force from there) of a cleaned piece, for training windows."""
        from cadenza.codecs.kern.conditioning import window_prefix

        return window_prefix(text)

    def dataset_problem(self, manifest: dict[str, Any]) -> str | None:
        """Why a dataset must be prepared again, or None: one made before the text kept headers."""
        if (manifest.get("context") or {}).get("cleaning", 1) < CLEANING:
            return "made by an older Cadenza whose kern text has no metre, key or clefs; prepare it again with `cadenza prepare`"
        return None


    def usual_metre_key(self, context: dict[str, Any]) -> tuple[Any, Any]:
        from cadenza.codecs.kern.conditioning import metre_of
        from cadenza.music.metre_key import Key

        header = context.get("header") or {}
        try:
            metre = metre_of(header["meter"]) if header.get("meter") else None
        except (CadenzaError, ValueError):
            metre = None
        try:
            key = Key.parse(header["key"].strip("*:")) if header.get("key") else None
        except (CadenzaError, ValueError):
            key = None
        return metre, key

    def piece_tempo(self, info: dict[str, Any]) -> float | None:
        m = re.match(r"\*MM(\d+(?:\.\d+)?)", (info.get("header") or {}).get("tempo") or "")
        return float(m.group(1)) if m else None

    def constraint(self, vocab: list[str], context: dict[str, Any], n: int, prefix: str) -> Any:
        from cadenza.codecs.kern.constraint import KernConstraint

        return KernConstraint(vocab, context, n, prefix, chords=self.options.chords)

    def settled_metre(self, text: str, context: dict[str, Any], vocab: list[str], constraint: Any | None = None, row: int = 0) -> Any:
        """The metre the checker settled on for row ``row`` (fixed, or adopted from its bars,
        with lines for the bars before it that do not fit); without the checker that followed
        it (forms, beams) the fixed metre, or the one most of the text's bars have (read with the
        checker, so bars are timed as the sampler timed them; see :mod:`.constraint`)."""
        from cadenza.codecs.kern.conditioning import SettledMetre

        if constraint is not None:
            meter = constraint.meters[row]
            return SettledMetre(meter, tuple(constraint.declarations(row))) if meter else None
        from cadenza.codecs.kern.chord_lines import declared_chords

        chords = declared_chords(strip_labels(text, self.unit), context)  # a guided form's or beam's chords
        fixed = context.get("metre")
        if fixed is not None:
            return SettledMetre((fixed.numerator, fixed.denominator), tuple(chords))
        from cadenza.codecs.kern.constraint import declare_meters

        meter, lines = declare_meters(strip_labels(text, self.unit), vocab, int((context.get("header") or {}).get("spines") or 2))
        return SettledMetre(meter, tuple(lines) + tuple(chords)) if meter else None

    def export(self, decoded: Decoded, stem: Path, formats: tuple[str, ...] = ("krn", "mid", "musicxml")) -> dict[str, Path]:
        """``.krn``; ``.mid`` through Cadenza's own kern reader and symusic (music21's MIDI export
        took ~6 s for a 15,000-character sample); ``.musicxml`` through music21, whose parse of
        the file is then also the summary's "parses" check and statistics. Without MusicXML
        music21 is not loaded (its parse of a 15,000-character sample took longer than sampling
        it, issue #21): bars, notes (a tied note once) and quarters are Cadenza's reader's, and
        "parsed" is None, not checked (``cadenza evaluate`` checks validity in music21)."""
        from cadenza.music.humdrum.to_piece import kern_bars, kern_to_piece
        from cadenza.music import write_midi

        stem = Path(stem)
        if "musicxml" in formats:
            from cadenza.music.m21 import export_kern

            out = export_kern(decoded.score, stem, tuple(f for f in formats if f != "mid"), decoded.stats, harmony_of(decoded.score))
        else:
            stem.parent.mkdir(parents=True, exist_ok=True)
            out = {"krn": stem.with_suffix(".krn")}
            out["krn"].write_text(decoded.score, encoding="utf-8")
            decoded.stats["parsed"] = None
        try:
            piece = None
            if "musicxml" not in formats:
                piece, barlines = kern_bars(decoded.score, stem.name)
                decoded.stats.update(bars=sum(t > 0 for t in barlines), notes=sum(len(t.notes) for t in piece.tracks), quarters=float(piece.end))
            if "mid" in formats:
                piece = piece if piece is not None else kern_to_piece(decoded.score, stem.name)
                piece.chords = marker_chords(decoded.score)  # the **mxhm chords as markers (none: the file as before)
                out["mid"] = write_midi(piece, stem.with_suffix(".mid"))
        except (ValueError, ZeroDivisionError) as exc:  # a file the reader cannot time
            decoded.stats["mid_error" if "mid" in formats else "reader_error"] = f"{type(exc).__name__}: {exc}"[:200]
        return out

    # Time, for generation (see the Codec protocol): a bar ends with its barline line, "@" alone

    def whole_bars(self, text: str, keep: int = -1) -> str:
        """``text`` up to the end of its last barline line (whole bars only), unless that would
        cut into its first ``keep`` characters (the prime)."""
        i = ("\n" + text).rfind("\n" + BAR + "\n")
        return text if i < 0 or i - 1 < keep else text[: i + 2]

    def barline_ends(self, tokens: list[str]) -> list[int]:
        """Indices of the newline closing each barline line."""
        return [i for i in range(1, len(tokens)) if tokens[i] == "\n" and tokens[i - 1] == BAR and (i < 2 or tokens[i - 2] == "\n")]

    def length_goal(self, prime: list[str], context: dict[str, Any], bars: int = 0, seconds: float = 0.0, start: float | None = None) -> Any:
        """``bars`` bars: as many barline lines, one more unless the prime ends with one (the
        closing barline of the last bar); the sample is cut after it."""
        from cadenza.codecs import LengthGoal

        if seconds:
            raise CadenzaError("--seconds needs a notewise/chordwise model (use --bars for kern)")
        if not bars:
            return None
        need = bars + 1 if prime[-2:] != [BAR, "\n"] else bars
        return LengthGoal(bars * int(context.get("chars_per_bar", 120) * 4), lambda tokens: self.reached(tokens, need), lambda tokens: self.cut(tokens, need, []))

    def phrase_grid(self, phrase_bars: int, context: dict[str, Any]) -> Any:
        """Phrases are counted in bars; a varied phrase copies the first half (rounded up)."""
        from cadenza.codecs import PhraseGrid

        return PhraseGrid(per_bar=1, length=phrase_bars, opening=max(1, (phrase_bars + 1) // 2), tokens_per_unit=400, measured=True)

    def reach(self, tokens: list[str]) -> int:
        """Bars begun: the barline lines, and a bar still open after the last."""
        ends = self.barline_ends(tokens)
        return len(ends) + ((ends[-1] + 1 if ends else 0) < len(tokens))

    def reached(self, tokens: list[str], units: int) -> bool:
        return len(self.barline_ends(tokens)) >= units

    def cut(self, tokens: list[str], units: int, vocab: list[str]) -> list[str]:
        """Up to and including the ``units``-th barline line (all of ``tokens`` if fewer)."""
        ends = self.barline_ends(tokens)
        return tokens[: ends[units - 1] + 1] if len(ends) >= units else tokens

    def prompt_file(self, path: Path, bars: int, vocab: list[str], context: dict[str, Any], out: Path | None = None) -> tuple[str, dict[str, Any], Any]:
        """(prime, decoding context, prompt) to continue the kern file ``path`` from its last
        ``bars`` bars in its own metre, key and clefs (see :mod:`.prompt`). A MIDI / MusicXML
        file is written as kern first, and that score kept in ``out`` as ``NAME-prompt.krn``
        (the context's ``converted_prompt``), so the user sees what the model read."""
        from cadenza.codecs.kern.conditioning import metre_of
        from cadenza.codecs.kern.prompt import prompt_kern, read_kern_prompt

        spines = _prompt_spines(context)
        path = Path(path)
        text = prompt_kern(path, spines) if path.suffix.lower() != ".krn" else None
        kp = read_kern_prompt(path, bars, spines, vocab, context.get("cleaning", 1) >= CLEANING, text)
        ctx = dict(context, header=kp.header.to_dict(), metre=metre_of(kp.header.meter), resume=kp.resume)
        kp.name = path.stem
        if text is not None and out is not None:
            Path(out).mkdir(parents=True, exist_ok=True)
            converted = Path(out) / f"{path.stem}-prompt.krn"
            converted.write_text(text, encoding="utf-8")
            ctx["converted_prompt"] = str(converted)
            kp.converted = converted
        return kp.prime, ctx, kp

    def continuation_parts(self, path: Path, bars: int, seconds: float, vocab: list[str], context: dict[str, Any], out: Path) -> Any:
        """The file's last ``bars`` bars as the prime (:meth:`prompt_file`; characters the model
        never saw, such as a tempo's digits, are dropped); the checker resumes after them."""
        from cadenza.codecs.base import ContinuationParts

        path = Path(path)
        if path.suffix.lower() not in self.prompt_suffixes:
            raise CadenzaError(f"{path}: a kern model continues {', '.join(self.prompt_suffixes)} files (its own bars are kept as written)")
        if seconds > 0:  # whole bars of the file only: refused, not dropped
            raise CadenzaError("--prompt-seconds: a kern model continues from whole bars of the file; give --prompt-bars")
        prime, ctx, kp = self.prompt_file(path, bars, vocab, context, out)
        return ContinuationParts(list(prime), ctx, kp, map_unknown=True)

    def join_continuation(self, handle: Any, continuation: list[str], quarters: float, stem: Path, context: dict[str, Any] | None = None) -> tuple[Decoded, dict[str, Path]]:
        """The user's file unchanged, then the continuation's whole bars (see :mod:`.prompt`):
        ``stem.krn`` and ``stem.mid``, and the file the model read where it was converted. The
        chords of the new bars (``context``'s, where guidance followed them; a chord model's own
        lines) are an ``**mxhm`` spine."""
        from cadenza.codecs.kern.chord_lines import declared_chords
        from cadenza.codecs.kern.conditioning import metre_of
        from cadenza.codecs.kern.harm import spine_of_chord_lines
        from cadenza.codecs.kern.prompt import join_continuation
        from cadenza.music import write_midi

        text = self.whole_bars("".join(continuation))
        shown = text
        for offset, line in sorted(declared_chords(text, context or {}, resumed=True), reverse=True):
            shown = shown[:offset] + line + shown[offset:]
        kern, stats = join_continuation(handle, shown)
        kern = spine_of_chord_lines(kern)
        path = Path(f"{stem}.krn")  # not with_suffix: "bwv66.6-01" keeps its ".6"
        path.write_text(kern, encoding="utf-8")
        piece = self.to_piece(kern, handle.name)
        piece.chords = marker_chords(kern)
        files = {"krn": path, "mid": write_midi(piece, Path(f"{stem}.mid"))}
        if handle.converted is not None:
            files["prompt"] = handle.converted
        user_q = self.to_piece(handle.user_text).end
        stats.update({"prompt_quarters": round(user_q, 3), "continuation_quarters": round(piece.end - user_q, 3), "notes": sum(len(t.notes) for t in piece.tracks),
                      "metre": str(metre_of(handle.header.meter)), "parsed": True})
        return Decoded(handle.prime + text, stats, score=kern, read=lambda score: self.to_piece(score, handle.name)), files


    def infill_parts(self, path: Path, first: int, last: int, vocab: list[str], context: dict[str, Any], context_bars: int, suffix_bars: int) -> Any:
        """Bars ``first``-``last`` of the kern file ``path`` to rewrite (see :mod:`.kern_infill`; a MIDI
        or MusicXML file is written as kern first, bars numbered from 1): the checker starts from
        the header in force there, in its metre."""
        from cadenza.codecs import InfillParts
        from cadenza.codecs.kern.conditioning import metre_of
        from cadenza.codecs.kern.kern_infill import read_kern_infill

        from cadenza.codecs.kern.prompt import prompt_kern

        spines = _prompt_spines(context)
        path = Path(path)
        if path.suffix.lower() not in self.prompt_suffixes:
            raise CadenzaError(f"{path}: a kern model rewrites bars of {', '.join(self.prompt_suffixes)} files")
        text = prompt_kern(path, spines) if path.suffix.lower() != ".krn" else None  # MIDI, MusicXML: written as kern first
        kin = read_kern_infill(path, first, last, spines, context.get("cleaning", 1) >= CLEANING, context_bars, suffix_bars, text)
        ctx = dict(context, header=kin.header.to_dict(), metre=metre_of(kin.header.meter), resume=kin.resume)
        return InfillParts(list(kin.prefix), list(kin.suffix), last - first + 1, ctx, kin)

    def join_infill(self, handle: Any, middle: list[str], context: dict[str, Any]) -> Decoded:
        """The user's file with the bars replaced (every other line as it was). The chords of the
        rewritten bars (``context``'s, where guidance followed them, bar ``first`` under the
        first; a chord model's own lines) are an ``**mxhm`` spine, as for a continued file."""
        from cadenza.codecs.kern.chord_lines import declared_chords
        from cadenza.codecs.kern.conditioning import metre_of
        from cadenza.codecs.kern.harm import spine_of_chord_lines
        from cadenza.codecs.kern.kern_infill import join_infill

        text = "".join(middle)
        shown = text
        for offset, line in sorted(declared_chords(text, context, resumed=True), reverse=True):
            if offset < len(text):  # none after the barline that closes the range: the user's bar
                shown = shown[:offset] + line + shown[offset:]
        kern, stats = join_infill(handle, shown)
        kern = spine_of_chord_lines(kern)
        return Decoded(text, dict(stats, metre=str(metre_of(handle.header.meter))), score=kern, read=self.to_piece)

    def to_piece(self, kern: str, name: str = "") -> Any:
        """A kern file's notes as a :class:`~cadenza.music.Piece` (Cadenza's own reader)."""
        from cadenza.music.humdrum.to_piece import kern_to_piece

        return kern_to_piece(kern, name)

    def fit_prompt(self, encoded: Encoded, vocab: list[str], where: str) -> tuple[list[str], int]:
        """Cleaned kern characters, every one of them known to the model (nothing is approximated)."""

        known = set(vocab)
        bad = [(i, c) for i, c in enumerate(encoded.text) if c not in known]
        if bad:
            raise CadenzaError(f"{where}: {len(bad)} character(s) the model never saw: {', '.join(f'{c!r} at {i}' for i, c in bad[:5])}")
        return list(encoded.text), 0


def _prompt_spines(context: dict[str, Any]) -> int:
    """The staves a user's file must have: the model's, or 0 (its own) for a model of every layout."""
    return 0 if context.get("layouts") else int((context.get("header") or {}).get("spines") or 2)


def _first_fifths(header: Header) -> int:
    for k in header.keysig:
        if _KEYSIG.match(k):
            return _keysig_fifths(k)
    return 0


def most_common_header(headers: list[dict[str, Any]], spines: int) -> Header:
    """The preamble generated samples get: the most common clefs, key signature, key, metre and
    tempo of the training pieces with this layout."""
    hs = [Header.from_dict(h) for h in headers if h["spines"] == spines]
    if not hs:
        return default_header(spines)

    def mode(values: list[Any]) -> Any:
        vals = [v for v in values if v is not None]
        return Counter(vals).most_common(1)[0][0] if vals else None

    clefs = mode([tuple(h.clefs) for h in hs])
    keysig = mode([tuple(h.keysig) for h in hs])
    # key must agree with the key signature we picked
    keys = [h.key for h in hs if tuple(h.keysig) == keysig]
    return Header(
        spines,
        list(clefs) if clefs else default_header(spines).clefs,
        list(keysig) if keysig else ["*k[]"] * spines,
        mode(keys),
        meter := mode([h.meter for h in hs]),
        mode([h.met for h in hs if h.meter == meter]),  # a mensuration sign that fits the metre
        mode([h.tempo for h in hs]),
    )
