"""The codec protocol: what every encoding answers, so nothing outside ``codecs/`` asks a codec
for its name; what a codec can do beyond it, declared (``capabilities``, :data:`CAPABILITIES`,
asked with ``codec.can``) with the small protocol of each; the records it hands to generation,
and token splitting."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol, TypeVar, cast, runtime_checkable

if TYPE_CHECKING:
    from cadenza.music import Piece
    from cadenza.music.metre_key import Key, Metre


@dataclass(frozen=True)
class Encoded:
    """One piece as codec text, plus what the codec learned about it on the way (header, counts)."""

    name: str
    text: str
    info: dict[str, Any] = field(default_factory=dict)


class Decoded:
    """Codec text turned back into music, one shape for every codec: ``piece`` (a
    :class:`~cadenza.music.Piece`) always, ``score`` the codec's own score text where it has one
    (kern: the repaired file, what :meth:`Codec.export` writes), ``stats`` for the summary table
    (e.g. lines repaired, tokens dropped, whether music21 parsed it).

    A codec with a score gives ``read`` instead of a piece: the piece is read from the score when
    first asked for (and again after ``score`` changes), so decoding a sample never pays for, or
    fails on, a reading nobody wants (export times the score itself, reporting what it cannot)."""

    def __init__(self, text: str, stats: dict[str, Any] | None = None, piece: Piece | None = None, *,
                 score: str | None = None, read: Callable[[str], Piece] | None = None):
        if (piece is None) == (read is None) or (read is None) != (score is None):
            raise ValueError("Decoded: give a piece, or a score and how to read it")
        self.text, self.stats, self.score = text, stats if stats is not None else {}, score
        self._piece, self._read, self._read_from = piece, read, None

    @property
    def piece(self) -> Piece:
        if self._read is not None and (self._piece is None or self._read_from is not self.score):
            self._piece, self._read_from = self._read(self.score), self.score  # type: ignore[arg-type]
        return self._piece  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Decoded(text={self.text[:40]!r}, stats={self.stats!r}, score={'None' if self.score is None else repr(self.score[:40])})"


@dataclass(frozen=True)
class LengthGoal:
    """When sampling has written enough (``--bars`` / ``--seconds``), from :meth:`Codec.length_goal`.

    ``done`` and ``finish`` see the generated tokens only (the prime is the codec's to remember):
    ``done`` says the goal is reached, ``finish`` trims a finished sample to it (None: keep all).
    ``min_length`` is the token budget the goal needs; ``quarters`` its length in quarter notes
    where the codec measures time so (0: it counts bars)."""

    min_length: int
    done: Callable[[list[str]], bool]
    finish: Callable[[list[str]], list[str]] | None = None
    quarters: float = 0.0


@dataclass(frozen=True)
class PhraseGrid:
    """How a codec measures the phrases of a form (``--form AAB``), in its own time units: bars
    for kern (barline lines), grid steps for the MIDI codecs.

    ``per_bar`` units make a bar, ``length`` a phrase; a varied phrase copies the first
    ``opening`` units of the phrase it varies. Sampling a phrase may take ``tokens_per_unit``
    tokens a unit (at least 64). ``measured``: bar numbers follow the bars the text really has
    (kern), or every phrase counts as ``length`` units (grid codecs)."""

    per_bar: int
    length: int
    opening: int
    tokens_per_unit: int
    measured: bool


@dataclass
class InfillParts:
    """What a codec reads around the bars a musician wants rewritten (``cadenza infill``):
    ``prefix`` and ``suffix`` tokens of the model's vocabulary, the middle's length in
    :class:`PhraseGrid` units (kern: bars; grid codecs: steps), the decoding ``context`` (kern:
    where the checker starts), and the codec's ``handle`` for putting the middle back."""

    prefix: list[str]
    suffix: list[str]
    units: int
    context: dict[str, Any]
    handle: Any


@dataclass
class ContinuationParts:
    """What a codec reads from the user's file to continue it (``generate --prompt``): the
    ``prime`` tokens (``map_unknown``: those the model never saw are dropped, not refused), the
    decoding ``context`` (the constraint and the length goal read it), ``start`` where the
    prime's music ends in quarters (None: where its tokens end), ``bars_before`` bars the prime
    holds before the first new one (where a chord progression starts; 0: the checker counts
    from the new bars) and the codec's ``handle`` for :meth:`Continue.join_continuation`."""

    prime: list[str]
    context: dict[str, Any]
    handle: Any
    start: float | None = None
    bars_before: int = 0
    map_unknown: bool = False


@runtime_checkable
class Codec(Protocol):
    """What every encoding provides.

    ``unit`` says how text splits into model tokens: ``"char"`` (kern, as char-rnn) or ``"word"``
    (whitespace-separated tokens, as Clara's notewise/chordwise).
    """

    name: ClassVar[str]
    unit: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    capabilities: ClassVar[frozenset[str]]  # what it can do beyond this protocol (see CAPABILITIES)

    def can(self, what: str) -> bool:
        """Whether it has the capability ``what`` (a key of :data:`CAPABILITIES`)."""
        ...

    def encode(self, path: Path) -> list[Encoded]: ...

    def transpose(self, piece: Encoded, semitones: int) -> Encoded: ...

    def decode(self, text: str, context: dict[str, Any]) -> Decoded: ...

    def export(self, decoded: Decoded, stem: Path, formats: tuple[str, ...]) -> dict[str, Path]: ...

    # What callers would otherwise branch on a codec's name for:
    bar_token: ClassVar[str | None]  # the token that opens a bar line ("@" for kern), None: bars are grid time
    sample_formats: ClassVar[tuple[str, ...]]  # the files a generated sample is written as by default

    def default_prime(self, vocab: list[str]) -> str:
        """The text generation starts from when the user gives none."""
        ...

    def choose_layout(self, pieces: list[Encoded], want: Any) -> tuple[Any, list[tuple[int, str]]]:
        """The layout a dataset keeps (``want``, or the corpus's most common; kern: the spine
        count, as a character model writes one) and (index, reason) of the pieces left out;
        (None, []) for codecs whose pieces all fit one vocabulary."""
        ...

    def passages(self, text: str) -> list[tuple[str, ...]]:
        """Overlapping stretches of a piece's text (kern: every 4 bars running; MIDI codecs: 64
        words every 32), compared to find pieces that share long passages, so the split keeps
        them on one side."""
        ...

    def generation_context(self, train: list[dict[str, Any]], layout: Any) -> dict[str, Any]:
        """What decoding generated text needs and the text lacks, from the training pieces'
        manifest rows, each with its model ``text`` (kern: the preamble, the metre/key
        openings, the token shapes the corpus writes; MIDI codecs: tempo and metre)."""
        ...

    def usual_metre_key(self, context: dict[str, Any]) -> tuple[Any, Any]:
        """The :class:`~cadenza.music.metre_key.Metre` and :class:`~cadenza.music.metre_key.Key` a
        model writes in when not asked (from its generation ``context``; kern: its pieces' most
        common opening; MIDI codecs: the grid's metre, no key); None for what it does not say."""
        ...

    def piece_tempo(self, info: dict[str, Any]) -> float | None:
        """The tempo (quarters a minute) a piece's encoding info records, if any."""
        ...

    def constraint(self, vocab: list[str], context: dict[str, Any], n: int, prefix: str) -> Any | None:
        """A decoding constraint for ``n`` samples continuing ``prefix`` (kern: the validity
        checker), or None when every token sequence decodes."""
        ...

    # Time, for generation: how far tokens reach and where they may be cut.

    def length_goal(self, prime: list[str], context: dict[str, Any], bars: int = 0, seconds: float = 0.0, start: float | None = None) -> LengthGoal | None:
        """When samples continuing ``prime`` have ``bars`` bars or last ``seconds`` (None: no
        goal). Refuses (CadenzaError) a measure the codec cannot keep (kern has no seconds).
        ``start``: where the prime ends, when not where its tokens end (an approximated prompt)."""
        ...

    def phrase_grid(self, phrase_bars: int, context: dict[str, Any]) -> PhraseGrid:
        """The units a form's phrases of ``phrase_bars`` bars are measured and cut in."""
        ...

    def reach(self, tokens: list[str]) -> int:
        """How far ``tokens`` reach in :class:`PhraseGrid` units (kern: bars begun; MIDI codecs:
        the grid step the last token is at)."""
        ...

    def reached(self, tokens: list[str], units: int) -> bool:
        """Whether ``tokens`` reach ``units`` far enough to be cut there (kern: that many barline
        lines written; chordwise: the step after has begun)."""
        ...

    def cut(self, tokens: list[str], units: int, vocab: list[str]) -> list[str]:
        """``tokens`` up to the phrase boundary ``units`` in, with words of ``vocab`` only: kern
        after the ``units``-th barline line; notewise at that step, releasing the notes still
        sounding; chordwise after that many whole steps."""
        ...

    def whole_bars(self, text: str, keep: int = -1) -> str:
        """Sampled text cut after its last whole bar, never into its first ``keep`` characters
        (codecs whose bars are grid time: the text unchanged)."""
        ...

    def fit_prompt(self, encoded: Encoded, vocab: list[str], where: str) -> tuple[list[str], int]:
        """A user's prompt as tokens of ``vocab``: tokens the model never saw rewritten where that
        keeps the music, else refused with a message naming ``where``. Returns the tokens and how
        many were approximated."""
        ...


# What a codec can do beyond the protocol, declared by each codec in ``capabilities`` and asked
# with ``codec.can(...)``, never probed by name. Each names the methods it brings (the small
# protocols below say their signatures).
CAPABILITIES: dict[str, str] = {
    "metre_key": "MetreKey.condition: samples in a chosen metre and key, drawn from the training pieces when not given (kern)",
    "continue": "Continue: continues the user's music file (generate --prompt), the user's part kept as written",
    "infill": "Infill: rewrites chosen bars of a file (with a model trained to fill in the middle)",
    "settles_metre": "SettlesMetre.settled_metre: a constrained sample's metre, settled as it was sampled, declared in its text and decoding context (kern)",
    "stream": "each token says at once what sounds (notewise: played, encode_piece, note_stream), so a reply can be played as it is sampled",
    "window_prefix": "WindowPrefix.window_prefix: training windows are told the context in force where they start (kern)",
    "chords": "options.chords (prepare --condition chords): each bar of the text opens with its chord (codecs/bar_chords.py; kern: codecs/kern/harm.py)",
    "dataset_problem": "DatasetCheck.dataset_problem: a dataset made by an older Cadenza is refused (kern)",
}


class Declares:
    """The one way to ask a codec what it can do: ``codec.can("infill")``. A codec lists its
    ``capabilities`` (keys of :data:`CAPABILITIES`); asking for an unknown one is a bug."""

    capabilities: ClassVar[frozenset[str]] = frozenset()

    def can(self, what: str) -> bool:
        if what not in CAPABILITIES:
            raise ValueError(f"{what!r} is not a codec capability ({', '.join(CAPABILITIES)})")
        return what in self.capabilities


Able = TypeVar("Able")


def able(codec: Codec, what: str, shape: type[Able]) -> Able:
    """``codec`` as the small protocol ``shape`` of its capability ``what`` (``able(codec,
    "metre_key", MetreKey).condition(...)``): the one typed way to call a declared method,
    checked with :meth:`Declares.can`, so a caller neither probes for it nor silences the types."""
    if not codec.can(what):
        raise ValueError(f"a {codec.name} codec has no {what!r} ({CAPABILITIES[what]})")
    return cast(Able, codec)


class MetreKey(Protocol):
    """``metre_key``: what generation is conditioned on."""

    def condition(self, context: dict[str, Any], vocab: list[str], metre: Metre | None, key: Key | None, seed: int,
                  labels: dict[str, str] | None) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
        """(prime or None for the default, decoding context, what to report) for samples in
        ``metre`` and ``key`` (None: drawn, seeded, from the training pieces; ``labels``, None or
        empty: any training piece's opening): the codec alone writes them as its tokens, and
        the decoding context carries the metre as one value, the :class:`Metre` under ``"metre"``."""
        ...


class Continue(Protocol):
    """``continue``: the user's music file continued, one way for every codec: the codec reads
    the file into :class:`ContinuationParts`, generation samples on from its prime, and the codec
    joins each continuation onto the user's music and writes it."""

    prompt_suffixes: ClassVar[tuple[str, ...]]  # the files it continues

    def continuation_parts(self, path: Path, bars: int, seconds: float, vocab: list[str], context: dict[str, Any], out: Path) -> ContinuationParts:
        """The user's file ``path``, its last ``bars`` bars (or ``seconds``) as the prime (see
        :class:`ContinuationParts`); a file the codec first converts may be kept in ``out``."""
        ...

    def join_continuation(self, handle: Any, continuation: list[str], quarters: float, stem: Path, context: dict[str, Any] | None = None) -> tuple[Decoded, dict[str, Path]]:
        """The user's music, then ``continuation`` (sampled tokens; at most ``quarters`` of it
        where the codec measures time so, 0: all), written as ``stem``'s files (kern: the user's
        file unchanged, then the new bars; MIDI codecs: the excerpt note for note, then the
        continuation, and the continuation alone), showing the chords ``context`` asked for. The
        Decoded's ``text`` is the model's text, prime included; its ``stats`` what the join measured."""
        ...


class Infill(Protocol):
    """``infill``: bars of the user's file rewritten."""

    def infill_parts(self, path: Path, first: int, last: int, vocab: list[str], context: dict[str, Any], context_bars: int, suffix_bars: int) -> InfillParts:
        """The user's file ``path`` around bars ``first``-``last`` (see :class:`InfillParts`)."""
        ...

    def join_infill(self, handle: Any, middle: list[str], context: dict[str, Any]) -> Decoded:
        """The user's piece with the bars replaced by ``middle`` (tokens of whole units), as
        :meth:`Codec.export` writes it."""
        ...


class Stream(Protocol):
    """``stream``: a phrase the user played read as the model's words, and the reply read back
    note by note as it is sampled (jam mode)."""

    def played(self, notes: list[tuple[float, int, float, int]], context: dict[str, Any]) -> Piece:
        """Notes played live ((start, pitch, duration) in seconds, velocity) as a Piece on the model's grid."""
        ...

    def encode_piece(self, piece: Piece) -> Encoded:
        """A Piece as the codec's text."""
        ...

    def fit_prompt(self, encoded: Encoded, vocab: list[str], where: str) -> tuple[list[str], int]:
        """Its words, fitted to ``vocab``."""
        ...

    def note_stream(self, context: dict[str, Any], bars: float) -> Any:
        """A reader that turns sampled words into note events, finished after ``bars`` bars."""
        ...


class SettledMetre(Protocol):
    """A metre a sample settled on, opaque to generation: it writes itself into the sample."""

    def apply(self, text: str, context: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """``text`` with the metre's declarations and ``context`` (decoding) in that metre."""
        ...


class SettlesMetre(Protocol):
    """``settles_metre``: the codec's constraint times bars, and a metre it did not fix in
    advance is settled by what the sample wrote (kern: adopted from its bars, or read from them
    where the sampler did not follow every bar, as in forms and beams)."""

    def settled_metre(self, text: str, context: dict[str, Any], vocab: list[str], constraint: Any | None = None, row: int = 0) -> SettledMetre | None:
        """The metre of constrained sample ``text`` (its model text, prime included): as
        ``constraint`` followed its row ``row`` bar by bar, or (None) read from the text against
        ``context``. None: no metre to declare."""
        ...


class WindowPrefix(Protocol):
    """``window_prefix``: what training windows are told."""

    def window_prefix(self, text: str) -> list[tuple[int, str]]:
        """(token offset, text) where the context in force changes in one encoded piece: a
        training window starting at or after the offset gets the text prepended (kern: the
        metre, key and clefs; later, conditioning labels)."""
        ...


class DatasetCheck(Protocol):
    """``dataset_problem``."""

    def dataset_problem(self, manifest: dict[str, Any]) -> str | None:
        """Why a dataset made by an older Cadenza must be prepared again (None: it need not)."""
        ...


def split_tokens(text: str, unit: str) -> list[str]:
    return list(text) if unit == "char" else text.split()


def join_tokens(tokens: list[str], unit: str) -> str:
    return "".join(tokens) if unit == "char" else " ".join(tokens)
