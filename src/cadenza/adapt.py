"""``adapt``: your own pieces, a base model fine-tuned on them, and what that gained (issue #20).

The request most often made of NotaGen, midi-model and Magenta Studio is "fine-tune it on my
pieces". One call does it on a laptop: the user's files are prepared with the base model's codec,
options and labels into ``RUN/dataset`` (pieces held out for validation and test, never trained
on); the base model's weights are fine-tuned for a few minutes (``train --init-from``), the best
checkpoint by validation kept; then both the base model and the fine-tune read the user's test
pieces whole, and the difference is the gain. Nothing is measured on what the model trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cadenza import CadenzaError


@dataclass(frozen=True)
class AdaptOptions:
    """How long and how hard to fine-tune. Defaults suit a laptop: 10 minutes, training's own thread choice, the
    base model's shape, and a high learning rate for an LSTM (:func:`auto_rate`): a few minutes on a
    new corpus is a short run, not a gentle polish."""

    minutes: float = 10.0
    threads: int = 0  # 0: training's own choice (one thread for a model this small: fastest on a busy laptop)
    learning_rate: float = 0.0  # 0: auto_rate(the base model's training options)
    seq_length: int = 256
    batch_size: int = 32
    eval_every: int = 50
    fim_rate: float = -1.0  # -1: the base model's own
    seed: int = 0
    transpose: str | None = "all"  # the training pieces in 12 keys: a small corpus overfits in one (mozart-kern's lesson)
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    samples: int = 8  # samples each model writes to be set against the user's test pieces (0: none)
    sample_bars: int = 8  # their length in bars (grid codecs: their tokens, sample_bars * 100)


@dataclass
class AdaptReport:
    run: Path
    base: str
    dataset: Path
    pieces: dict[str, int]
    base_bits: float  # the base model on the user's test pieces (bits per token)
    tuned_bits: float  # the fine-tune on the same pieces, same tokens
    test_tokens: int
    unknown_to_base: int  # test tokens the base model's vocabulary lacks (skipped for both)
    steps: int
    minutes: float
    extra: dict[str, Any] = field(default_factory=dict)
    notes: int = 0  # notes of the user's test pieces (the bits per note below divide by them)
    base_overlap: float | None = None  # mean overlapped area of the base model's samples with the test pieces
    tuned_overlap: float | None = None  # the same for the fine-tune's samples

    @property
    def base_bits_per_note(self) -> float | None:
        return self.base_bits * self.test_tokens / self.notes if self.notes else None

    @property
    def tuned_bits_per_note(self) -> float | None:
        return self.tuned_bits * self.test_tokens / self.notes if self.notes else None

    @property
    def gain(self) -> float:
        """The share of bits the fine-tune saves (0.2: 20% fewer bits on the user's test pieces)."""
        return 1 - self.tuned_bits / self.base_bits if self.base_bits else 0.0


DEFAULT_BASE = "kern-small"  # every score in a 3x128 LSTM: in 10 CPU minutes it reads 4x the text kern-base does, and ends better


def adapt(sources: list[str | Path], run: Path, base: str = DEFAULT_BASE, options: AdaptOptions = AdaptOptions(),
          say: Callable[[str], None] | None = None, progress: Callable[[dict[str, Any]], None] | None = None) -> AdaptReport:
    """Fine-tune the bundled model (or run folder) ``base`` on the music files ``sources`` into
    the run folder ``run`` and measure it (see the module docstring). One-line
    :class:`CadenzaError` for what cannot be used: no file the base model's codec reads, too few
    pieces to hold one out."""
    say = say or (lambda _msg: None)
    run = Path(run)
    say(f"preparing your pieces for {base}")
    pieces = prepare_for(base, sources, run / "dataset", options, say)
    rows = _rows(run / "dataset")
    say(f"fine-tuning {base} for {options.minutes:g} minute{'' if options.minutes == 1 else 's'} (peak learning rate {rate_for(base, options):g}) on {sum(r['tokens'] for r in rows):,} tokens"
        + (f" (your pieces in {len({r['transpose'] for r in rows})} keys)" if options.transpose else ""))
    result = fine_tune(base, run / "dataset", run / "model", options, progress)
    say("measuring the base model and the fine-tune on your held-out pieces")
    bits_base, bits_tuned, tokens, unknown = compare(base, run / "model", run / "dataset")
    rep = AdaptReport(run, base, run / "dataset", pieces, bits_base, bits_tuned, tokens, unknown, result.step, result.seconds / 60,
                      {"best_val_loss": result.best_val_loss})
    if options.samples:
        say(f"{options.samples} samples from each, set against your held-out pieces")
        rep.notes, rep.base_overlap, rep.tuned_overlap = closeness(base, run / "model", run / "dataset", options)
    return rep


def closeness(base: str, tuned: Path, dataset: Path, options: AdaptOptions = AdaptOptions()) -> tuple[int, float | None, float | None]:
    """(notes of the test pieces, mean overlapped area of the base model's samples, of the
    fine-tune's): ``options.samples`` samples each (same seeds), their features against the test
    pieces' cut to the samples' length (:func:`~cadenza.evaluation.similarity.statistics_section`)."""
    import tempfile

    from cadenza.evaluation.heldout import decode_piece, read_test_pieces
    from cadenza.evaluation.pieces import piece_notes
    from cadenza.evaluation.similarity import statistics_section
    from cadenza.generation import Request, generate, open_run
    from cadenza.models.pretrained import resolve

    quiet = lambda *_: None  # noqa: E731
    runs = [open_run(resolve(base)), open_run(Path(tuned))]
    codec = runs[1].codec
    held = [h.piece for h in read_test_pieces(Path(dataset), codec, 0, quiet)]
    notes = sum(len(piece_notes(p)) for p in held if p is not None)
    overlaps: list[float | None] = []
    with tempfile.TemporaryDirectory(prefix="cadenza-adapt-") as tmp:
        for k, run in enumerate(runs):
            ask = Request(n=options.samples, seed=options.seed, bars=options.sample_bars if codec.bar_token else 0, length=100 * options.sample_bars)
            pieces = []
            for s in generate(run, Path(tmp) / str(k), ask, formats=("krn",) if "krn" in codec.sample_formats else None):
                written = s.files.get("krn")
                try:
                    kern = written.read_text(encoding="utf-8") if written is not None and written.exists() else None
                    pieces.append(decode_piece(codec, s.text, run.context, f"sample-{s.index}", kern)[0])
                except Exception:  # noqa: BLE001 - an unreadable sample is no evidence of closeness
                    pieces.append(None)
            section, _ = statistics_section(pieces, held, [], quiet)
            overlaps.append(section.get("mean_overlap_area"))
    return notes, overlaps[0], overlaps[1]


def prepare_for(base: str, sources: list[str | Path], dataset: Path, options: AdaptOptions = AdaptOptions(),
                say: Callable[[str], None] | None = None) -> dict[str, int]:
    """Prepare ``sources`` into ``dataset`` with the codec, codec options and label kinds of the
    model ``base``; the pieces per split in their own keys. Refuses a corpus too small to hold out;
    the files it could not use are ``say``-ed, each with its reason (all of them in the dataset's report.md)."""
    from cadenza.data import prepare
    from cadenza.models.pretrained import resolve
    from cadenza.training.checkpoint import read_config

    config = read_config(resolve(base))
    labels = (config.get("context") or {}).get("labels") or {}
    rep = prepare(sources, dataset, config["codec"], dict(config.get("codec_options") or {}), options.transpose, options.val_fraction, options.test_fraction,
                  options.seed, condition=tuple(labels) or None)
    if say and rep.skipped_reasons:
        shown = "; ".join(f"{Path(p).name}: {why}" for p, why in rep.skipped_reasons[:5])
        more = len(rep.skipped_reasons) - 5
        say(f"skipped {len(rep.skipped_reasons)} file(s) it cannot use: {shown}" + (f"; {more} more in {dataset / 'report.md'}" if more > 0 else ""))
    if rep.pieces["test"] < 1 or rep.pieces["val"] < 1 or rep.pieces["train"] < 1:
        raise CadenzaError(f"{', '.join(map(str, sources))}: {sum(rep.pieces.values())} usable piece(s); adapt needs at least 3 "
                           "(one to train on, one to choose the checkpoint, one to measure it)")
    originals = sum(r["pieces"] for r in rep.by_source.values())
    return {"train": originals - rep.pieces["val"] - rep.pieces["test"], "val": rep.pieces["val"], "test": rep.pieces["test"]}


RATE_FACTOR = 3.0  # an LSTM base's own peak rate times this (at most MAX_RATE) is adapt's default
MAX_RATE = 1e-2


def auto_rate(model: dict[str, Any], train: dict[str, Any]) -> float:
    """The fine-tune's peak rate when none is given: an LSTM base's own peak rate x3 (at most 1e-2),
    a transformer's own. Measured on Joplin's rags, which neither base read (5 CPU minutes, the
    held-out rags in bits/char): kern-base at 1e-3 (half its rate, the old default) 0.960 after
    10 minutes, at 6e-3 0.873 after 5; a 3x128 base trained at 3e-3, after 5 minutes: 1.029 at
    1e-3, 0.926 at 3e-3, 0.885 at 6e-3, 0.868 at 1e-2."""
    own = float(train.get("learning_rate") or 2e-3)
    return own if model.get("arch") == "transformer" else min(MAX_RATE, RATE_FACTOR * own)


def rate_for(base: str, options: AdaptOptions = AdaptOptions()) -> float:
    """The peak rate a fine-tune of ``base`` takes: the one asked for, else :func:`auto_rate`."""
    from cadenza.models.pretrained import resolve
    from cadenza.training.checkpoint import read_config

    if options.learning_rate > 0:
        return options.learning_rate
    config = read_config(resolve(base))
    return auto_rate(config["model"], config.get("train") or {})


def fine_tune(base: str, dataset: Path, run: Path, options: AdaptOptions = AdaptOptions(), progress: Callable[[dict[str, Any]], None] | None = None) -> Any:
    """``base``'s weights trained on ``dataset`` for ``options.minutes`` into ``run`` (the best
    checkpoint by validation kept): ``cadenza train --init-from`` with the base model's shape."""
    from cadenza.models.pretrained import resolve
    from cadenza.training import train
    from cadenza.training.config import config_for
    from cadenza.training.checkpoint import read_config

    config = read_config(resolve(base))
    train_cfg = config.get("train") or {}
    fim = train_cfg.get("fim_rate", 0.0) if options.fim_rate < 0 else options.fim_rate
    m = config["model"]
    seq = min(options.seq_length, m.get("block_size") or options.seq_length) if m["arch"] == "transformer" else options.seq_length
    cfg = config_for(init_from=str(base), seq_length=seq, batch_size=options.batch_size, learning_rate=rate_for(base, options), schedule="cosine",
                     max_minutes=options.minutes, max_steps=1_000_000, eval_every=options.eval_every, threads=options.threads, fim_rate=fim,
                     fim_format=train_cfg.get("fim_format", "psm"), seed=options.seed)
    return train(Path(dataset), Path(run), cfg, progress)


def compare(base: str, tuned: Path, dataset: Path) -> tuple[float, float, int, int]:
    """(base bits/token, fine-tune bits/token, tokens scored, test tokens the base cannot spell)
    on ``dataset``'s test pieces."""
    from cadenza.models.pretrained import resolve
    from cadenza.training import load_run

    base_model, base_config = load_run(resolve(base))
    tuned_model, tuned_config = load_run(Path(tuned))
    return _compare(base_model, base_config, tuned_model, tuned_config, Path(dataset))


def _rows(dataset: Path) -> list[dict[str, Any]]:
    from cadenza.data.dataset import load_pieces

    return [r for r in load_pieces(dataset) if r["split"] == "train"]


def _compare(base_model: Any, base_config: dict, tuned_model: Any, tuned_config: dict, dataset: Path) -> tuple[float, float, int, int]:
    """Bits per token of the user's test pieces under both models, on the same tokens: those
    the base model's vocabulary holds (the fine-tune's holds them all)."""
    from cadenza.codecs import get_codec, split_tokens
    from cadenza.evaluation.heldout import split_pieces
    from cadenza.evaluation.likelihood import token_nats
    from cadenza.training import LN2

    codec = get_codec(tuned_config["codec"], tuned_config["codec_options"])
    texts = [text for text, _ in split_pieces(Path(dataset), "test", codec.unit)]
    known = set(base_config["vocab"])
    kept = [[t for t in split_tokens(text, codec.unit) if t in known] for text in texts]
    unknown = sum(len(split_tokens(text, codec.unit)) for text in texts) - sum(map(len, kept))
    out = []
    for model, cfg in ((base_model, base_config), (tuned_model, tuned_config)):
        stoi = {t: i for i, t in enumerate(cfg["vocab"])}
        prefix = [stoi["\n"]] if codec.unit == "char" and "\n" in stoi else []
        nats = token_nats(model, [prefix + [stoi[t] for t in toks] for toks in kept])
        out.append((sum(float(x.sum()) for x in nats), sum(x.size for x in nats)))
    (nb, tb), (nt, tt) = out
    if not tb or tb != tt:
        raise CadenzaError("no test tokens both models can read")
    return nb / tb / LN2, nt / tt / LN2, tb, unknown
