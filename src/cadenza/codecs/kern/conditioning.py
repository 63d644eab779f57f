"""Metre and key the musician chooses (``--metre 3/4 --key F``, a
:class:`~cadenza.music.metre_key.Metre` and :class:`~cadenza.music.metre_key.Key`) or the corpus
suggests: written as kern tokens (only here) into a :class:`Header`, opened as the prime of a model trained on headed text, enforced by the
checker; and the header in force at any point of a cleaned text (a training window's prefix).

A text cleaned with headers (:data:`CLEANING` 2) opens with clefs, key signature, key and
metre, so a model learns to write bars of the metre it was told, in its key. Generation opens
the prime the same way; without ``--metre``/``--key`` the pair is drawn (seeded) from the
training pieces' own openings, so a corpus of 3/4 minuets mostly gets 3/4.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cadenza import CadenzaError
from cadenza.codecs.kern.grammar import METERS
from cadenza.codecs.kern.harm import is_chord_line
from cadenza.codecs.kern.header import CLEANING, Header
from cadenza.music.humdrum.interpretations import keysig_fifths, keysig_token, kind_of
from cadenza.music.humdrum.spines import BAR, follow, is_manipulator_line, spine_moves
from cadenza.music.metre_key import Key, Metre


def parse_metre(metre: str | Metre) -> tuple[int, int]:
    """``"3/4"`` or Metre(3, 4) -> (3, 4): a metre the checker can write (up to 4/1, 8/2, 12/4,
    18/8, 24/16)."""
    m = Metre.parse(metre)
    if (m.numerator, m.denominator) not in METERS:
        raise CadenzaError(f"--metre {str(metre)!r}: give a time signature such as 3/4, 6/8, 4/2 or 12/8")
    return m.numerator, m.denominator


def parse_key(key: str | Key) -> tuple[str, int]:
    """A :class:`Key` (or its text, see :meth:`Key.parse`) as its kern token and key signature in
    fifths: ``"F"`` -> (``"*F:"``, -1), ``"bb"`` -> (``"*b-:"``, -5), ``"G dorian"`` ->
    (``"*G:dor"``, -1): minor in lower case, a mode by its first three letters after the final,
    in the case it was given (Palestrina ``*G:dor``, the Bach chorales ``*a:dor``)."""
    k = Key.parse(key)
    mode = "" if k.mode in ("major", "minor") else k.mode[:3]
    return f"*{k.tonic[0]}{k.tonic[1:].replace('b', '-')}:{mode}", k.fifths


def metre_of(token: str) -> Metre:
    """A header's ``*M`` token as the :class:`Metre` the decoding context carries (``"*M3/4"``,
    ``"*M6/8%..."`` -> Metre(3, 4), Metre(6, 8)): the file's token read at the edge, once."""
    num, den = (int(x) for x in token[2:].split("%")[0].split("/"))
    return Metre(num, den)


def key_name(token: str | None) -> str:
    """``"*B-:"`` -> ``"Bb"``, ``"*G:dor"`` -> ``"G:dor"`` (as ``--key`` takes them); ``"?"`` for none."""
    return token[1:].removesuffix(":").replace("-", "b") if token else "?"


def signature_name(keysig: str) -> str:
    """``"*k[f#]"`` -> ``"signature of 1 sharp"`` (reported as "key signature of 1 sharp"): what a
    drawn opening that declares no key is in (the Joplin rags declare theirs after the first barline)."""
    fifths = keysig_fifths(keysig) if "[" in keysig else 0
    count = f"{abs(fifths)} {'sharp' if fifths > 0 else 'flat'}{'s' if abs(fifths) > 1 else ''}" if fifths else "no sharps or flats"
    return f"signature of {count}"


def main_meter(text: str) -> str | None:
    """The ``*M`` token most bars of a cleaned text are in: a tune whose first bar is a pickup
    written in a metre of its own (``*M1/8``, as MIDI and ABC conversions write an anacrusis)
    opens in 1/8, but is in 6/8."""
    bars: Counter = Counter()
    current = None
    for line in text.split("\n"):
        if line.startswith("*M") and line[2:3].isdigit():
            current = line.split("\t")[0]
        elif line == BAR and current:
            bars[current] += 1
    return bars.most_common(1)[0][0] if bars else None


def openings(headers: list[Header], labels: list[dict[str, str]] | None = None, meters: list[str | None] | None = None) -> list[list[Any]]:
    """[metre, key, key signature, pieces] of the training pieces: what ``condition`` draws from.
    With ``labels`` (a dataset of many layouts, one dict per piece) each row also carries the
    staves' clefs (tab-joined) and the pieces' labels, so a sample asked for by label opens in
    the layout of the pieces that carry it (a chorale on four staves, a folk tune on one)."""
    if labels is None:
        got = Counter((h.meter, h.key, h.keysig[-1] if h.keysig else "*k[]") for h in headers if h.meter)
        return [[m, k, ks, c] for (m, k, ks), c in sorted(got.items(), key=lambda x: (-x[1], str(x[0])))]
    meters = meters or [None] * len(headers)  # each piece's main metre, where its opening bar is a pickup in its own
    rich = Counter((m or h.meter, h.key, h.keysig[-1] if h.keysig else "*k[]", "\t".join(h.clefs), tuple(sorted(lab.items())))
                   for h, lab, m in zip(headers, labels, meters) if h.meter)
    return [[m, k, ks, c, clefs, dict(lab)] for (m, k, ks, clefs, lab), c in sorted(rich.items(), key=lambda x: (-x[1], str(x[0])))]


def _with_labels(pool: list[list[Any]], labels: dict[str, str] | None) -> list[list[Any]]:
    """The openings of pieces that carry every label asked for (matched as ``label_prime``
    matches them, ignoring case), or all of them when none does or none is asked."""
    if not labels or not pool or len(pool[0]) < 6:
        return pool
    want = {k: str(v).casefold().replace(" ", "_") for k, v in labels.items() if v}
    return [o for o in pool if all(str(o[5].get(k, "")).casefold() == v for k, v in want.items())] or pool


def condition(context: dict[str, Any], vocab: list[str], metre: Metre | None, key: Key | None, seed: int,
              labels: dict[str, str] | None = None) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """(prime, decoding context, what to report) for a sample in ``metre`` and ``key``.

    A model trained on headed text gets a prime that opens with the header (it is conditioned
    on it); an older one keeps its prime, and the checker and the restored file keep the
    metre and key. Lines the vocabulary cannot spell (a key the corpus never names) are left
    out of the prime, not of the file. Missing choices are drawn from the training openings (seeded); an older
    model without either flag is left as it was."""
    base = Header.from_dict(context["header"]) if "header" in context else None
    headed = context.get("cleaning", 1) >= CLEANING
    if base is None or (not headed and metre is None and key is None):
        return None, context, {}
    rng = random.Random(seed)
    pool = _with_labels([o for o in context.get("openings", []) if o[0]], labels)
    if metre is not None:
        num, den = parse_metre(metre)
        pool = [o for o in pool if o[0] == f"*M{num}/{den}"] or pool
    if key is not None:
        key_tok, fifths = parse_key(key)
        pool = [o for o in pool if o[1] == key_tok] or pool
    drawn = rng.choices(pool, weights=[o[3] for o in pool])[0] if pool else [base.meter or "*M4/4", base.key, base.keysig[-1], 1]
    meter_tok = f"*M{num}/{den}" if metre is not None else drawn[0]
    if key is not None:
        keysig = keysig_token(fifths)
    else:
        key_tok, keysig = drawn[1], drawn[2]
    clefs = drawn[4].split("\t") if len(drawn) > 4 else list(base.clefs)  # a model of many layouts: the drawn piece's staves
    header = Header(len(clefs), clefs, [keysig] * len(clefs), key_tok, meter_tok, None, base.tempo)
    chosen = metre_of(meter_tok)
    known = set(vocab)
    prime = "".join(x + "\n" for x in header.opening() if set(x) <= known) + BAR + "\n" if headed else None
    info = {"metre": str(chosen), "key": key_name(key_tok) if key_tok else signature_name(keysig),
            "chosen": "given" if metre is not None and key is not None else "drawn" if metre is None and key is None else "given+drawn",
            "conditioned": headed}
    return prime, dict(context, header=header.to_dict(), metre=chosen), info


@dataclass(frozen=True)
class SettledMetre:
    """The metre a constrained sample settled on (the one asked for, or the length of its bars)
    and ``declared``: (offset in the text, ``*M`` line) before each run of bars of another length,
    so every bar matches a declared metre (offset -1: the first bar's own, which goes in the
    header: music21 reads a metre line right after the opening barline as a second one)."""

    meter: tuple[int, int]
    declared: tuple[tuple[int, str], ...] = ()

    def apply(self, text: str, context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """``text`` with the ``*M`` lines, ``context`` with the metre in its header (and a
        mensuration sign only where it fits the metre)."""
        head = f"*M{self.meter[0]}/{self.meter[1]}"
        for offset, line in sorted(self.declared, reverse=True):
            if offset < 0:
                head = line.split("\t")[0].strip()
            else:
                text = text[:offset] + line + text[offset:]
        if "header" in context:
            header = dict(context["header"], meter=head)
            if header.get("met") and not (tuple(self.meter) == (4, 4) and header["met"] == "*met(c)"):
                header["met"] = None
            context = dict(context, header=header)
        return text, context


def window_prefix(text: str) -> list[tuple[int, str]]:
    """(offset, header text) wherever the header in force changes in a cleaned piece: a training
    window starting at or after the offset (up to the next one) gets the text prepended, so a
    window cut from the middle of a piece still knows its metre, key and clefs, and (a text with
    chord lines, :mod:`.harm`) the chord of the bar it starts in. The columns follow spine
    splits and merges; ``""``: nothing declared yet."""
    n = None
    cols: dict[str, list[str]] = {}
    out: list[tuple[int, str]] = [(0, "")]
    offset = 0
    chord = ""  # the chord line in force (prepare --condition chords), after the header
    for line in text.split("\n"):
        offset += len(line) + 1
        if is_chord_line(line):
            chord = line + "\n"
            out.append((offset, _header_text(cols, n) + chord))
            continue
        if not line.startswith("*"):
            continue
        toks = line.split("\t")
        if n is None or len(toks) != n and not is_manipulator_line(toks):
            n = len(toks)
        changed = False
        if is_manipulator_line(toks):
            try:
                moves = spine_moves(toks)
            except ValueError:
                continue
            cols = {k: follow(v, moves) for k, v in cols.items() if len(v) == len(toks)}
            n = len(moves)
            changed = True
        else:
            for j, t in enumerate(toks):
                kind = kind_of(t)
                if kind:
                    v = cols.setdefault(kind, [""] * len(toks))
                    if len(v) == len(toks):
                        v[j] = t
                        changed = True
        if changed:
            out.append((offset, _header_text(cols, n) + chord))
    return out


def _header_text(cols: dict[str, list[str]], n: int | None) -> str:
    lines = ["\t".join(cols[k]) for k in ("clef", "keysig", "key", "meter") if k in cols and len(cols[k]) == n and all(cols[k])]
    return "".join(x + "\n" for x in lines)
