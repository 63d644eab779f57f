"""What to generate, as one value: :class:`Request` (and the :class:`SamplingOptions` in it).

The command line, ``compose``, the Python API and the web page all describe what they want as
a Request and hand it to :func:`cadenza.generation.generate`; the Request checks once, when it
is made, which of its options go together, so no caller repeats the rules. Its defaults are the
one set every command starts from (``DEFAULT``): temperature 1 and no cut of the tail (top-p 1),
the model's own distribution, as char-rnn samples.

Imports no torch: the command line builds its options from these defaults before any model
is opened.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from cadenza import CadenzaError
from cadenza.music.metre_key import Key, Metre


@dataclass(frozen=True)
class SamplingOptions:
    """How the next token is chosen. ``temperature`` < 1 is more conservative; ``top_k``/``top_p``/
    ``min_p`` cut the unlikely tail; ``random_freq``/``trunc`` is Clara's rule: take the top guess,
    but with probability ``random_freq`` sample among the top ``trunc`` guesses instead."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    min_p: float = 0.0
    random_freq: float = 0.0
    trunc: int = 0

    def validate(self) -> None:
        if self.temperature <= 0:
            raise CadenzaError("--temperature must be > 0")
        if not 0 < self.top_p <= 1:
            raise CadenzaError("--top-p must be in (0, 1]")
        if not 0 <= self.min_p < 1:
            raise CadenzaError("--min-p must be in [0, 1)")
        if not 0 <= self.random_freq <= 1:
            raise CadenzaError("--random-freq must be in [0, 1]")


@dataclass(frozen=True)
class Request:
    """What to generate.

    How much: ``n`` samples (drawn as one batch) of ``length`` new tokens, or until ``bars`` bars
    (``seconds`` of music, for grid codecs) are written. How: ``seed`` (None: a fresh one, see
    :meth:`seeded`), ``options`` (how each token is chosen), ``beam`` search (``beam_sample``:
    stochastic), a ``form`` such as AABA of ``phrase_bars``-bar phrases, the codec's decoding
    ``constrained`` (None: where it has one). From what: a ``prime`` text (``map_unknown``: drop
    tokens the model never saw), the ``metre`` and ``key`` (a :class:`Metre` and :class:`Key`,
    or their text, parsed here: ``"3/4"``, ``"F"``, ``"g"``, ``"G:dor"``; None: drawn from the
    training pieces), ``labels`` (``{"composer": "Chopin"}``), ``chords``
    bar by bar (``"F | C7 | F | Bb"``, or ``"I | V7 | I | IV"`` in ``key``; see
    :attr:`progression`) for a model prepared with ``--condition chords``, or a music
    file: ``prompt`` continued from its last ``prompt_bars`` bars (or ``prompt_seconds``), or,
    with ``rewrite`` (first, last bar), those bars of it written anew, reading ``context_bars``
    bars before and ``suffix_bars`` after."""

    n: int = 1
    length: int = 2000
    bars: int = 0
    seconds: float = 0.0
    seed: int | None = 0
    options: SamplingOptions = SamplingOptions()
    prime: str | None = None
    map_unknown: bool = False
    form: str | None = None
    phrase_bars: int = 4
    beam: int = 0
    beam_sample: bool = False
    constrained: bool | None = None
    metre: Metre | str | None = None  # text ("3/4") is parsed when the request is made: a Metre after
    key: Key | str | None = None  # text ("F", "g", "G dorian") likewise: a Key after
    labels: Mapping[str, str] = field(default_factory=dict)
    chords: str | None = None
    chord_strength: float | None = None  # chord guidance in logits (None: the default with chords; 0: the model alone)
    prompt: Path | None = None
    prompt_bars: int = 4
    prompt_seconds: float = 0.0
    rewrite: tuple[int, int] | None = None
    context_bars: int = 4
    suffix_bars: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", {k: v for k, v in dict(self.labels or {}).items() if v})
        if self.prompt is not None:
            object.__setattr__(self, "prompt", Path(self.prompt))
        if self.metre is not None:
            object.__setattr__(self, "metre", Metre.parse(self.metre))
        if self.key is not None:
            object.__setattr__(self, "key", Key.parse(self.key))
        if self.n < 1:
            raise CadenzaError("-n must be at least 1")
        if self.rewrite is not None and self.prompt is None:
            raise CadenzaError("--bars to rewrite: give the file whose bars are rewritten")
        clash = conflicts(self.prompt is not None and self.rewrite is None, self.prime is not None, self.form is not None, self.beam > 1 or self.beam_sample,
                          self.metre is not None or self.key is not None, self.constrained is not None, bool(self.labels))
        if clash:
            raise CadenzaError(clash)
        given = [name for name, on in (("--prime", self.prime is not None), ("--form", self.form is not None), ("--beam/--beam-sample", self.beam > 1 or self.beam_sample),
                                       ("--metre/--key", self.metre is not None or self.key is not None), ("--constrained/--no-constrained", self.constrained is not None)) if on]
        if self.rewrite is not None and given:
            raise CadenzaError(f"rewriting bars keeps the file's own opening, metre and key; it cannot be combined with {', '.join(given)}")
        if self.chords is not None:
            if self.prompt is not None and roman_numerals(self.chords):
                raise CadenzaError(f"--chords {self.chords!r}: Roman numerals need --key, and a continued or rewritten file keeps its own key; name the chords (F | C7 | F)")
            self.progression  # an unknown chord name is an error here, once
        if self.chord_strength is not None:
            from cadenza.generation.chords import check_strength

            if self.chords is None:
                raise CadenzaError("--chord-strength guides the chords asked for: give --chords too")
            object.__setattr__(self, "chord_strength", check_strength(self.chord_strength))

    @property
    def progression(self) -> list[tuple[Any, ...]]:
        """The chords asked for, one tuple of :class:`~cadenza.music.chord_names.Chord` per bar
        (``[]``: none). The sampler writes each bar's first chord at the bar's start (the model
        learnt one chord a bar); with fewer chords than bars the progression repeats."""
        from cadenza.music.chord_names import parse_bars

        return parse_bars(self.chords, None if self.key is None else str(self.key)) if self.chords is not None else []

    @property
    def continues(self) -> bool:
        """A music file is continued (``prompt`` without ``rewrite``)."""
        return self.prompt is not None and self.rewrite is None

    def seeded(self) -> Request:
        """This request with its seed fixed: a fresh one where it has none (say it, to replay)."""
        return self if self.seed is not None else replace(self, seed=random.SystemRandom().randrange(1_000_000))

    def but(self, **changes: Any) -> Request:
        """This request with ``changes`` (checked again)."""
        return replace(self, **changes) if changes else self


def roman_numerals(chords: str) -> bool:
    """Whether a ``--chords`` progression names a chord by a Roman numeral (``V7``)."""
    from cadenza.music.chord_names import is_roman

    return any(is_roman(name) for name in chords.replace("|", " ").replace(",", " ").split())


def request_of(request: Request | None, **fields: Any) -> Request:
    """``request`` (default :data:`DEFAULT`) with ``fields`` changed: what the API functions take
    as keywords (``generate(run, out, n=4, bars=16)``) is a Request's fields."""
    return (request or DEFAULT).but(**fields)


def conflicts(prompt: bool, prime: bool, form: bool, beam: bool, header: bool, constrained: bool = False, labels: bool = False) -> str | None:
    """Options that cannot be combined, as a one-line message (None: they can). ``--prompt``
    (a music file) continues it: the file says how the piece opens, so no --prime, --metre or
    --key, and continuations are sampled as the codec samples them (no --form, --beam or
    --constrained choice); a form's phrases are sampled, not beam-searched."""
    if prompt:
        given = [name for name, on in (("--prime/--prime-file", prime), ("--form", form), ("--beam/--beam-sample", beam), ("--metre/--key", header),
                                       ("--constrained/--no-constrained", constrained), ("--composer/--style/--instrument", labels)) if on]
        if given:
            return f"--prompt continues a music file; it cannot be combined with {', '.join(given)} (its own metre, key and bars are the start)"
    if prime and header:
        return "--prime and --metre/--key both say how the piece opens: give one of them"
    if form and beam:
        return "--form samples each phrase; it cannot be combined with --beam/--beam-sample"
    return None


# the one set of defaults every command starts from
DEFAULT = Request()
# ``cadenza compose``: one short piece (kern: 16 bars; grid codecs: 600 tokens), a fresh seed
COMPOSE = DEFAULT.but(bars=16, length=600, seed=None)
