"""Fill-in-the-middle sentinels: the tokens that let a left-to-right model write the middle of a
piece after reading what comes before *and* after it.

Bavarian et al. (2022, "Efficient Training of Language Models to Fill in the Middle") show that
moving a random middle span of a training text to its end, behind sentinel tokens,

    <prefix> A <suffix> C <middle> B <end>

teaches a causal model to infill at almost no cost to ordinary left-to-right quality. The
Anticipatory Music Transformer does the same for music. Cadenza adds four sentinels to a model's
vocabulary when it is trained with ``--fim-rate`` (they never occur in a corpus):

* character codecs (kern): four characters from Unicode's private use area;
* word codecs (notewise, chordwise): ``<fim:prefix>`` ... words, which no codec word looks like.
"""

from __future__ import annotations

ROLES: tuple[str, ...] = ("prefix", "suffix", "middle", "end")
_CHARS = {"prefix": "\ue000", "suffix": "\ue001", "middle": "\ue002", "end": "\ue003"}


def sentinel(role: str, unit: str) -> str:
    """The token that marks ``role`` (one of :data:`ROLES`) for a codec of ``unit``."""
    return _CHARS[role] if unit == "char" else f"<fim:{role}>"


def sentinels(unit: str) -> list[str]:
    return [sentinel(r, unit) for r in ROLES]


def with_sentinels(vocab: list[str], unit: str) -> list[str]:
    """``vocab`` with the sentinels appended (at the end, so every corpus token keeps its id)."""
    return list(vocab) + [s for s in sentinels(unit) if s not in vocab]


def can_infill(vocab: list[str], unit: str) -> bool:
    """Whether a model of ``vocab`` was trained to fill in the middle."""
    return all(s in vocab for s in sentinels(unit))


def strip_sentinels(text: str, unit: str) -> str:
    """Generated text without sentinels (a model trained with FIM may, rarely, write one)."""
    if unit == "char":
        return text.translate({ord(c): None for c in _CHARS.values()})
    marks = set(sentinels(unit))
    return " ".join(w for w in text.split(" ") if w not in marks)


def prime_only(vocab: list[str], unit: str, keep: tuple[str, ...] = ()) -> list[int]:
    """Ids of the tokens that belong in a prime, never in sampled music: the sentinels and, for
    word codecs, conditioning labels (``<composer:Chopin>``; kern's ``!!!COM:`` lines are kept
    out by its checker), but not chord words (``<chord:C7>``: each bar's, see .bar_chords). ``keep``: tokens still allowed (``<fim:end>`` while infilling)."""
    import re

    marks = set(sentinels(unit)) - set(keep)
    if unit == "char":
        return [i for i, t in enumerate(vocab) if t in marks]
    return [i for i, t in enumerate(vocab) if t not in keep and (t in marks or re.fullmatch(r"<[a-z]+:[^<>\s]+>", t) and not t.startswith("<chord:"))]


def fim_format(config: dict) -> str:
    """The layout a run was trained with: ``spm`` (suffix first) or ``psm``; runs that do not
    say were trained before SPM existed, with PSM."""
    return str((config.get("train") or {}).get("fim_format") or "psm")


def fim_prime(prefix: list, suffix: list, marks: dict, layout: str) -> list:
    """What a FIM-trained model reads before it writes the middle: ``<suffix> C <prefix> A``
    (spm: the middle goes straight on from the prefix) or ``<prefix> A <suffix> C <middle>``.
    ``marks``: each role's sentinel, as a token or as an id (the same for the parts)."""
    if layout == "spm":
        return [marks["suffix"]] + list(suffix) + [marks["prefix"]] + list(prefix)
    return [marks["prefix"]] + list(prefix) + [marks["suffix"]] + list(suffix) + [marks["middle"]]
