"""The samples an evaluation judges: drawn with fixed seeds by the generation package into
``out/samples``, then each decoded (from the kern file the sampler wrote, where there is one)
into the forms the measures read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from cadenza import CadenzaError
from cadenza.evaluation.heldout import decode_piece
from cadenza.evaluation.validity import REPAIR_KEYS, error_text
from cadenza.music import Piece

if TYPE_CHECKING:
    from cadenza.evaluation.options import EvaluationOptions


@dataclass
class CheckedSample:
    """One judged sample: its decoded forms (``piece`` for statistics, ``fast`` for
    memorisation), validity, the decoder's repair counts, files written and length in tokens."""

    index: int
    piece: Piece | None
    fast: Piece | None
    validity: dict[str, Any]
    repaired: dict[str, Any]
    files: dict[str, str]
    tokens: int


def draw_samples(run: Any, out: Path, codec, opts: EvaluationOptions, say: Callable[[str, int, int], None]) -> list:
    """``opts.n_samples`` samples into ``out/samples`` (a codec with barlines: ``opts.bars`` bars
    each; beam search where ``opts.beam`` > 1: expect conservative, repetitive output in the
    numbers), written in every sample format of the codec but MusicXML."""
    from cadenza.generation import Request, generate

    if opts.n_samples <= 0:
        return []
    formats = tuple(f for f in codec.sample_formats if f != "musicxml")
    ask = Request(n=opts.n_samples, length=opts.length, seed=opts.seed, prime=opts.prime, options=opts.sampling, bars=opts.bars if codec.bar_token else 0,
                  metre=opts.metre, key=opts.key, beam=opts.beam if opts.beam > 1 else 0)
    return generate(run, out / "samples", ask, formats=formats, progress=lambda d, n: say("sampling", d, n))


def check_samples(samples: list, codec, context: dict[str, Any], out: Path, say: Callable[[str, int, int], None]) -> list[CheckedSample]:
    """Decode every sample; one the decoder cannot read is kept as unparsed with its error."""
    from cadenza.codecs import split_tokens

    checked: list[CheckedSample] = []
    for i, s in enumerate(samples):
        say("checking samples", i, len(samples))
        try:
            written = s.files.get("krn")
            kern = written.read_text(encoding="utf-8") if written is not None and written.exists() else None
            piece, fast, validity = decode_piece(codec, s.text, context, f"sample-{s.index:02d}", kern)
        except CadenzaError:
            raise
        except Exception as exc:
            piece, fast, validity = None, None, {"parsed": False, "error": error_text(exc)}
        repaired = {k: v for k, v in s.stats.items() if k in REPAIR_KEYS and isinstance(v, (int, float))}
        files = {k: _relative(v, out) for k, v in s.files.items()}
        checked.append(CheckedSample(s.index, piece, fast, validity, repaired, files, len(split_tokens(s.text, codec.unit))))
    say("checking samples", len(samples), len(samples))
    return checked


def _relative(path: Path | str, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
