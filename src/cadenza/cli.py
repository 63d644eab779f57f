"""The ``cadenza`` command: prepare -> train -> generate, each a thin layer over the Python API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from cadenza import CadenzaError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cadenza: turn a corpus of scores into a composer.")
console = Console()
err = Console(stderr=True)


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=False)


def _fail(exc: Exception) -> None:
    err.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2)


@app.command()
def prepare(
    sources: List[str] = typer.Argument(..., help="Files, folders (searched recursively) or music21 corpus names like music21:palestrina."),
    out: Path = typer.Option(..., "-o", "--out", help="Dataset folder to write."),
    codec: str = typer.Option("kern", help="Encoding: kern, notewise or chordwise."),
    transpose: Optional[str] = typer.Option(None, help="Augment training pieces: 'all' (12 keys, -5..+6) or shifts like '2' or '-2,2'."),
    spines: int = typer.Option(0, help="kern: number of **kern spines per piece (0: the most common in the corpus)."),
    steps_per_quarter: Optional[int] = typer.Option(None, help="notewise/chordwise: time steps per quarter note (4 or 12)."),
    note_range: Optional[int] = typer.Option(None, help="notewise/chordwise: keys in the note range (38, 62 or 88)."),
    val_fraction: float = typer.Option(0.1, help="Share of the corpus (by piece) held out for validation."),
    test_fraction: float = typer.Option(0.1, help="Share of the corpus (by piece) held out for testing."),
    seed: int = typer.Option(0, help="Seed of the train/validation/test split."),
    workers: int = typer.Option(0, help="Processes for encoding (0: one per core)."),
) -> None:
    """Encode a corpus into a dataset: clean, split by piece, optionally transpose."""
    from cadenza.corpus import prepare as _prepare

    options: dict = {}
    if codec == "kern":
        options["spines"] = spines
    else:
        if steps_per_quarter is not None:
            options["steps_per_quarter"] = steps_per_quarter
        if note_range is not None:
            options["note_range"] = note_range
    try:
        with _progress() as prog:
            task = prog.add_task("encoding", total=None, info="")

            def cb(done: int, total: int) -> None:
                prog.update(task, completed=done, total=total)

            rep = _prepare(sources, out, codec, options, transpose, val_fraction, test_fraction, seed, workers or None, cb)
    except (CadenzaError, TypeError) as exc:
        _fail(exc)
        return
    t = Table(title=f"Dataset {rep.out} ({rep.codec}{f', {rep.layout} spines' if rep.layout else ''})")
    for c in ("split", "pieces", "tokens"):
        t.add_column(c, justify="right" if c != "split" else "left")
    for k in ("train", "val", "test"):
        t.add_row(k, str(rep.pieces[k]), f"{rep.tokens[k]:,}")
    console.print(t)
    console.print(f"{rep.used} files used, {rep.skipped} skipped, vocabulary {rep.vocab_size} tokens; every file's fate is in {rep.out / 'manifest.json'}")
    if rep.skipped_reasons:
        from collections import Counter

        reasons = Counter(r for _, r in rep.skipped_reasons)
        for r, k in reasons.most_common(8):
            console.print(f"  skipped {k:4d}: {r}")


@app.command()
def train(
    dataset: Path = typer.Argument(..., help="A dataset folder made by `cadenza prepare`."),
    out: Path = typer.Option(..., "-o", "--out", help="Run folder (re-running on an existing one resumes it)."),
    arch: str = typer.Option("lstm", help="Model: lstm (char-rnn) or transformer."),
    rnn_size: int = typer.Option(128, help="Hidden size (LSTM) or width (Transformer)."),
    num_layers: int = typer.Option(3, help="Number of layers."),
    dropout: float = typer.Option(0.0, help="Dropout between layers."),
    seq_length: int = typer.Option(50, help="Tokens per training sequence (backprop through time)."),
    batch_size: int = typer.Option(50, help="Sequences per batch."),
    learning_rate: float = typer.Option(2e-3, help="Adam learning rate."),
    learning_rate_decay: float = typer.Option(0.97, help="Multiply the learning rate by this each epoch after --learning-rate-decay-after."),
    learning_rate_decay_after: int = typer.Option(10, help="Epochs before the learning rate starts to decay."),
    grad_clip: float = typer.Option(5.0, help="Clip the gradient norm to this (0: off)."),
    max_epochs: float = typer.Option(50.0, help="Passes over the training text."),
    max_steps: int = typer.Option(0, help="Stop after this many steps (0: from --max-epochs)."),
    max_minutes: float = typer.Option(0.0, help="Stop (with a checkpoint) after this many minutes (0: no limit)."),
    eval_every: int = typer.Option(200, help="Steps between validation and checkpoints."),
    n_head: int = typer.Option(4, help="Transformer: attention heads."),
    seed: int = typer.Option(123, help="Random seed (weights, batches, dropout)."),
    threads: int = typer.Option(0, help="CPU threads for torch (0: default)."),
) -> None:
    """Train a language model on a dataset; checkpoints keep best and last, and re-running resumes."""
    from cadenza.train import LN2, TrainConfig
    from cadenza.train import train as _train

    cfg = TrainConfig(rnn_size=rnn_size, num_layers=num_layers, dropout=dropout, seq_length=seq_length, batch_size=batch_size, learning_rate=learning_rate,
                      learning_rate_decay=learning_rate_decay, learning_rate_decay_after=learning_rate_decay_after, grad_clip=grad_clip, max_epochs=max_epochs,
                      max_steps=max_steps, eval_every=eval_every, seed=seed, arch=arch, n_head=n_head, max_minutes=max_minutes, threads=threads)
    try:
        with _progress() as prog:
            task = prog.add_task("training", total=None, info="")

            def cb(s: dict) -> None:
                v = s["val_loss"]
                vtxt = f"val {v:.3f} nats ({v / LN2:.3f} bits)" if v is not None else "val -"
                prog.update(task, completed=s["step"], total=s["max_steps"], info=f"epoch {s['epoch']:.2f}  train {s['train_loss']:.3f} nats ({s['train_loss'] / LN2:.3f} bits)  {vtxt}")

            res = _train(dataset, out, cfg, cb)
    except CadenzaError as exc:
        _fail(exc)
        return
    if res.resumed_from:
        console.print(f"resumed from step {res.resumed_from}")
    best = f"{res.best_val_loss:.4f} nats ({res.best_val_loss / LN2:.4f} bits/token)" if res.best_val_loss is not None else "-"
    console.print(f"step {res.step}: best validation loss {best}; {res.seconds:.0f} s. Run folder: {res.run} (loss curve: {res.run / 'loss.png'})")


@app.command()
def generate(
    run: Optional[str] = typer.Argument(None, help="A run folder made by `cadenza train` (or use --model)."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for the samples."),
    model: Optional[str] = typer.Option(None, "--model", help="A bundled model (see `cadenza models`) instead of a run folder."),
    bars: int = typer.Option(0, help="Stop each sample after this many bars (0: use --length)."),
    seconds: float = typer.Option(0.0, help="notewise/chordwise: stop after this many seconds of music."),
    prompt: Optional[Path] = typer.Option(None, "--prompt", help="Continue this file (.mid, or .krn/.musicxml): its last --prompt-bars are the start."),
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
    render_to: Optional[str] = typer.Option(None, "--render", help="Also render each sample: e.g. svg,pdf,wav,png."),
) -> None:
    """Sample new pieces from a trained run; writes .krn/.mid/.musicxml and a summary table."""
    from cadenza.sample import SamplingOptions
    from cadenza.sample import generate as _generate

    if prime_file is not None:
        try:
            prime = prime_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(CadenzaError(f"{prime_file}: {exc}"))
    elif prime is not None:
        prime = prime.replace("\\n", "\n").replace("\\t", "\t")
    opts = SamplingOptions(temperature, top_k, top_p, min_p, random_freq, trunc)
    run = run or model
    if run is None:
        _fail(CadenzaError("give a run folder or --model NAME (see `cadenza models`)"))
    if prompt is not None:
        from cadenza.sample import continue_piece

        try:
            with _progress() as prog:
                task = prog.add_task(f"continuing {prompt.name}", total=length, info="")
                samples = continue_piece(run, prompt, out, n, length, seed, prompt_bars, prompt_seconds, bars, seconds, opts, progress=lambda d, t: prog.update(task, completed=d, total=t))
        except CadenzaError as exc:
            _fail(exc)
            return
        t = Table(title=f"{len(samples)} continuations of {prompt.name} in {out}")
        for c in ("sample", "prompt (quarters)", "continuation (quarters)", "notes", "dropped tokens", "files"):
            t.add_column(c)
        for s in samples:
            t.add_row(str(s.index), f"{s.stats['prompt_quarters']:.1f}", f"{s.stats['continuation_quarters']:.1f}", str(s.stats["notes"]), str(s.stats.get("dropped", 0)), " ".join(str(p) for p in s.files.values()))
        console.print(t)
        return
    try:
        with _progress() as prog:
            task = prog.add_task(f"sampling {n}", total=length, info="")
            samples = _generate(run, out, n, length, seed, prime, opts, map_unknown=map_unknown, bars=bars, beam=beam, beam_sample=beam_sample, form=form, phrase_bars=phrase_bars, seconds=seconds, constrained=constrained, progress=lambda d, t: prog.update(task, completed=d, total=t))
    except CadenzaError as exc:
        _fail(exc)
        return
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
    console.print(f"{ok}/{len(samples)} parse in music21")
    if render_to:
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


@app.command()
def render(
    files: List[Path] = typer.Argument(..., help="Files to render: .krn, .mid, .musicxml/.mxl, or a sample's token .txt (with --model/--run)."),
    to: str = typer.Option("svg,pdf,wav,png", "--to", help="Comma-separated: midi, musicxml, krn, svg, pdf, wav, png (flac/mp3 when ffmpeg is present)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default: beside each file)."),
    title: Optional[str] = typer.Option(None, help="Title in the engraved score's header."),
    soundfont: Optional[Path] = typer.Option(None, help="SoundFont (.sf2) for audio."),
    run: Optional[str] = typer.Option(None, "--run", "--model", help="For token .txt files: the run or bundled model whose codec reads them."),
) -> None:
    """Render music files to a score (SVG/PDF), sound (WAV) and a piano-roll picture (PNG)."""
    from cadenza import render as _render

    formats = [f.strip().lower() for f in to.split(",") if f.strip()]
    t = Table(title="Rendered")
    t.add_column("input")
    t.add_column("format")
    t.add_column("file")
    failed = 0
    for f in files:
        try:
            src = _tokens_to_file(f, run, out) if f.suffix.lower() == ".txt" else f
            got = _render.render(src, formats, out_dir=out, title=title, soundfont=soundfont)
        except CadenzaError as exc:
            err.print(f"[red]error:[/red] {exc}")
            failed += 1
            continue
        for fmt, paths in got.items():
            for p in paths:
                t.add_row(f.name, fmt, str(p))
    if t.row_count:
        console.print(t)
    if failed:
        raise typer.Exit(1)


def _tokens_to_file(path: Path, run: Optional[str], out: Optional[Path]) -> Path:
    """A sample's token text -> a .krn or .mid file through the run's codec."""
    from cadenza.codecs import get_codec
    from cadenza.pretrained import resolve
    from cadenza.train import load_run

    if run is None:
        raise CadenzaError(f"{path}: token text needs --run RUN (or --model NAME) to know its codec")
    _, config = load_run(resolve(run))
    codec = get_codec(config["codec"], config["codec_options"])
    decoded = codec.decode(path.read_text(encoding="utf-8"), config.get("context", {}))
    stem = (out or path.parent) / path.stem
    files = codec.export(decoded, stem, ("krn", "mid"))
    return files.get("krn") or files["mid"]


@app.command()
def compose(
    model: Optional[str] = typer.Option(None, "--model", help="Bundled model name or run folder (default: see `cadenza models`)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output folder (default ./cadenza-out/<timestamp>)."),
    bars: int = typer.Option(16, help="Bars to write (kern models)."),
    length: int = typer.Option(600, help="Tokens to write (notewise/chordwise models)."),
    seed: Optional[int] = typer.Option(None, help="Random seed (default: a fresh one, printed so you can replay it)."),
    temperature: float = typer.Option(0.9, help="Below 1: safer; above 1: wilder."),
    prompt: Optional[Path] = typer.Option(None, "--prompt", help="A file whose text starts the piece (kern: cleaned kern text)."),
    soundfont: Optional[Path] = typer.Option(None, help="SoundFont (.sf2) for the WAV (default: the bundled General MIDI one)."),
) -> None:
    """Compose a short new piece with a bundled model and render it: score, sound and picture."""
    from cadenza.compose import compose as _compose

    prime = None
    if prompt is not None:
        try:
            prime = prompt.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(CadenzaError(f"{prompt}: {exc}"))
    try:
        with err.status("composing") as status:
            comp = _compose(model, out, bars, length, seed, temperature, prime, soundfont=soundfont, progress=lambda m: status.update(m))
    except CadenzaError as exc:
        _fail(exc)
        return
    t = Table(title=f"A new piece by {comp.model}, seed {comp.seed}")
    t.add_column("format")
    t.add_column("file")
    for fmt, paths in comp.files.items():
        for p in paths:
            t.add_row(fmt, str(p))
    console.print(t)
    st = comp.stats
    console.print(f"{st.get('bars', '?')} bars, {st.get('notes', '?')} notes; replay with --seed {comp.seed}")
    for w in comp.warnings:
        err.print(f"[yellow]warning:[/yellow] {w}")


@app.command()
def evaluate(
    run: str = typer.Argument(..., help="A run folder or bundled model name."),
    out: Path = typer.Option(..., "-o", "--out", help="Report folder: report.json, report.md, report.html and plots."),
    n: int = typer.Option(20, "-n", help="Samples to generate and judge (fixed seeds)."),
    bars: int = typer.Option(16, help="kern: bars per sample."),
    length: int = typer.Option(1000, help="notewise/chordwise: tokens per sample."),
    seed: int = typer.Option(0, help="Seed of the first sample."),
    temperature: float = typer.Option(1.0, help="Sampling temperature for the judged samples."),
    beam: int = typer.Option(0, help="Judge beam-search output instead (conservative: compare the numbers)."),
    max_test_pieces: int = typer.Option(0, help="Score at most this many held-out pieces (0: all)."),
) -> None:
    """Measure how good, how valid and how original a model's music is; writes a report."""
    from cadenza.evaluate import evaluate as _evaluate
    from cadenza.sample import SamplingOptions

    try:
        with err.status("evaluating") as status:
            rep = _evaluate(run, out, n_samples=n, bars=bars, length=length, seed=seed, options=SamplingOptions(temperature=temperature),
                            max_test_pieces=max_test_pieces, beam=beam, progress=lambda stage, d, t: status.update(f"{stage} {d}/{t}"))
    except CadenzaError as exc:
        _fail(exc)
        return
    t = Table(title=f"Evaluation of {run}")
    t.add_column("measure")
    t.add_column("value")
    for k, v in rep.get("headline", {}).items():
        t.add_row(k.replace("_", " "), f"{v:.4g}" if isinstance(v, float) else str(v))
    console.print(t)
    for w in rep.get("warnings", []):
        err.print(f"[yellow]warning:[/yellow] {w}")
    console.print(f"report: {out / 'report.html'} (also report.md, report.json)")


bench = typer.Typer(no_args_is_help=True, help="Compare Cadenza's models with published numbers.")
app.add_typer(bench, name="benchmark")


@bench.command("poly")
def benchmark_poly(
    dataset: str = typer.Option("jsb", help="jsb, nottingham, musedata or pianomidi (Boulanger-Lewandowski 2012 splits)."),
    data: Path = typer.Option(Path("../shared/midi/benchmarks"), help="Folder with JSB_Chorales.mat, Nottingham.mat, ..."),
    out: Path = typer.Option(Path("runs/poly"), "-o", "--out", help="Folder for result.json and the weights."),
    arch: str = typer.Option("lstm", help="Frame model: lstm or tcn."),
    epochs: int = typer.Option(200, help="At most this many epochs (early stopping on validation)."),
    max_minutes: Optional[float] = typer.Option(None, help="Stop training after this many minutes."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Train and score a frame model on a standard polyphonic benchmark: test NLL per frame (nats)."""
    from cadenza.benchmark import run_benchmark

    try:
        with _progress() as prog:
            task = prog.add_task(f"{dataset} {arch}", total=None, info="")

            def cb(s: dict) -> None:
                prog.update(task, completed=s.get("epoch", 0), total=epochs, info=f"valid {s.get('valid_nll', float('nan')):.3f} nats/frame")

            res = run_benchmark(dataset, data, out / dataset / arch, arch=arch, epochs=epochs, max_minutes=max_minutes, seed=seed, progress=cb)
    except CadenzaError as exc:
        _fail(exc)
        return
    t = Table(title=f"{dataset}: test negative log-likelihood per frame (nats, lower is better)")
    t.add_column("model")
    t.add_column("test NLL")
    t.add_row(f"Cadenza {arch} ({res['params']:,} params)", f"{res['test_nll']:.3f}")
    for name, v in (res.get("published") or {}).items():
        t.add_row(name, f"{v}")
    console.print(t)


@app.command()
def models() -> None:
    """List the bundled pretrained models: what they learned from, size, quality and licence."""
    from cadenza.pretrained import DEFAULT, available

    t = Table(title="Bundled models (use --model NAME)")
    for c in ("name", "codec", "params", "MB", "test bits/token", "licence"):
        t.add_column(c, no_wrap=c != "licence")
    found = available()
    for name, info in found.items():
        bits = info.get("test_bits_per_token")
        t.add_row(name + (" (default)" if name == DEFAULT else ""), info.get("codec", ""), f"{info.get('params', 0):,}",
                  str(info.get("size_mb")), f"{bits:.3f}" if bits is not None else "-", info.get("licence", "").split(" (")[0])
    console.print(t)
    for name, info in found.items():
        console.print(f"[bold]{name}[/bold]: {info.get('trained_on', '')}; licence: {info.get('licence', '')}")


@app.command()
def codecs() -> None:
    """List the available encodings."""
    from cadenza.codecs import available, get_codec

    for name in available():
        c = get_codec(name)
        console.print(f"{name:10s} unit={c.unit:5s} reads {' '.join(c.suffixes)}  options: {c.options}")


def main() -> None:  # pragma: no cover
    try:
        app()
    except CadenzaError as exc:
        err.print(f"[red]error:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
