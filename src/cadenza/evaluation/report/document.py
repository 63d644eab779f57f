"""The report as one structure of sections and blocks, written out by :mod:`.markdown` and
:mod:`.html`. Everything it says is read from the report dict (``report.json``), so a report can
be rewritten from its JSON alone."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from cadenza.evaluation.features import entropy_bits
from cadenza.evaluation.likelihood import LN2
from cadenza.evaluation.method import METHOD
from cadenza.evaluation.validity import REPAIR_KEYS

Block = tuple  # ("p", text) | ("table", headers, rows) | ("img", key, caption) | ("pre", text) | ("warn", text)
Document = list[tuple[str, list[Block]]]  # (section title, its blocks)


def _f(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return "–"
        return f"{x:.{digits}f}"
    return str(x)


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _summary(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    hl = r["headline"]
    blocks: list[Block] = [("p", f"Run `{r['run']}` ({r['codec']} codec), dataset `{r['dataset']}`.")]
    blocks.append(
        (
            "table",
            ["measure", "value"],
            [
                ["Mean overlapped area (Yang & Lerch; 1 = like held-out music)", _f(hl["mean_overlap_area"])],
                ["Bits per token (test)", _f(hl["bits_per_token"])],
                ["Bits per note (test)", _f(hl["bits_per_note"])],
                ["Samples that decode / parse", _pct(hl["parsed_share"])],
                ["Bars that fit the metre", _pct(hl["bar_share"])],
                ["Samples copying more than 9 in 10 held-out pieces do", _f(hl["samples_copying_more_than_baseline"])],
            ],
        )
    )
    for w in r["warnings"]:
        blocks.append(("warn", w))
    return blocks


def _run(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    cfg = r["config"]
    blocks: list[Block] = []
    if "loss" in figures:
        blocks.append(("img", "loss", "Training and validation loss (bits per token)"))
    rows = [["codec", f"{cfg.get('codec')} {json.dumps(cfg.get('codec_options'))}"], ["vocabulary", str(r["vocab_size"])]]
    rows += [[f"model.{k}", json.dumps(v)] for k, v in (cfg.get("model") or {}).items()]
    rows += [[f"train.{k}", json.dumps(v)] for k, v in (cfg.get("train") or {}).items()]
    blocks.append(("table", ["setting", "value"], rows))
    blocks.append(("pre", json.dumps(r["settings"], indent=1)))
    return blocks


def _likelihood(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    lk = r["likelihood"]
    blocks: list[Block]
    if lk:
        blocks = [
            ("p", f"{lk['pieces']} held-out test pieces, {lk['tokens']} tokens scored, {lk['notes']} notes, {lk['seconds']} s of music."),
            (
                "table",
                ["unit", "nats", "bits"],
                [
                    ["per token", _f(lk["nats_per_token"]), _f(lk["bits_per_token"])],
                    ["per note", _f(lk["nats_per_note"]), _f(lk["bits_per_note"])],
                    ["per second", _f(lk["nats_per_second"]), _f(lk["bits_per_second"])],
                    ["total", _f(lk["nats"], 1), _f(lk["nats"] / LN2, 1)],
                ],
            ),
            ("p", "Formula: " + lk["formula"] + ". Each piece is scored from the model's empty state" + (" after the separator token" if lk.get("scored_after_separator") else "; its first token is not scored") + "."),
        ]
        if lk.get("pieces_unreadable"):
            blocks.append(("warn", f"{lk['pieces_unreadable']} test piece(s) could not be decoded to notes: left out of the per-note and per-second figures."))
        if lk.get("pieces_without_tempo"):
            blocks.append(("p", f"{lk['pieces_without_tempo']} of {lk['pieces']} pieces set no tempo: 120 quarter notes a minute assumed for them."))
        if lk.get("best_val_bits_per_token") is not None:
            blocks.append(("p", f"Best validation loss during training: {lk['best_val_bits_per_token']:.3f} bits per token (windows of the validation stream)."))
        blocks.append(("table", ["piece", "tokens", "bits/token", "notes", "seconds"], [[p["name"], p["tokens"], _f(p["bits_per_token"]), p["notes"], _f(p["seconds"], 1)] for p in lk["per_piece"]]))
    else:
        blocks = [("p", "Not available (no dataset or no test pieces).")]
    return blocks


def _validity(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    va = r["validity"]
    has_bars = va["bars"] is not None  # a codec without barlines counts none
    blocks: list[Block] = [
        (
            "table",
            ["", "samples", "held-out pieces"],
            [
                ["decode / parse", f"{va['parsed']}/{va['samples']} ({_pct(va['parsed_share'])})", _pct(va["reference"]["parsed_share"]) if va["reference"] else "–"],
                ["bars fitting the metre", f"{_f(va['bars_ok'])}/{_f(va['bars'])} ({_pct(va['bar_share'])})", f"{va['reference']['bars_ok']}/{va['reference']['bars']} ({_pct(va['reference']['bar_share'])})" if va["reference"] and has_bars else "–"],
            ]
            + [[f"{k} (total / per sample)", f"{v} / {va['repairs_per_sample'][k]:.2f}", "–"] for k, v in va["repairs_total"].items()],
        ),
        ("p", "A bar fits when every part and voice fills exactly the metre's bar length; the first (pickup) and last bar may be shorter, with all parts ending together." if has_bars else "This codec has no barlines: every decoded sample is metrically well formed; decoder repairs are listed."),
    ]
    heads = ["sample", "parsed", "bars ok", "notes", "tokens", "repairs", "problem"]
    rows = []
    for s in va["per_sample"]:
        rep = ", ".join(f"{k} {s[k]}" for k in REPAIR_KEYS if s.get(k))
        prob = s.get("error") or (("bad bars: " + ", ".join(s["bad_bars"])) if s.get("bad_bars") else "")
        rows.append([f"{s['sample']:02d}", _f(s["parsed"]), f"{_f(s['bars_ok'])}/{_f(s['bars'])}" if s.get("bars") is not None else "–", s["notes"], s["tokens"], rep, prob])
    blocks.append(("table", heads, rows))
    return blocks


def _statistics(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    st = r["statistics"]
    blocks: list[Block] = [("p", f"{st['n_samples']} samples vs {st['n_reference_excerpts']} excerpts of held-out pieces, {st['excerpt_quarters']:g} quarters long (the median sample). "
               "Distance: |difference of means| for numbers, half the L1 distance of the mean histograms (0 = equal, 1 = disjoint). "
               "OA: overlapped area of the intra-set (held-out vs held-out) and inter-set (sample vs held-out) distance densities; KL(intra || inter).")]
    rows = []
    for k, f in st["features"].items():
        if f["kind"] == "scalar":
            sm = f"{_f(f['samples']['mean'])} ± {_f(f['samples']['sd'])}"
            rm = f"{_f(f['reference']['mean'])} ± {_f(f['reference']['sd'])}"
        else:
            sm = f"entropy {entropy_bits(np.array(f['samples']['mean'])):.2f} bits" if f["samples"]["mean"] else "–"
            rm = f"entropy {entropy_bits(np.array(f['reference']['mean'])):.2f} bits" if f["reference"]["mean"] else "–"
        rows.append([f["label"] + (f" ({f['unit']})" if f["unit"] else ""), sm, rm, _f(f["distance"]), _f(f["oa"]), _f(f["kl"])])
    if rows:
        blocks.append(("table", ["feature", "samples", "held-out", "distance", "OA", "KL"], rows))
        blocks.append(("p", f"**Mean overlapped area: {_f(st['mean_overlap_area'])}**"))
    else:
        blocks.append(("p", "No sample decoded to notes: nothing to compare."))
    iv = st.get("interval_classes") or {}
    if iv.get("samples") is not None and iv.get("reference") is not None:
        blocks.append(("p", "Vertical intervals, every pair sounding together at an onset, pooled (semitones mod 12; the consonance figure counts P1/8, m3, M3, P5, m6, M6, and P4 between upper voices):"))
        blocks.append(("table", ["", *iv["names"]], [["samples", *(f"{x:.3f}" for x in iv["samples"])], ["held-out", *(f"{x:.3f}" for x in iv["reference"])]]))
    if "histograms" in figures:
        blocks.append(("img", "histograms", "Mean histograms: held-out excerpts vs samples"))
    if "distances" in figures:
        blocks.append(("img", "distances", "Distance densities per feature (Yang & Lerch 2018)"))
    return blocks


def _memorisation(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    mem = r["memorisation"]
    blocks: list[Block]
    if mem:
        blocks = [
            ("p", f"Representation: {mem['representation']}; transposition invariant. Training set: {mem['training_pieces']} pieces (untransposed), {mem['training_tokens']} onset tokens."),
            (
                "table",
                ["", "samples", f"held-out excerpts of {mem.get('excerpt_onsets', 0)} onsets (baseline)", "whole held-out pieces"],
                [
                    ["longest stretch found in training (notes): max", _f(mem["samples_max_longest_notes"]), _f(mem.get("excerpts_max_longest_notes")), _f(mem["baseline_max_longest_notes"])],
                    ["longest stretch (notes): 90th percentile", "", _f(mem["baseline_limit_longest_notes"], 1), _f(mem.get("baseline_whole_limit_longest_notes"), 1)],
                    [f"{mem['window_bars']}-bar windows found verbatim: mean share", _pct(mem["samples_mean_window_share"]), _pct(mem.get("excerpts_mean_window_share")), _pct(mem["baseline_mean_window_share"])],
                    [f"{mem['window_bars']}-bar windows: 90th percentile", "", _pct(mem["baseline_limit_window_share"]), _pct(mem.get("baseline_whole_limit_window_share"))],
                ],
            ),
            ("p", f"Samples are flagged against the 90th percentile of {mem.get('flagged_against', 'held-out pieces')}."),
        ]
        if mem["flagged_samples"]:
            blocks.append(("warn", f"{len(mem['flagged_samples'])} sample(s) copy more from the training set than 9 in 10 " + mem.get("flagged_against", "held-out pieces") + " do: " + ", ".join(f"{i:02d}" for i in mem["flagged_samples"])))
        else:
            blocks.append(("p", "No sample copies more from the training set than 9 in 10 " + mem.get("flagged_against", "held-out pieces") + " do."))
        heads = ["piece", "onsets", "notes", "longest (onsets)", "longest (notes)", "longest (bars)", "from training piece (at quarter)", "windows found", "flag"]

        def src(x: dict[str, Any]) -> str:
            return f"{x['source']} ({x['source_at']:g})" if x.get("source") else ""

        rows = [[f"sample {s['sample']:02d}", s["onsets"], s["notes"], s["longest_onsets"], s["longest_notes"], _f(s["longest_bars"], 2), src(s), f"{s['windows_found']}/{s['windows']}", "COPIES" if s.get("copies_more_than_baseline") else ""] for s in mem["samples"]]
        rows += [[f"held-out {b['name']}", b["onsets"], b["notes"], b["longest_onsets"], b["longest_notes"], _f(b["longest_bars"], 2), src(b), f"{b['windows_found']}/{b['windows']}", "baseline"] for b in mem["baseline"]]
        blocks.append(("table", heads, rows))
        if "memorisation" in figures:
            blocks.append(("img", "memorisation", "Memorisation per sample against the held-out maximum"))
    else:
        blocks = [("p", "Not available (no dataset).")]
    return blocks


def _composer(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    """Samples asked for a composer, recognised by a classifier trained on real held-out music."""
    comp = r.get("composer")
    if not comp:
        return [("p", "The model was not prepared with --condition composer: nothing to measure.")]
    info = comp["classifier"]
    acc = f"cross-validated accuracy on real music {_pct(info.get('excerpt_accuracy'))} per excerpt, {_pct(info.get('piece_accuracy'))} per piece"
    blocks: list[Block] = [("p", f"Logistic regression on pitch-class, interval, note-length and onset histograms, trained on {info['pieces']} held-out pieces "
                                  f"({info['excerpts']} excerpts) of {len(info['composers'])} composers; {acc} (chance {_pct(info.get('chance'))}).")]
    if "per_composer" not in comp:
        return blocks + [("warn", f"no classifier: {info.get('problem', 'too few labelled pieces')}")]
    blocks.append(("table", ["samples", "recognised as the composer asked for", "n"], [
        ["asked for a composer", _pct(comp["conditioned_recognised"]), _f(comp["conditioned_samples"])],
        ["unconditioned (each given a composer in turn)", _pct(comp["unconditioned_recognised"]), _f(comp["unconditioned_samples"])],
        ["chance", _pct(comp["chance"]), ""],
    ]))
    blocks.append(("table", ["composer asked for", "samples", "recognised", "classified as"],
                   [[c, _f(v["samples"]), _f(v["recognised"]), ", ".join(f"{k} {n}" for k, n in sorted(v["guessed"].items(), key=lambda x: -x[1]))] for c, v in comp["per_composer"].items()]))
    return blocks


def _infilling(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    """Held-out middles read with what comes after them (fill in the middle) and without."""
    inf = r.get("infilling") or {}
    if not inf.get("middles"):
        return [("p", "No held-out piece is long enough for a middle with context on both sides.")]
    return [("p", f"{inf['middles']} middles ({inf['tokens']} tokens) of {inf['pieces']} held-out pieces, each with {inf['before']} tokens before "
                  f"and {inf['after']} after. Same middle tokens in both rows: what `cadenza infill` gives the model against what `--prompt` gives it."),
            ("table", ["reading", "bits/token of the middles"], [["before and after (fill in the middle)", _f(inf["fim_bits_per_token"])],
                                                                  ["before only (left context)", _f(inf["left_bits_per_token"])]])]


def _method(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    return [("pre", METHOD)]


def _timings(r: dict[str, Any], figures: dict[str, Path]) -> list[Block]:
    return [("table", ["stage", "seconds"], [[k, _f(v, 2)] for k, v in r["timings"].items()])]


SECTIONS = (
    ("Summary", _summary),
    ("Run", _run),
    ("Likelihood on held-out pieces", _likelihood),
    ("Validity of samples", _validity),
    ("Musical statistics", _statistics),
    ("Memorisation", _memorisation),
    ("Composer conditioning", _composer),
    ("Filling in the middle", _infilling),
    ("Method", _method),
    ("Timings (seconds)", _timings),
)


def document(r: dict[str, Any], figures: dict[str, Path]) -> Document:
    """The report's sections in order; ``figures`` names the figures that were drawn."""
    return [(title, section(r, figures)) for title, section in SECTIONS if (title != "Composer conditioning" or r.get("composer")) and (title != "Filling in the middle" or r.get("infilling"))]

