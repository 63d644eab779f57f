"""``cadenza generate``: sample new pieces from a run or bundled model, or continue a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from cadenza import CadenzaError
from cadenza.cli import options as o
from cadenza.cli.common import console, err, progress, reporting
from cadenza.cli.options import DEFAULT

SAMPLE_FORMATS = ("krn", "mid", "musicxml")


def generate(
    run: o.RunArg = None,
    out: o.Out = ...,  # type: ignore[assignment]
    model: o.Model = None,
    bars: o.Bars = DEFAULT.bars,
    seconds: o.Seconds = DEFAULT.seconds,
    prompt: o.Prompt = DEFAULT.prompt,
    prompt_bars: o.PromptBars = DEFAULT.prompt_bars,
    prompt_seconds: o.PromptSeconds = DEFAULT.prompt_seconds,
    n: o.N = DEFAULT.n,
    length: o.Length = DEFAULT.length,
    temperature: o.Temperature = DEFAULT.options.temperature,
    top_k: o.TopK = DEFAULT.options.top_k,
    top_p: o.TopP = DEFAULT.options.top_p,
    min_p: o.MinP = DEFAULT.options.min_p,
    random_freq: o.RandomFreq = DEFAULT.options.random_freq,
    trunc: o.Trunc = DEFAULT.options.trunc,
    form: o.Form = DEFAULT.form,
    phrase_bars: o.PhraseBars = DEFAULT.phrase_bars,
    constrained: o.Constrained = DEFAULT.constrained,
    beam: o.Beam = DEFAULT.beam,
    beam_sample: o.BeamSample = DEFAULT.beam_sample,
    seed: o.Seed = DEFAULT.seed,  # type: ignore[assignment]
    prime: o.Prime = DEFAULT.prime,
    prime_file: o.PrimeFile = None,
    map_unknown: o.MapUnknown = DEFAULT.map_unknown,
    formats: Annotated[Optional[str], typer.Option("--formats", help="kern: the files each sample is written as, from krn,mid,musicxml (default all three; MusicXML through music21 is the slow one). MIDI codecs write .mid.")] = None,
    render_to: Annotated[Optional[str], typer.Option("--render", help="Also render each sample: e.g. svg,pdf,wav,png.")] = None,
    metre: o.Metre = DEFAULT.metre,
    key: o.Key = DEFAULT.key,
    chords: o.Chords = None,
    chord_strength: o.ChordStrength = None,
    composer: o.Composer = None,
    style: o.Style = None,
    instrument: o.Instrument = None,
) -> None:
    """Sample new pieces from a trained run; writes .krn/.mid/.musicxml and a summary table."""
    from cadenza.generation import generate as _generate
    from cadenza.generation.run import open_run

    with reporting():
        request = o.Request(n=n, length=length, bars=bars, seconds=seconds, seed=seed, options=o.sampling(temperature, top_k, top_p, min_p, random_freq, trunc),
                            prime=o.prime_text(prime, prime_file), map_unknown=map_unknown, form=form, phrase_bars=phrase_bars, beam=beam, beam_sample=beam_sample,
                            constrained=constrained, metre=metre, key=key, labels=o.labels(composer, style, instrument), chords=chords, chord_strength=chord_strength, prompt=prompt, prompt_bars=prompt_bars,
                            prompt_seconds=prompt_seconds)
        name = o.which_run(run, model)
        kinds = tuple(f.strip().lower() for f in formats.split(",") if f.strip()) if formats else SAMPLE_FORMATS
        if not request.continues and (not kinds or any(f not in SAMPLE_FORMATS for f in kinds)):
            raise CadenzaError(f"--formats {formats!r}: choose among {', '.join(SAMPLE_FORMATS)}")
        trained = open_run(name)
    what = f"continuing {prompt.name}" if request.continues else f"sampling {n}"  # type: ignore[union-attr]
    with progress(what, length) as update:
        samples = _generate(trained, out, request, formats=kinds, progress=update)
    (_show_continuations if request.continues else _show_samples)(samples, out, prompt)
    if render_to:
        _render_samples(samples, render_to, out, name, seed)


def _show_samples(samples: list, out: Path, prompt: Optional[Path]) -> None:
    t = Table(title=f"{len(samples)} samples in {out}")
    for c in ("sample", "parses", "bars", "notes", "quarters", "repaired", "dropped", "forced", "files"):
        t.add_column(c)
    for s in samples:
        st = s.stats
        parsed = st.get("parsed", True)  # None: not read by music21 (kern without MusicXML); absent: a MIDI codec's, decoded
        t.add_row(str(s.index), "-" if parsed is None else "yes" if parsed else Text.assemble(("no", "red"), f" {st.get('error', '')[:40]}"), str(st.get("bars", "")), str(st.get("notes", "")),
                  f"{st.get('quarters', 0):.0f}", str(st.get("lines_repaired", 0)), str(st.get("lines_dropped", st.get("dropped", 0))), str(st.get("forced_steps", "-")), " ".join(sorted(s.files)))
    console.print(t)
    heads = sorted({(st.get("metre"), st.get("key"), st.get("chosen")) for st in (s.stats for s in samples) if st.get("metre")})
    asked = samples[0].stats.get("labels") if samples else None
    if asked:
        console.print("conditioned on " + ", ".join(f"{k} {v}" for k, v in asked.items()))
    if samples and samples[0].stats.get("chords"):
        console.print(f"chords written at each bar start: {samples[0].stats['chords']} (repeating)")
    for m, k, how in heads:
        console.print(f"metre {m}, key {k} ({how}{'' if samples[0].stats.get('conditioned') else '; the model predates headed text: declared and enforced, not conditioned'})")
    checked = [s.stats["parsed"] for s in samples if s.stats.get("parsed") is not None]
    if checked:
        console.print(f"{sum(map(bool, checked))}/{len(checked)} parse in music21")
    unchecked = sum(1 for s in samples if "parsed" in s.stats and s.stats["parsed"] is None)
    if unchecked:
        console.print(f"{unchecked} sample{'s' if unchecked != 1 else ''} not parsed by music21 (it runs only to write MusicXML, left out by --formats); `cadenza evaluate` checks validity")


def _show_continuations(samples: list, out: Path, prompt: Path) -> None:
    """``--prompt``: what came of continuing the file."""
    t = Table(title=f"{len(samples)} continuations of {prompt.name} in {out}")
    for c in ("sample", "prompt (quarters)", "continuation (quarters)", "notes", "dropped tokens", "files"):
        t.add_column(c)
    for s in samples:
        t.add_row(str(s.index), f"{s.stats['prompt_quarters']:.1f}", f"{s.stats['continuation_quarters']:.1f}", str(s.stats["notes"]), str(s.stats.get("dropped", 0)), " ".join(str(p) for p in s.files.values()))
    console.print(t)
    folded = samples[0].stats.get("prompt_notes_folded", 0) if samples else 0
    if folded:
        console.print(f"{folded} prompt note(s) outside the model's keys were read an octave in; the files keep them as written")


def _render_samples(samples: list, render_to: str, out: Path, run: str, seed: int) -> None:
    """``--render``: each sample's score, sound and picture; a sample that fails is a warning."""
    from cadenza import render as _render

    formats = [f.strip() for f in render_to.split(",") if f.strip()]
    for s in samples:
        src = s.files.get("krn") or s.files.get("mid")
        if src is None:
            continue
        try:
            got = _render.render(src, formats, out_dir=out, title=f"Cadenza ({Path(str(run)).name}, seed {seed}, sample {s.index})")
            console.print(f"sample {s.index}: " + ", ".join(str(p) for ps in got.values() for p in ps))
        except CadenzaError as exc:
            err.print(Text(f"sample {s.index}: {exc}", style="yellow"), soft_wrap=True)
