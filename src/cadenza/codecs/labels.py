"""Conditioning labels (composer, style, instrument) as tokens that open a piece.

MuseNet and NotaGen steer a model by writing what is wanted (period, composer, instruments) in
front of the music; a model trained on pieces that open so learns to write what its opening
says. The labels are codec-neutral text, added by ``prepare`` in front of the codec's own
encoding, and each training window cut from inside a piece gets them again as its prefix
(:func:`cadenza.data.dataset.write_prefixes`), so a window from bar 40 still knows its composer.

* word codecs (notewise, chordwise): one word per label, ``<composer:Chopin>``, which no codec
  word looks like (spaces in a label become ``_``);
* character codecs (kern): one Humdrum reference record per label, ``!!!COM: Chopin``,
  ``!!!AST: romantic`` (style), ``!!!AIN: piano`` (instrumentation), as kern files write them:
  restoring drops ``!`` lines, so a sample's labels never reach its music.

A dataset's generation context records the labels it knows (``context["labels"]``:
``{"composer": ["Bach", "Chopin"], ...}``); :func:`label_prime` turns a musician's
``--composer Chopin`` into the text generation starts with, and refuses a label the model
never saw with the list of those it knows.
"""

from __future__ import annotations

import re
from typing import Any

from cadenza import CadenzaError

KINDS: tuple[str, ...] = ("composer", "style", "instrument")
# Humdrum reference record of each kind (COM composer, AST style/period, AIN instrumentation)
RECORDS: dict[str, str] = {"composer": "COM", "style": "AST", "instrument": "AIN"}
_KIND_OF_RECORD = {v: k for k, v in RECORDS.items()}
_WORD = re.compile(r"<([a-z]+):([^<>\s]+)>")
_LINE = re.compile(r"!!!([A-Z]{3}): (.*)")


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """``"composer,style"`` -> ("composer", "style"), in :data:`KINDS` order; an unknown kind is
    an error naming the known ones."""
    got = [k.strip().lower() for k in (text or "").split(",") if k.strip()]
    bad = [k for k in got if k not in KINDS]
    if bad:
        raise CadenzaError(f"--condition {text!r}: {', '.join(bad)} is not a label kind; choose among {', '.join(KINDS)} (and chords)")
    return tuple(k for k in KINDS if k in got)


def split_condition(text: str | None) -> tuple[str | None, bool]:
    """``"composer,chords"`` -> (``"composer"``, True): the label kinds, and whether each bar
    opens with its chord (``chords`` is a codec option, see :mod:`cadenza.codecs.bar_chords`,
    not a label)."""
    got = [k.strip() for k in (text or "").split(",") if k.strip()]
    chords = any(k.lower() == "chords" for k in got)
    rest = ",".join(k for k in got if k.lower() != "chords")
    return rest or None, chords


def normalise(value: str) -> str:
    """A label as a token can hold it: one line, no angle brackets, spaces as ``_``."""
    return "_".join(re.sub(r"[<>:\t\n\r!]", " ", str(value)).split())


def label_text(labels: dict[str, str], unit: str) -> str:
    """The text that opens a piece with ``labels`` ("" for none), in :data:`KINDS` order; it
    ends where the music begins (a newline for characters, a space for words)."""
    items = [(k, normalise(labels[k])) for k in KINDS if labels.get(k)]
    items = [(k, v) for k, v in items if v]
    if not items:
        return ""
    if unit == "char":
        return "".join(f"!!!{RECORDS[k]}: {v}\n" for k, v in items)
    return " ".join(f"<{k}:{v}>" for k, v in items) + " "


def split_labels(text: str, unit: str) -> tuple[dict[str, str], str]:
    """(labels, the rest) of a text that may open with label text (as :func:`label_text` wrote
    it); only the labels at the very start count."""
    labels: dict[str, str] = {}
    if unit == "char":
        pos = 0
        while text.startswith("!!!", pos):
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            m = _LINE.fullmatch(text[pos:end])
            if not m or m.group(1) not in _KIND_OF_RECORD:
                break
            labels[_KIND_OF_RECORD[m.group(1)]] = m.group(2)
            pos = end + 1
        return labels, text[pos:]
    rest = text.lstrip()
    while True:
        m = _WORD.match(rest)
        if not m or m.group(1) not in KINDS:
            return labels, rest
        labels[m.group(1)] = m.group(2)
        rest = rest[m.end() :].lstrip()


def strip_labels(text: str, unit: str) -> str:
    """``text`` without the labels that open it (what a decoder reads)."""
    return split_labels(text, unit)[1]


def known_labels(context: dict[str, Any] | None) -> dict[str, list[str]]:
    """The labels a model was trained with, by kind (``{}``: not conditioned)."""
    got = (context or {}).get("labels") or {}
    return {k: list(got[k]) for k in KINDS if isinstance(got.get(k), list) and got[k]}


def label_prime(context: dict[str, Any] | None, vocab: list[str], composer: str | None = None, style: str | None = None, instrument: str | None = None, unit: str = "word") -> str:
    """The text to put before the default prime for samples by ``composer`` in ``style`` for
    ``instrument`` ("" when none is asked for). A label the model never saw (or a model without
    labels) is a :class:`CadenzaError` listing the ones it knows; a label is matched ignoring
    case and spaces (``--composer chopin`` is ``Chopin``). ``unit``: the codec's token unit."""
    asked = {k: v for k, v in (("composer", composer), ("style", style), ("instrument", instrument)) if v}
    if not asked:
        return ""
    known = known_labels(context)
    chosen: dict[str, str] = {}
    for kind, value in asked.items():
        have = known.get(kind, [])
        if not have:
            trained = ", ".join(f"--{k}" for k in known) or "none"
            raise CadenzaError(f"--{kind} {value}: this model was not trained with {kind} labels (it knows: {trained}); prepare its dataset with --condition {kind}")
        want = normalise(value).casefold()
        match = next((h for h in have if h.casefold() == want), None)
        if match is None:
            raise CadenzaError(f"--{kind} {value}: unknown {kind}; this model knows {', '.join(have)}")
        chosen[kind] = match
    text = label_text(chosen, unit)
    from cadenza.codecs.base import split_tokens

    missing = sorted({t for t in split_tokens(text, unit) if t not in set(vocab)})
    if missing:
        raise CadenzaError(f"the model's vocabulary lacks {', '.join(map(repr, missing[:5]))} of its own labels: prepare and train it again")
    return text
