"""``evaluate(run, out)``: the steps of an evaluation in order, each filling one section of the
report (see :mod:`cadenza.evaluation.method` for what every number means).

held-out test pieces -> likelihood -> samples -> validity -> statistics -> memorisation ->
composer recognition (a model prepared with ``--condition composer``) -> headline, figures,
report files.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from cadenza import CadenzaError
from cadenza.evaluation.composer_judge import composer_section
from cadenza.evaluation.options import EvaluationOptions
from cadenza.evaluation.heldout import HeldOut, dataset_mismatch, find_dataset, read_test_pieces
from cadenza.evaluation.infill_likelihood import middle_bits
from cadenza.evaluation.likelihood import likelihood_section
from cadenza.evaluation.memorisation import index_training_pieces, memorisation_section
from cadenza.evaluation.report import jsonable, write_report
from cadenza.evaluation.report.figures import draw_figures
from cadenza.evaluation.samples import check_samples, draw_samples
from cadenza.evaluation.similarity import statistics_section
from cadenza.evaluation.validity import validity_section

if TYPE_CHECKING:
    from cadenza.generation import Run, SamplingOptions

__all__ = ["EvaluationOptions", "evaluate"]

Progress = Callable[[str, int, int], None]


def evaluate(
    run: Path | str,
    out: Path | str,
    n_samples: int = 20,
    bars: int = 16,
    length: int = 1000,
    seed: int = 0,
    options: SamplingOptions | None = None,
    prime: str | None = None,
    window_bars: int = 4,
    max_test_pieces: int = 0,
    progress: Progress | None = None,
    beam: int = 0,
    metre: str | None = None,
    key: str | None = None,
    composer: str | None = None,
    dataset: str | Path | None = None,
) -> dict[str, Any]:
    """Evaluate the run folder (or bundled model name) ``run``; write the report into ``out``.
    ``dataset``: the dataset folder the model was trained on, where it is not beside the run or
    in ``./data`` (a bundled model's is made by the ``prepare`` command its MODEL.json records).

    ``n_samples`` samples are drawn with ``seed`` (kern: ``bars`` bars each; other codecs:
    ``length`` tokens) and ``options`` (:class:`cadenza.generation.SamplingOptions`, default plain
    sampling at temperature 1). ``window_bars`` sets the memorisation window; ``max_test_pieces``
    (0: all) caps the held-out pieces read. ``metre`` / ``key`` (kern: ``"3/4"``, ``"F"``): what
    the samples are written in (default: drawn from the training pieces); ``composer``: the
    composer the samples are asked for (a model prepared with ``--condition composer``). ``progress(stage, done, total)`` is called as work
    proceeds, ``stage`` one of "reading test pieces", "likelihood", "sampling", "checking
    samples", "statistics", "indexing training pieces", "report". Returns the report as a dict
    (what ``report.json`` holds): ``headline`` has the key figures, ``warnings`` lists what the
    reader must not miss (samples copying from the training set, too few held-out pieces, no
    dataset). A run whose dataset folder is gone still gets validity and sample statistics.
    On a CPU, a small model runs on one thread (:class:`cadenza.generation.few_threads`: its steps
    are too short to split; on a busy machine that is several times faster); torch's setting is
    restored afterwards.
    """
    import torch

    from cadenza.generation import SamplingOptions, few_threads, open_run
    from cadenza.models.pretrained import resolve

    t_start = time.time()
    trained = open_run(resolve(run))  # opened once: its samples are drawn from the same weights
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    opts = EvaluationOptions(n_samples, bars, length, seed, options or SamplingOptions(), prime, window_bars, max_test_pieces, beam, metre, key, composer)
    say = progress or (lambda stage, done, total: None)
    if composer:  # the label opens the prime (an unknown composer is an error listing the known)
        from cadenza.codecs.labels import label_prime

        codec, vocab = trained.codec, trained.vocab
        head = label_prime(trained.config.get("context"), vocab, composer=composer, unit=codec.unit)
        opts = EvaluationOptions(**{**opts.__dict__, "prime": head + (prime if prime is not None else codec.default_prime(vocab))})
    with nullcontext() if torch.cuda.is_available() else few_threads(trained.model):
        return _evaluate(trained, out, opts, say, t_start, dataset)


def _prepare_command(run: Path) -> str | None:
    """The ``prepare`` command a bundled model's MODEL.json records for its dataset."""
    import json

    try:
        return json.loads((Path(run) / "MODEL.json").read_text(encoding="utf-8")).get("prepare")
    except (OSError, ValueError):
        return None


def _evaluate(trained: Run, out: Path, opts: EvaluationOptions, say: Progress, t_start: float, given: str | Path | None = None) -> dict[str, Any]:
    run, model, config, codec = trained.path, trained.model, trained.config, trained.codec
    timings: dict[str, float] = {}
    t0 = time.time()

    def lap(stage: str) -> None:
        nonlocal t0
        timings[stage] = time.time() - t0
        t0 = time.time()

    warnings: list[str] = []
    rejected: list[str] = []
    if given is not None:
        dataset = Path(given)
        why = dataset_mismatch(config, dataset) if (dataset / "manifest.json").is_file() else "not a dataset folder (no manifest.json)"
        if why is not None:
            raise CadenzaError(f"--dataset {given}: {why}")
    else:
        dataset = find_dataset(config, run, rejected)
    if dataset is None:
        made = _prepare_command(run)
        warnings.append(f"dataset {config.get('dataset')!r} not found: no likelihood, reference statistics or memorisation" + (f" ({'; '.join(rejected)})" if rejected else "")
                        + (f"; make it with `{made}` (from the project folder, ../shared beside it) and give --dataset" if made else "; give --dataset DATASET"))
    report: dict[str, Any] = {
        "format": "cadenza-evaluation/1",
        "run": str(run),
        "dataset": str(dataset) if dataset else config.get("dataset"),
        "codec": codec.name,
        "config": {k: v for k, v in config.items() if k != "vocab"},
        "vocab_size": len(config["vocab"]),
        "settings": opts.settings(),
    }

    test: list[HeldOut] = []
    if dataset is not None:
        test = read_test_pieces(dataset, codec, opts.max_test_pieces, say)
        if not test:
            warnings.append("the dataset has no test pieces: no likelihood, reference statistics or memorisation baseline")
    lap("test_pieces")

    report["likelihood"] = likelihood_section(model, test, codec, config["vocab"], run, say) if test else None
    lap("likelihood")
    # a model trained to fill in the middle: held-out middles read with the bars after, and without
    report["infilling"] = middle_bits(model, config, dataset, max_pieces=opts.max_test_pieces) if test and dataset is not None else None
    lap("infilling")

    samples = draw_samples(trained, out, codec, opts, say)
    lap("sampling")
    gen = check_samples(samples, codec, config.get("context", {}) or {}, out, say)
    lap("checking")
    report["validity"] = validity_section(gen, test, codec.bar_token is not None)

    report["statistics"], cmp = statistics_section([g.piece for g in gen], [h.piece for h in test], warnings, say)
    lap("statistics")

    mem: dict[str, Any] | None = None
    if dataset is not None:
        index = index_training_pieces(dataset, codec, say)
        timings["index"] = time.time() - t0
        mem = memorisation_section(index, test, [(g.index, g.fast) for g in gen], opts.window_bars, warnings)
    report["memorisation"] = mem
    lap("memorisation")

    # samples asked for each composer, against this evaluation's own (unconditioned) samples
    plain = [] if opts.composer or opts.prime else [g.fast for g in gen]
    report["composer"] = composer_section(trained, out, codec, config, dataset, opts, plain, say)
    lap("composer")

    report["headline"] = _headline(report)
    report["warnings"] = warnings
    say("report", 0, 1)
    figures = draw_figures(out, run, report, cmp)
    report["figures"] = {k: str(Path(v).name) for k, v in figures.items()}
    lap("figures")
    timings["total"] = time.time() - t_start
    report["timings"] = {k: round(v, 2) for k, v in timings.items()}
    report["files"] = {"json": "report.json", "markdown": "report.md", "html": "report.html", "samples": "samples"}
    clean = jsonable(report)
    write_report(out, clean, figures)
    say("report", 1, 1)
    return clean


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    """The key figures, one from each section."""
    lk = report["likelihood"] or {}
    va = report["validity"]
    mem = report["memorisation"]
    return {
        "mean_overlap_area": report["statistics"]["mean_overlap_area"],
        "bits_per_token": lk.get("bits_per_token"),
        "bits_per_note": lk.get("bits_per_note"),
        "parsed_share": va["parsed_share"],
        "bar_share": va.get("bar_share"),
        "samples_copying_more_than_baseline": len(mem["flagged_samples"]) if mem else None,
    } | ({"infill_bits_per_token": inf["fim_bits_per_token"], "left_context_bits_per_token": inf["left_bits_per_token"]}
         if (inf := report.get("infilling")) and inf.get("middles") else {}) | ({"composer_recognised": comp.get("conditioned_recognised"), "composer_recognised_unconditioned": comp.get("unconditioned_recognised"),
          "composer_chance": comp.get("chance")} if (comp := report.get("composer")) and "per_composer" in comp else {})
