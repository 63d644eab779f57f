"""Token shapes the corpus writes: which signifiers a generated note or rest may carry.

The lenient grammar (:mod:`cadenza.codecs.kern.grammar`) accepts any signifiers in any order,
up to caps, because real files do; that is right for checking real files, but a sampler that
keeps to it writes shapes no composer wrote and strict parsers reject: rests with beams or
stems (``8rJ``, ``4r/``) and pile-ups (``8rJ)J)J/J``), all read by music21, refused by kernpy
(issue #10). The *generation* grammar therefore allows only the shapes of
:class:`TokenShapes`: a note's prefix (before its duration) and its suffix (grace marks before
the pitch plus everything after pitch and accidentals) must each be one the corpus uses, a
rest's suffix one a corpus rest uses, and rests take no prefix.

:data:`MOZART` was learned with :func:`learn_shapes` from the Mozart piano sonatas
(KernScores, ``../shared/corpora/mozart-piano-sonatas``, cleaned text): every shape written at
least three times, ASCII, and loading in kernpy (``tests/test_kern_grammar.py`` checks both).
``cadenza prepare`` learns each dataset's own table the same way (the dataset's generation
context, ``shapes``): a Palestrina model writes no beams because Palestrina writes none, and a
Beethoven model may use the shapes Beethoven uses and Mozart does not; runs whose dataset recorded none use :data:`MOZART`. Checking real
files stays lenient: pass ``shapes=None``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from cadenza.codecs.kern.grammar import SUFFIX_CAPS

_PREFIX_CHARS = frozenset("([&<>{/\\)")
_SUBTOKEN = re.compile(r"^(?P<pre>[^0-9a-gA-Gr]*)(?P<dur>[0-9]+\.*)?(?P<mid>[qP]*)(?P<pitch>r[a-gA-G]*|([a-gA-G])\5*)(?P<acc>[#\-n]*)(?P<suf>.*)$")


@dataclass(frozen=True)
class TokenShapes:
    """The prefixes a note may open with, the suffixes a note / a rest may end with (all
    include ``""``). The ``*_open`` sets hold every beginning of one (what may still grow)."""

    note_prefixes: frozenset[str]
    note_suffixes: frozenset[str]
    rest_suffixes: frozenset[str]

    def __post_init__(self) -> None:
        for name in ("note_prefixes", "note_suffixes", "rest_suffixes"):
            full = frozenset(getattr(self, name)) | {""}
            object.__setattr__(self, name, full)
            object.__setattr__(self, name[:-2] + "_open", frozenset(s[:i] for s in full for i in range(len(s) + 1)))

    def to_dict(self) -> dict[str, list[str]]:
        return {k: sorted(getattr(self, k)) for k in ("note_prefixes", "note_suffixes", "rest_suffixes")}

    @classmethod
    def from_dict(cls, d: dict[str, list[str]]) -> "TokenShapes":
        return cls(*(frozenset(d[k]) for k in ("note_prefixes", "note_suffixes", "rest_suffixes")))


def shapes_of(texts: Iterable[str]) -> Counter:
    """Counts of (kind ``"n"``/``"r"``, prefix, suffix) over the data tokens of cleaned texts."""
    got: Counter = Counter()
    for text in texts:
        for line in text.split("\n"):
            if not line or line[0] in "*@!":
                continue
            for tok in line.split("\t"):
                for s in tok.split(" ") if tok != "." else ():
                    m = _SUBTOKEN.match(s)
                    if m:
                        rest = m["pitch"].startswith("r")
                        got["r" if rest else "n", m["pre"], m["mid"] + m["suf"]] += 1
    return got


def learn_shapes(texts: Iterable[str], min_count: int = 3) -> TokenShapes:
    """The shapes cleaned texts write at least ``min_count`` times, spelled with signifiers the
    lenient grammar knows (rests: no prefix)."""
    pre: Counter = Counter()
    suf: Counter = Counter()
    rest: Counter = Counter()
    for (kind, p, s), n in shapes_of(texts).items():
        if kind == "n":
            pre[p] += n
            suf[s] += n
        elif p == "":
            rest[s] += n
    keep = lambda c, chars: frozenset(s for s, n in c.items() if n >= min_count and set(s) <= chars) | {""}  # noqa: E731
    sig = frozenset(SUFFIX_CAPS)
    return TokenShapes(keep(pre, _PREFIX_CHARS), keep(suf, sig), keep(rest, sig))


MOZART = TokenShapes(
    frozenset(['', '(', '((', '()', '(<', '(<\\', '(>', '(>(', '(>(<', '(>/', '(>[', '([', '[', '[<', '[>']),
    frozenset((
    "' ) / : ; < > J K L M T X \\ ] _ k p q t z ') '/ ': '< '> 'J 'L '\\ )) )/ )J /' /) /J "
    "/L /] /q :/ ;< <' </ <J <L >) >/ >J >\\ J) JJ Jk L) L/ L< L> LK LL LM L\\ L] Lk ML T) "
    "TJ TL TT X' X) X/ X: XJ XL Xk \\' \\) \\L ]) ]L ^L k) mJ p) q/ qq tJ tL tt z) '<J '<L "
    "'<\\ '>J '>L 'J) 'JJ 'Jk 'L) 'L< 'LL 'p) /'J /JJ /LL /qq <'> <'J <JJ <L> <LL >)/ >/) "
    '>J) >JJ >L> >LL >\\) JJ) JJ/ JJJ JJ\\ JJk Jk) Jkk L<) L<] L>) L>] LK) LK] LL) LL/ LL< '
    "LL> LLK LLL LLM LL\\ LL] MLL Pqq SSs SsS TJJ TLL TT) TTJ TTL X'J XJ) XJJ XL) XLL XTL "
    "\\JJ \\LL ]LL mLL p)J p)L pJ) pL) qJJ qLL qq/ qqP tJ) tLL ttL '>J) '>JJ 'JJ) 'JJJ 'JJk "
    "'Jkk 'LL) 'LL< 'LL> 'LLL 'pL) /qJJ <JJ) <LL/ <LL< >JJ) >qq/ JJJ) JJJ/ JJJJ JJJ\\ JJk) "
    'LL<] LLL) LLL/ LLL< LLL> LLLL LLL\\ LLL] LL]) MLLL P/qq Pqq/ SSSL SSsL SsSL TLLL TTT] '
    "XJJ) XJJJ XLL< XLLL _TTT q/JJ q/LL qJJ) qJJ/ qJJJ qLL/ qLL> qLLL 'JJJ) 'LLL) 'LLL> "
    '/qJJJ /qLLL <LLL< JJJ)\\ JJJJ) JJJk) LLLL] SSsLL SsSLL XPqq/ XSSsL q/JJ) q/JJJ q/LLL '
    'qJJJ) qLLL> sSSsLL'
    ).split(" ")),
    frozenset(['', ';', '>', 'yy']),
)
