"""``cadenza generate``: sample new pieces from a run or bundled model, or continue a file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from cadenza import CadenzaError
from cadenza.cli.common import console, err, fail, progress


def generate(
    run: Optional[str] = typer.Argument(None, help="A run folder made by `cadenza train` (or use --model)."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the samples."),
    model: Optional[str] = typer.Option(None, "--model", help="A bundled model (see `cadenza models`) instead of a run folder."),
    bars: int = typer.Option(0, help="Stop each sample after this many bars (0: use --length)."),
    seconds: float = typer.Option(0.0, help="notewise/chordwise: stop after this many seconds of music."),
    prompt: Optional[Path] = typer.Option(None, "--prompt", help="Continue this file (.mid, .krn or .musicxml, for every model): its last --prompt-bars are the start."),
    prompt_bars: int = typer.Option(4, help="With --prompt: how many of its last bars to continue from."),
    prompt_seconds: float = typer.Option(0.0, help="With --prompt: continue from its last this-many seconds instead of bars."),
    n: int = typer.Option(1, "-n", help="Number of samples (drawn together as one batch)."),
    length: int = typer.Option(2000, help="Tokens to generate per sample (characters for kern)."),
    temperature: float = typer.Option(1.0, help="Below 1: safer; above 1: wilder."),
    top_k: int = typer.Option(0, help="Sample only among the k likeliest tokens (0: off)."),
    top_p: float = typer.Option(1.0, help="Nucleus sampling: the smallest set of tokens with this much probability."),
    min_p: float = typer.Option(0.0, help="Drop tokens less likely than this fraction of the top token."),
    random_freq: float = typer.Option(0.0, help="Clara's rule: take the top guess, but this often sample among the top --trunc."),
    trunc: int = typer.Option(0, help="With --random-freq: how many top guesses to sample among."),
    form: Optional[str] = typer.Option(None, help="Kern: a form such as AAB, ABA, AABA: phrases repeated exactly; a new phrase after a repetition starts like it, then goes on."),
    phrase_bars: int = typer.Option(4, help="With --form: bars per phrase."),
    constrained: Optional[bool] = typer.Option(None, "--constrained/--no-constrained", help="kern: mask every character that would make the file invalid (default on for kern)."),
    beam: int = typer.Option(0, help="Beam search with this many beams (conservative output; 0: sample)."),
    beam_sample: bool = typer.Option(False, help="Stochastic beam search: sample the beams (Gumbel-top-k) for variety."),
    seed: int = typer.Option(0, help="Random seed: the same seed and options give the same files."),
    prime: Optional[str] = typer.Option(None, help="Text to start from (kern default: '@\\n', the start of a bar). \\n and \\t are unescaped."),
    prime_file: Optional[Path] = typer.Option(None, help="Read the prime text from a file."),
    map_unknown: bool = typer.Option(False, help="Drop prime characters the model never saw instead of stopping."),
    formats: Optional[str] = typer.Option(None, "--formats", help="kern: the files each sample is written as, from krn,mid,musicxml (default all three; MusicXML through music21 is the slow one). MIDI codecs write .mid."),
    render_to: Optional[str] = typer.Option(None, "--render", help="Also render each sample: e.g. svg,pdf,wav,png."),
    metre: Optional[str] = typer.Option(None, "--metre", help="kern: the time signature every bar fills, e.g. 3/4, 6/8, 4/2 (default: drawn from the training pieces)."),
    key: Optional[str] = typer.Option(None, "--key", help="kern: the key, major as a capital (F, Bb, D), minor in lower case (g, f#), or a church mode (G:dor, \"E phrygian\")."),
    composer: Optional[str] = typer.Option(None, "--composer", help="A model prepared with --condition composer: write like this composer (see `cadenza models`)."),
    style: Optional[str] = typer.Option(None, "--style", help="A model prepared with --condition style: write in this style."),
    instrument: Optional[str] = typer.Option(None, "--instrument", help="A model prepared with --condition instrument: write for these instruments."),
) -> None:
    """Sample new pieces from a trained run; writes .krn/.mid/.musicxml and a summary table."""
    from cadenza.generation import SamplingOptions
    from cadenza.generation import generate as _generate

    if prime_file is not None:
        try:
            prime = prime_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(CadenzaError(f"{prime_file}: {exc}"))
    elif prime is not None:
        prime = prime.replace("\\n", "\n").replace("\\t", "\t")
    opts = SamplingOptions(temperature, top_k, top_p, min_p, random_freq, trunc)
    run = run or model
    if run is None:
        fail(CadenzaError("give a run folder or --model NAME (see `cadenza models`)"))
    labels = {k: v for k, v in (("composer", composer), ("style", style), ("instrument", instrument)) if v}
    clash = conflicts(prompt is not None, prime is not None, form is not None, beam > 1 or beam_sample, metre is not None or key is not None, constrained is not None, bool(labels))
    if clash:
        fail(CadenzaError(clash))
    if prompt is not None:
        samples = _continue(run, prompt, out, n, length, seed, prompt_bars, prompt_seconds, bars, seconds, opts)
        if render_to:
            _render_samples(samples, render_to, out, run, seed)
        return
    kinds = tuple(f.strip().lower() for f in formats.split(",") if f.strip()) if formats else ("krn", "mid", "musicxml")
    if not kinds or any(f not in ("krn", "mid", "musicxml") for f in kinds):
        fail(CadenzaError(f"--formats {formats!r}: choose among krn, mid, musicxml"))
    with progress(f"sampling {n}", length) as update:
        samples = _generate(run, out, n, length, seed, prime, opts, formats=kinds, map_unknown=map_unknown, bars=bars, beam=beam, beam_sample=beam_sample, form=form,
                            phrase_bars=phrase_bars, seconds=seconds, constrained=constrained, progress=update, metre=metre, key=key, labels=labels)
    t = Table(title=f"{len(samples)} samples in {out}")
    for c in ("sample", "parses", "bars", "notes", "quarters", "repaired", "dropped", "forced", "files"):
        t.add_column(c)
    ok = 0
    for s in samples:
        st = s.stats
        ok += bool(st.get("parsed", True))
        t.add_row(str(s.index), "yes" if st.get("parsed", True) else f"[red]no[/red] {st.get('error', '')[:40]}", str(st.get("bars", "")), str(st.get("notes", "")),
                  f"{st.get('quarters', 0):.0f}", str(st.get("lines_repaired", 0)), str(st.get("lines_dropped", st.get("dropped", 0))), str(st.get("forced_steps", "-")), " ".join(sorted(s.files)))
    console.print(t)
    heads = sorted({(st.get("metre"), st.get("key"), st.get("chosen")) for st in (s.stats for s in samples) if st.get("metre")})
    asked = samples[0].stats.get("labels") if samples else None
    if asked:
        console.print("conditioned on " + ", ".join(f"{k} {v}" for k, v in asked.items()))
    for m, k, how in heads:
        console.print(f"metre {m}, key {k} ({how}{'' if samples[0].stats.get('conditioned') else '; the model predates headed text: declared and enforced, not conditioned'})")
    console.print(f"{ok}/{len(samples)} parse in music21")
    if render_to:
        _render_samples(samples, render_to, out, run, seed)


def conflicts(prompt: bool, prime: bool, form: bool, beam: bool, header: bool, constrained: bool = False, labels: bool = False) -> str | None:
    """Options that cannot be combined, as a one-line message (None: they can). ``--prompt``
    (a music file) continues it: the file says how the piece opens, so no --prime, --metre or
    --key, and continuations are sampled as the codec samples them (no --form, --beam or
    --constrained choice); a form's phrases are
    sampled, not beam-searched."""
    if prompt:
        given = [name for name, on in (("--prime/--prime-file", prime), ("--form", form), ("--beam/--beam-sample", beam), ("--metre/--key", header), ("--constrained/--no-constrained", constrained), ("--composer/--style/--instrument", labels)) if on]
        if given:
            return f"--prompt continues a music file; it cannot be combined with {', '.join(given)} (its own metre, key and bars are the start)"
    if prime and header:
        return "--prime and --metre/--key both say how the piece opens: give one of them"
    if form and beam:
        return "--form samples each phrase; it cannot be combined with --beam/--beam-sample"
    return None


def _continue(run: str, prompt: Path, out: Path, n: int, length: int, seed: int, prompt_bars: int, prompt_seconds: float, bars: int, seconds: float, opts) -> list:
    """``--prompt``: continue the end of a music file and show what came of it."""
    from cadenza.generation import continue_piece

    with progress(f"continuing {prompt.name}", length) as update:
        samples = continue_piece(run, prompt, out, n, length, seed, prompt_bars, prompt_seconds, bars, seconds, opts, progress=update)
    t = Table(title=f"{len(samples)} continuations of {prompt.name} in {out}")
    for c in ("sample", "prompt (quarters)", "continuation (quarters)", "notes", "dropped tokens", "files"):
        t.add_column(c)
    for s in samples:
        t.add_row(str(s.index), f"{s.stats['prompt_quarters']:.1f}", f"{s.stats['continuation_quarters']:.1f}", str(s.stats["notes"]), str(s.stats.get("dropped", 0)), " ".join(str(p) for p in s.files.values()))
    console.print(t)
    folded = samples[0].stats.get("prompt_notes_folded", 0) if samples else 0
    if folded:
        console.print(f"{folded} prompt note(s) outside the model's keys were read an octave in; the files keep them as written")
    return samples


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
            err.print(f"[yellow]sample {s.index}: {exc}[/yellow]")
