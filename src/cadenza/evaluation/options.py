"""What an evaluation judges: :class:`EvaluationOptions`, apart from the steps that read it
(:mod:`.pipeline`, :mod:`.samples`, :mod:`.composer_judge`), so none of them imports another for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cadenza.music.metre_key import Key, Metre

if TYPE_CHECKING:
    from cadenza.generation import SamplingOptions


@dataclass(frozen=True)
class EvaluationOptions:
    """What to judge: ``n_samples`` samples drawn from ``seed`` on (a codec with barlines:
    ``bars`` bars each; others: ``length`` tokens) with ``sampling`` (or ``beam`` search when
    > 1) after ``prime``; memorisation windows of ``window_bars`` bars; at most
    ``max_test_pieces`` held-out pieces (0: all)."""

    n_samples: int = 20
    bars: int = 16
    length: int = 1000
    seed: int = 0
    sampling: SamplingOptions | None = None
    prime: str | None = None
    window_bars: int = 4
    max_test_pieces: int = 0
    beam: int = 0
    metre: Metre | str | None = None  # text ("3/4", "F") is parsed when the options are made, as a Request parses it
    key: Key | str | None = None
    composer: str | None = None

    def __post_init__(self) -> None:
        # a bad --metre / --key is refused now, in the flag's words, not after the held-out pieces are read
        if self.metre is not None:
            object.__setattr__(self, "metre", Metre.parse(self.metre))
        if self.key is not None:
            object.__setattr__(self, "key", Key.parse(self.key))

    def settings(self) -> dict[str, Any]:
        """The report's record of these options."""
        return {"n_samples": self.n_samples, "bars": self.bars, "length": self.length, "seed": self.seed, "options": dict(self.sampling.__dict__),
                "prime": self.prime, "window_bars": self.window_bars, "beam": self.beam, "metre": _text(self.metre), "key": _text(self.key),
                "composer": self.composer}


def _text(value: Metre | Key | str | None) -> str | None:
    """A metre or key as the report writes it (``"3/4"``, ``"F"``), None as None."""
    return None if value is None else str(value)
