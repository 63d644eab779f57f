"""The options the commands share, each spelled once (Typer ``Annotated`` types), with their
defaults from :data:`cadenza.generation.request.DEFAULT`, and the few helpers that turn flags
into the API's values. A command module only wires them to the API.

Usage: ``temperature: Temperature = DEFAULT.options.temperature``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cadenza import CadenzaError
from cadenza.generation.request import COMPOSE, DEFAULT, Request, SamplingOptions

__all__ = ["COMPOSE", "DEFAULT", "Request", "SamplingOptions"]

# which model
RunArg = Annotated[Optional[str], typer.Argument(help="A run folder made by `cadenza train` (or use --model).")]
Model = Annotated[Optional[str], typer.Option("--model", help="A bundled model (see `cadenza models`) instead of a run folder.")]
Out = Annotated[Path, typer.Option("-o", "--out", help="Folder for the files written.")]

# how much
N = Annotated[int, typer.Option("-n", help="How many samples (drawn together as one batch).")]
Length = Annotated[int, typer.Option(help="Tokens to generate per sample (characters for kern); with --bars or --seconds, at least what they need.")]
Bars = Annotated[int, typer.Option(help="Stop each sample after this many bars (0: use --length).")]
Seconds = Annotated[float, typer.Option(help="notewise/chordwise: stop after this many seconds of music.")]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed and options give the same files.")]
FreshSeed = Annotated[Optional[int], typer.Option("--seed", help="Random seed (default: a fresh one, printed so you can replay it).")]

# how each token is chosen (SamplingOptions)
Temperature = Annotated[float, typer.Option(help="Below 1: safer; above 1: wilder.")]
TopK = Annotated[int, typer.Option(help="Sample only among the k likeliest tokens (0: off).")]
TopP = Annotated[float, typer.Option(help="Nucleus sampling: the smallest set of tokens with this much probability (1: off).")]
MinP = Annotated[float, typer.Option(help="Drop tokens less likely than this fraction of the top token.")]
RandomFreq = Annotated[float, typer.Option(help="Clara's rule: take the top guess, but this often sample among the top --trunc.")]
Trunc = Annotated[int, typer.Option(help="With --random-freq: how many top guesses to sample among.")]

# from what
Prompt = Annotated[Optional[Path], typer.Option("--prompt", help="Continue this file (.mid, .krn or .musicxml, for every model): its last --prompt-bars are the start.")]
PromptBars = Annotated[int, typer.Option(help="With --prompt: how many of its last bars to continue from.")]
PromptSeconds = Annotated[float, typer.Option(help="With --prompt: continue from its last this-many seconds instead of bars.")]
Prime = Annotated[Optional[str], typer.Option(help="Text to start from (kern default: '@\\n', the start of a bar). \\n and \\t are unescaped.")]
PrimeFile = Annotated[Optional[Path], typer.Option("--prime-file", help="Read the text to start from from a file (kern: cleaned kern text).")]
MapUnknown = Annotated[bool, typer.Option(help="Drop prime characters the model never saw instead of stopping.")]
Metre = Annotated[Optional[str], typer.Option("--metre", help="kern: the time signature every bar fills, e.g. 3/4, 6/8, 4/2 (default: drawn from the training pieces).")]
Key = Annotated[Optional[str], typer.Option("--key", help="kern: the key, major as a capital (F, Bb, D), minor in lower case (g, f#), or a church mode (G:dor, \"E phrygian\").")]
Chords = Annotated[Optional[str], typer.Option("--chords", help="The chord of each bar (a model prepared with --condition chords writes it at the bar start; any model, the bundled ones too, is steered to it by --chord-strength), \"F | C7 | F | Bb\" or, with --key, \"I | V7 | I | IV\"; . repeats the previous bar; a bar of two chords (F C7) is written as its first; with fewer chords than bars the progression repeats. Bars count from the first new one: with --prompt the first bar after the file's end (a bar the file ends inside is finished without a chord asked), with infill the first bar rewritten; there name the chords (F | C7), as the file keeps its own key.")]
ChordStrength = Annotated[Optional[float], typer.Option("--chord-strength", help="With --chords: logits added to the pitches that make a chord tone of the bar's chord, wherever the sampler chooses a pitch (a sampler control, like temperature; the chord reader judges the notes). 0: the model alone (then only a model prepared with --condition chords takes --chords); default 6.")]
Composer = Annotated[Optional[str], typer.Option("--composer", help="A model prepared with --condition composer: write like this composer (see `cadenza models`).")]
Style = Annotated[Optional[str], typer.Option("--style", help="A model prepared with --condition style: write in this style.")]
Instrument = Annotated[Optional[str], typer.Option("--instrument", help="A model prepared with --condition instrument: write for these instruments.")]

# in what shape
Form = Annotated[Optional[str], typer.Option(help="A form such as AAB, ABA, AABA: phrases repeated exactly; a new phrase after a repetition starts like it, then goes on.")]
PhraseBars = Annotated[int, typer.Option(help="With --form: bars per phrase.")]
Beam = Annotated[int, typer.Option(help="Beam search with this many beams (conservative output; 0: sample).")]
BeamSample = Annotated[bool, typer.Option(help="Stochastic beam search: sample the beams (Gumbel-top-k) for variety.")]
Constrained = Annotated[Optional[bool], typer.Option("--constrained/--no-constrained", help="kern: mask every character that would make the file invalid (default on for kern).")]
Soundfont = Annotated[Optional[Path], typer.Option(help="SoundFont (.sf2) for the WAV (default: the bundled General MIDI one).")]


def which_run(run: Optional[str], model: Optional[str]) -> str:
    """The run folder or ``--model`` name given (one is needed)."""
    if run is None and model is None:
        raise CadenzaError("give a run folder or --model NAME (see `cadenza models`)")
    return run or model  # type: ignore[return-value]


def sampling(temperature: float, top_k: int, top_p: float, min_p: float, random_freq: float = DEFAULT.options.random_freq,
             trunc: int = DEFAULT.options.trunc) -> SamplingOptions:
    return SamplingOptions(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p, random_freq=random_freq, trunc=trunc)


def labels(composer: Optional[str], style: Optional[str], instrument: Optional[str]) -> dict[str, str]:
    return {k: v for k, v in (("composer", composer), ("style", style), ("instrument", instrument)) if v}


def prime_text(prime: Optional[str], prime_file: Optional[Path]) -> Optional[str]:
    """The prime from ``--prime-file`` (as written) or ``--prime`` (``\\n`` and ``\\t`` unescaped)."""
    if prime_file is not None:
        try:
            return prime_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CadenzaError(f"{prime_file}: {exc}") from None
    return None if prime is None else prime.replace("\\n", "\n").replace("\\t", "\t")
