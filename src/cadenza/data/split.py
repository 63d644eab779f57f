"""Splitting a corpus by piece: near-duplicates grouped, then a seeded split that stays put.

Splits are by *piece*, never by line, and near-duplicates (a movement whose bars also occur in
another file, like the Waldstein coda stored twice) are grouped so both land on the same side.
Transposed copies (:func:`parse_transpose` reads the ``--transpose`` flag) are made after the
split and stay on their piece's side.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from cadenza import CadenzaError
from cadenza.codecs import Codec, Encoded


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def group_duplicates(pieces: list[Encoded], codec: Codec, share: float = 0.3) -> list[int]:
    """Union pieces that share at least ``share`` of the smaller one's passages (the codec's
    :meth:`~cadenza.codecs.base.Codec.passages`: kern, 4 bars running); returns a group id per
    piece. Exact duplicates share everything and are caught too."""
    parent = list(range(len(pieces)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    windows = [{_hash(*w) for w in codec.passages(p.text)} for p in pieces]
    owners: dict[int, list[int]] = {}
    for i, ws in enumerate(windows):
        for w in ws:
            owners.setdefault(w, []).append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for idx in owners.values():
        if 1 < len(idx) <= 50:
            for a in range(len(idx)):
                for b in range(a + 1, len(idx)):
                    shared[(idx[a], idx[b])] += 1
    for (a, b), n in shared.items():
        smaller = max(1, min(len(windows[a]), len(windows[b])))
        if n / smaller >= share:
            parent[find(a)] = find(b)
    return [find(i) for i in range(len(pieces))]


def split_groups(names_by_group: dict[int, list[str]], sizes: dict[int, int], seed: int, val: float, test: float,
                 fixed: dict[int, str] | None = None) -> dict[int, str]:
    """Assign each group to train/val/test. Order is a seeded hash of the group's first piece
    name, so adding files to a corpus does not reshuffle the pieces already there; the test and
    validation sets take groups in that order until they hold their share of the tokens.
    ``fixed``: groups whose side is already decided (``prepare --hold-out``: pieces another
    dataset holds out stay held out here); they count towards their side's share."""
    fixed = fixed or {}
    order = sorted((g for g in names_by_group if g not in fixed), key=lambda g: _hash(str(seed), min(names_by_group[g])))
    total = sum(sizes.values())
    out: dict[int, str] = dict(fixed)
    acc = {"test": sum(sizes[g] for g, s in fixed.items() if s == "test"), "val": sum(sizes[g] for g, s in fixed.items() if s == "val")}
    want = {"test": test * total, "val": val * total}
    for g in order:
        if len(order) + len(fixed) >= 3 and acc["test"] < want["test"] and (acc["test"] == 0 or acc["test"] + sizes[g] / 2 <= want["test"]):
            out[g], acc["test"] = "test", acc["test"] + sizes[g]
        elif len(order) + len(fixed) >= 2 and acc["val"] < want["val"] and (acc["val"] == 0 or acc["val"] + sizes[g] / 2 <= want["val"]):
            out[g], acc["val"] = "val", acc["val"] + sizes[g]
        else:
            out[g] = "train"
    return out


MOST = 0.5  # a piece holding more than this share of the corpus's tokens is warned of


def split_warnings(rows: list[dict], val: float, test: float) -> list[str]:
    """One line per thing wrong with a split of ``rows`` (``pieces.jsonl`` rows: name, split,
    transpose, tokens): a validation or test split asked for but empty (a corpus of one or two
    pieces cannot fill three sides: the model is then never measured on music it did not see),
    or one piece holding most of the corpus (one 60 MB file: whichever side it lands on holds
    most of the corpus, and the first piece in the seeded order goes to test whatever its size)."""
    own = [r for r in rows if not r["transpose"]]
    out = []
    empty = [name for split, name, share in (("val", "validation", val), ("test", "test", test)) if share > 0 and not any(r["split"] == split for r in own)]
    if empty:
        out.append(f"the {' and '.join(empty)} split{'s are' if len(empty) > 1 else ' is'} empty: {len(own)} piece(s) cannot fill train, validation and test; "
                   "give more pieces (or --val-fraction 0 / --test-fraction 0 if that is meant)")
    total = sum(r["tokens"] for r in own)
    big = max(own, key=lambda r: r["tokens"], default=None)
    if big is not None and len(own) > 1 and big["tokens"] > MOST * total:
        out.append(f"one piece holds {big['tokens'] / total:.0%} of the corpus ({big['name']}, {big['tokens']:,} of {total:,} tokens, in {big['split']}): "
                   f"the split is by piece, so {big['split']} holds most of the corpus")
    return out


def parse_transpose(spec: str | None) -> list[int]:
    """``all`` -> the 12 shifts -5..+6; ``N`` or ``N,M,..`` -> those shifts (0 is the original)."""
    if not spec:
        return [0]
    if spec == "all":
        return list(range(-5, 7))
    try:
        shifts = sorted({0, *(int(s) for s in spec.split(","))})
    except ValueError:
        raise CadenzaError(f"--transpose {spec!r}: use 'all' or semitone shifts like '2' or '-2,2'") from None
    if any(abs(s) > 12 for s in shifts):
        raise CadenzaError(f"--transpose {spec!r}: shifts must be within an octave (-12..12)")
    return shifts
