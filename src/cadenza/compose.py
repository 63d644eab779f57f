"""``cadenza compose``: the one-command path from nothing to a piece you can open and hear.

Generates with a bundled model (or any run folder), then renders every format Cadenza knows:
score (.krn/.musicxml, engraved .svg/.pdf), sound (.mid/.wav) and a piano-roll picture (.png).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from cadenza import CadenzaError
from cadenza.codecs import get_codec
from cadenza.render import render
from cadenza.generation import continue_piece, generate, SamplingOptions

RENDER_FORMATS = ("svg", "pdf", "wav", "png")


@dataclass
class Composition:
    out: Path
    model: str
    seed: int
    files: dict[str, list[Path]] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def compose(
    model: str | Path | None = None,
    out: Path | None = None,
    bars: int = 16,
    length: int = 600,
    seed: int | None = None,
    temperature: float = 0.9,
    prime: str | None = None,
    render_formats: tuple[str, ...] = RENDER_FORMATS,
    soundfont: Path | None = None,
    progress: Callable[[str], None] | None = None,
    metre: str | None = None,
    key: str | None = None,
    labels: dict[str, str] | None = None,
    prompt: Path | None = None,
) -> Composition:
    """Write one new piece into ``out`` (default ``./cadenza-out/<timestamp>/``).

    ``prime``: model text to start from; ``prompt``: a music file to continue (as ``generate
    --prompt``); ``metre`` / ``key``: what a kern model writes in (default: drawn)."""
    from cadenza.models.pretrained import DEFAULT, resolve
    from cadenza.training import load_run

    model = model or DEFAULT
    run = resolve(model)
    _, config = load_run(run)
    seed = seed if seed is not None else random.SystemRandom().randrange(1_000_000)
    out = Path(out) if out else Path("cadenza-out") / time.strftime("%Y%m%d-%H%M%S")
    has_bars = get_codec(config["codec"], config["codec_options"]).bar_token is not None
    if progress:
        progress(f"composing with {model} (seed {seed})")
    if prompt is not None:
        if prime is not None or metre is not None or key is not None or labels:
            raise CadenzaError("--prompt continues a music file: it cannot be combined with a prime, --metre, --key or --composer/--style/--instrument")
        samples = continue_piece(run, Path(prompt), out, n=1, length=length, seed=seed, bars=bars if has_bars else 0, options=SamplingOptions(temperature=temperature))
    else:
        samples = generate(run, out, n=1, length=length, seed=seed, prime=prime, options=SamplingOptions(temperature=temperature), bars=bars if has_bars else 0,
                           metre=metre, key=key, labels=labels)
    s = samples[0]
    comp = Composition(out, str(model), seed, {k: [v] for k, v in s.files.items()}, s.stats)
    source = s.files.get("krn") or s.files.get("musicxml") or s.files.get("mid")
    if source is None:
        raise CadenzaError(f"{out}: the sample could not be turned into music ({s.stats.get('error', 'unknown error')})")
    title = f"Cadenza ({Path(str(model)).name}, seed {seed})"
    for fmt in render_formats:
        if progress:
            progress(f"rendering {fmt}")
        try:
            got = render(source, [fmt], out_dir=out, title=title, soundfont=soundfont)
            for k, v in got.items():
                comp.files.setdefault(k, []).extend(v)
        except CadenzaError as exc:
            comp.warnings.append(f"{fmt}: {exc}")
    return comp
