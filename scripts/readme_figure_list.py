"""Every measured figure of README.md and the results file it comes from (read by
scripts/readme_figures.py): TABLES renders each ``<!-- figures:NAME -->`` table whole, FIGURES
gives the numbers of the phrases quoted in sentences. Historical figures (runs not kept) come from
``historical.json`` and ``gpu.json``, which say where each was first written."""

from __future__ import annotations

from typing import Any

from readme_figures import FigureError, Figures, Sources, bold_lower, num, pct, table
from readme_figures_chords import CHORD_READER, CHORDS_HELDOUT, TABLES as CHORD_TABLES
from readme_figures_kern_base import ADAPT_SOUNDS, BEETHOVEN, JUDGE, KERN_BASE, KERN_BASE_TABLES, SPEED, STARTUP

# ---- benchmarks/results/latest.json: issue #15's table (benchmarks/bench.py)

RELABEL = {  # the JSON's own label, where it reads ambiguously in a table
    "data preparation: music21 ms/file / Cadenza ms/file": "data preparation: Cadenza ms/file (anchor: music21 ms/file; ratio: the speed-up)",
}


def bench_table(src: Sources) -> str:
    met = {True: "yes", False: "**no**", None: ""}
    rows = [[RELABEL.get(r["figure"], r["figure"]), num(r["value"]), num(r["anchor"]), num(r["ratio"]), r["target"], met[r["met"]]]
            for r in src("latest")["rows"]]
    return table(["figure", "value", "anchor", "ratio", "target", "met?"], rows)


def _row(src: Sources, start: str) -> dict[str, Any]:
    return next(r for r in src("latest")["rows"] if r["figure"].startswith(start))


def bench(src: Sources) -> dict[str, str]:
    b = src("latest")
    mozart, piano = _row(src, "quality: Mozart"), _row(src, "quality: piano")
    free, con = _row(src, "sampling: mozart-kern, 15,000 characters, seconds"), _row(src, "sampling: mozart-kern, 15,000 characters constrained")
    whole, krn_mid = _row(src, "generate --model mozart-kern --length 15000 --formats krn,mid,musicxml"), _row(src, "generate --model mozart-kern --length 15000 --formats krn,mid:")
    side, prof, hist = src("historical")["bench-side-runs"], src("historical")["sampling-profile"], src("historical")
    return {
        "date": b["date"], "date2": b["date"], "minutes": str(b["seconds"] // 60),
        "q_mozart": num(mozart["ratio"], 3), "q_mozart2": num(mozart["ratio"], 3), "q_piano": num(piano["ratio"], 3),
        "b_test": num(mozart["baseline"]["test_bits_per_token"], 3), "b_val": num(mozart["baseline"]["best_val_bits_per_token"], 3),
        "b_steps": num(mozart["baseline"]["steps"], 0), "b_epochs": num(mozart["baseline"]["epochs"], 0),
        "c_test": num(mozart["cadenza"]["test_bits_per_token"], 3), "c_steps": num(mozart["cadenza"]["steps"], 0),
        "v1": num(side["dropout0_lr3e-3_at_step_8500"], 3), "v0": num(side["benchmark_recipe_at_end"], 3), "v2": num(side["dropout0_bptt100"], 3),
        "mk": num(src.model("mozart-kern")["test_bits_per_token"], 3), "mk_old": num(src("evaluate_mozart-kern-replaced")["likelihood"]["bits_per_token"], 3), "stateful": num(hist["mozart-kern-stateful"]["bits_per_token"], 3),
        "clara_params": num(piano["baseline"]["params"] / 1e6, 1), "clara_steps": num(piano["baseline"]["steps"], 0),
        "con_ratio": num(con["ratio"], 2), "con": num(con["value"], 2), "free": num(free["value"], 2),
        "step_us": num(prof["numpy_step_us_per_char"], 0), "chk_lo": num(prof["checker_us_per_char"][0], 0), "chk_hi": num(prof["checker_us_per_char"][1], 0),
        "first_lo": num(prof["first_constrained_run_ratio"][0], 1), "first_hi": num(prof["first_constrained_run_ratio"][1], 1),
        "whole": num(whole["value"], 2), "xml": num(prof["generate_parts_seconds"]["musicxml"], 2), "parse": num(prof["generate_parts_seconds"]["parse_krn"], 2),
        "sampling": num(prof["generate_parts_seconds"]["sampling"], 1), "midi": num(prof["generate_parts_seconds"]["kern_to_midi"], 2),
        "krn_mid": num(krn_mid["value"], 2),
        "naive": num(free["anchor"], 0), "fast": num(free["value"], 1),
    }


BENCH = Figures(bench, (
    "The full run of {date:word} (`benchmarks/results/bench-{date2:word}.json`, also `latest.json`;",
    "Python 3.11, torch 2.13.0 CPU; {minutes} minutes;",
    "**Quality on Mozart: {q_mozart}×, not 0.85×.**",
    "to {q_mozart2}×: carrying the state",
    "**Piano against Clara: {q_piano}×, met",
    "the 2015 recipe reached {b_test} bits/char on the whole test pieces (the issue measured 1.278; best validation {b_val}) in {b_steps} steps, {b_epochs} passes over the plain text",
    "validation read the same way): {c_test} in {c_steps} steps",
    "(validation {v1} nats at step 8,500, against {v0} at the end for the benchmark's recipe) and dropout 0 with 100-character BPTT ({v2}; side runs not kept",
    "reaches {mk}; the 3×128 it replaced, fine-tuned from the Beethoven model, reached {mk_old}, and the same fine-tuning with `--stateful` (now combinable with `--fim-rate`) {stateful} (a run not kept);",
    "Clara's AWD-LSTM ({clara_params} M parameters) managed {clara_steps} steps",
    "**Constrained sampling: {con_ratio}× free, not 1.5×** ({con} s against {free} s for 15,000 characters)",
    "the numpy LSTM step costs ~{step_us} µs a character; the kern checker's own Python work (computing its state, pushing the character, the cached mask lookup) adds ~{chk_lo}–{chk_hi} µs",
    "is ~{first_lo}–{first_hi}×",
    "**The whole `generate` with the default formats: {whole} s, not 2 s.** Of it (the same profile), music21 writes the MusicXML (~{xml} s) and parses the `.krn` for the summary's \"parses\" column (~{parse} s); sampling is ~{sampling} s and Cadenza's own kern-to-MIDI {midi} s. With `--formats krn,mid` the command takes {krn_mid} s",
    "15,000 kern characters went from ~{naive} s to ~{fast} s.",
))

# ---- benchmarks/results/arch_*.json (benchmarks/arch_compare.py), sample_speed.json

ARCH = {  # results file: (dataset as the table names it, unit, {row: model as the table names it})
    "arch_mozart-kern": ("Mozart kern, 2015 text", "chars", {"lstm": "LSTM 3×128, dropout 0.05 (the 2015 recipe)", "transformer": "transformer `tiny`, batch 16"}),
    "arch_piano-notewise": ("piano-midi.de notewise, 88 keys, 12 keys' transpositions", "words",
                            {"lstm": "LSTM 2×256, dropout 0.1, seq 100, batch 32", "transformer": "transformer `tiny`, batch 16"}),
}


def arch_table(src: Sources) -> str:
    rows = []
    for name, (label, unit, models) in ARCH.items():
        r = src(name)["rows"]
        a, b = r["lstm"], r["transformer"]
        bits = dict(zip(("lstm", "transformer"), bold_lower(a["test_bits_per_token"], b["test_bits_per_token"])))
        for i, (key, model) in enumerate(models.items()):
            x = r[key]
            rows.append([f"{label} ({x['test_pieces']}, {num(x['test_tokens'], 0)} {unit})" if i == 0 else "", model, num(x["params"], 0), num(x["steps"], 0),
                         bits[key], f"{num(x['val_whole_bits_per_token'], 3)} / {num(x['best_val_bits_per_token'], 3)}"])
    return table(["dataset (test pieces, tokens)", "model", "params", "steps in 10 min", "test bits/token, whole pieces",
                  "validation: whole pieces / training windows"], rows)


def arch(src: Sources) -> dict[str, str]:
    runs = []
    for rows in (src("latest")["rows"], src("sample_speed")["rows"]):
        lstm = next(r for r in rows if r["figure"].startswith("sampling: LSTM 2x256"))
        tr = next(r for r in rows if r["figure"].startswith("sampling: transformer tiny"))
        runs.append((lstm["value"], tr["value"], tr["ratio"]))
    runs.sort()
    ratios = sorted(r for _, _, r in runs)
    return {"steps": num(src("arch_piano-notewise")["rows"]["transformer"]["steps"], 0), "r_lo": num(ratios[0], 1), "r_hi": num(ratios[-1], 1),
            "l1": num(runs[0][0], 2), "l2": num(runs[1][0], 2), "t1": num(runs[0][1], 2), "t2": num(runs[1][1], 2)}


ARCH_FIGURES = Figures(arch, (
    "where it managed only {steps} steps",
    "the LSTM 2×256 now samples about {r_lo}–{r_hi}× faster than the transformer tiny with its KV cache ({l1} and {l2} s against {t1} and {t2} s in two runs",
))

# ---- benchmarks/results/gpu.json (historical: scripts/gpu_run.sh's log, not kept)


def gpu(src: Sources) -> dict[str, str]:
    g = src("gpu")
    tps = g["bf16_tokens_per_second"]
    return {"lstm": num(tps["lstm 3x128, batch 128 x 256"] / 1e6, 2), "tr": num(tps["transformer small, batch 64"] / 1e3, 0),
            "steps": str(g["compile_steps"]), "a": str(g["resume"]["stopped_at_step"]), "a2": str(g["resume"]["compared_at_steps"][0]),
            "b": str(g["resume"]["compared_at_steps"][1]), "l1": num(g["resume"]["validation_losses"][0], 5), "l2": num(g["resume"]["validation_losses"][1], 5),
            "minutes": str(g["runs_sharing_the_gpu_minutes"])}


GPU = Figures(gpu, (
    "(LSTM 3×128, batch 128 × 256: {lstm} M tokens/s; transformer `small`, batch 64: {tr} k tokens/s); `--compile` works (its first {steps} steps include the compilation)",
    "stopped at step {a} and resumed gives the same validation losses at steps {a2} and {b} as an uninterrupted run ({l1}, {l2})",
    "Several runs trained at once on that GPU in {minutes} minutes",
))

# ---- benchmarks/results/constrained.json (benchmarks/constrained.py)


def constrained_table(src: Sources) -> str:
    rows = []
    for r in src("constrained")["rows"]:
        on = r["constrained"]
        bars = f"{pct(r['bars_ok'], 1)}%"
        rows.append([num(r["temperature"], 1), "on" if on else "off", f"{pct(r['parsed'])}%", f"**{bars}**" if on else bars, f"{pct(r['kernpy_loads'])}%",
                     f"{pct(r['far_off_staff'], 2)}%", f"{num(r['forced_steps'], 0)} ({pct(r['forced_steps'] / r['chars'])}%)" if on else "–",
                     num(r["ms_per_char"], 2)])
    return table(["temperature", "checker", "parse in music21", "bars fill the metre", "loads in kernpy", "notes > 4 ledger lines off",
                  "forced steps (share of characters)", "ms / character"], rows)


def constrained(src: Sources) -> dict[str, str]:
    c = src("constrained")
    on = [r for r in c["rows"] if r["constrained"]]
    return {"corpus": pct(c["corpus"]["far_off_staff"], 2), "ratio": num(c["time_ratio"], 2), "lo": pct(on[0]["forced_steps"] / on[0]["chars"]), "t_lo": num(on[0]["temperature"], 1),
            "hi": pct(on[-1]["forced_steps"] / on[-1]["chars"]), "t_hi": num(on[-1]["temperature"], 1)}


CONSTRAINED = Figures(constrained, (
    "The checker costs {ratio}× per character in this run",
    "real Mozart has {corpus}% of its notes further off.",
    "from {lo}% of the characters at {t_lo} to {hi}% at {t_hi}.",
))

# ---- benchmarks/results/evaluate_*.json (benchmarks/evaluate_models.py): infill, evaluate, composer

INFILL = (  # (results file, model as the table names it)
    ("evaluate_mozart-kern", "`mozart-kern` (SPM, 25% of windows)"),
    ("evaluate_mozart-kern-replaced", "the `mozart-kern` (3×128) it replaced (SPM, 25%)"),
    ("evaluate_mozart-kern-psm", "the `mozart-kern` before that (PSM, 25%)"),
    ("evaluate_bach-notewise", "`bach-notewise` (SPM, 50%)"),
    ("evaluate_bach-notewise-replaced", "the `bach-notewise` it replaced (PSM, 50%)"),
    ("evaluate_beethoven-kern", "`beethoven-kern` (SPM, 25%)"),
    ("evaluate_beethoven-kern-replaced", "the `beethoven-kern` (3×128) it replaced (SPM, 25%)"),
    ("evaluate_beethoven-kern-psm", "the `beethoven-kern` before that (PSM, 25%)"),
    ("evaluate_piano-notewise", "`piano-notewise` (PSM, 50%)"),
)
PSM = ("evaluate_mozart-kern-psm", "evaluate_bach-notewise-replaced", "evaluate_beethoven-kern-psm", "evaluate_piano-notewise")


def infill_table(src: Sources) -> str:
    rows = []
    for name, label in INFILL:
        r = src(name)
        inf = r["infilling"]
        unit = "chars" if src.model(r["case"].removesuffix("-replaced").removesuffix("-psm"))["codec"] == "kern" else "words"
        rows.append([label, f"{inf['middles']} ({num(inf['tokens'], 0)} {unit})", *bold_lower(inf["fim_bits_per_token"], inf["left_bits_per_token"])])
    bach = src("historical")["bach-7-cpu-minutes"]
    for key, label in (("spm", "Bach, LSTM 2×192, 7 CPU minutes, SPM (50%; run not kept)"), ("psm", "the same recipe and minutes, PSM (50%; run not kept)")):
        h = bach[key]
        rows.append([label, f"{h['middles']} ({num(h['tokens'], 0)} words)", *bold_lower(h["fim_bits_per_token"], h["left_bits_per_token"])])
    return table(["model (layout it was trained with)", "middles (tokens)", "bars before and after (FIM)", "bars before only"], rows)


def infill(src: Sources) -> dict[str, str]:
    worse = sorted(src(n)["infilling"]["fim_over_left"] - 1 for n in PSM)
    spans = src("historical")["piano-spans-96-64-64"]
    mk, bk, bach = (src(f"evaluate_{m}")["infilling"] for m in ("mozart-kern", "beethoven-kern", "bach-notewise"))
    return {"lo": pct(worse[0]), "hi": pct(worse[-1]), "s1": num(spans["spm"][0], 3), "s2": num(spans["spm"][1], 3), "p1": num(spans["psm"][0], 3),
            "p2": num(spans["psm"][1], 3), "mk1": num(mk["fim_bits_per_token"], 3), "mk2": num(mk["left_bits_per_token"], 3),
            "bk1": num(bk["fim_bits_per_token"], 3), "bk2": num(bk["left_bits_per_token"], 3), "bach": pct(bach["fim_over_left"] - 1, 1)}


INFILL_FIGURES = Figures(infill, (
    "the bundled models predict the middle {lo}–{hi}% worse",
    "the same with 96/64/64-token spans (runs not kept): {s1} and {s2}, PSM {p1} and {p2}; the bundled kern models, now SPM, {mk1} and {mk2}, {bk1} and {bk2})",
    "`bach-notewise` still reads a middle {bach}% worse with the bars after than without",
))


def _ms(pair: list[float] | None, dp: int = 2) -> str:
    return "" if pair is None else f"{num(pair[0], dp)} ± {num(pair[1], dp)}"


def evaluate_table(src: Sources) -> str:
    mk, old, scratch = src("evaluate_mozart-kern"), src("evaluate_mozart-kern-replaced"), src("historical")["mozart-kern-from-scratch"]
    a = [mk["likelihood"]["bits_per_token"], scratch["bits_per_token"], old["likelihood"]["bits_per_token"]]
    best = min(a)
    bits = [f"**{num(x, 3)}**" if x == best else num(x, 3) for x in a]
    moa = [mk["mean_overlap_area"], scratch["mean_overlap_area"], old["mean_overlap_area"]]
    top = max(moa)
    rows = [
        ["bits per token, held-out test pieces read whole", *bits],
        ["bits per note", num(mk["likelihood"]["bits_per_note"], 2), num(scratch["bits_per_note"], 2), num(old["likelihood"]["bits_per_note"], 2)],
        ["samples that parse in music21", *(f"{pct(x)}%" for x in (mk["validity"]["parsed_share"], scratch["parsed_share"], old["validity"]["parsed_share"]))],
        ["bars that fill the declared metre (music21)", *(f"{pct(x)}%" for x in (mk["validity"]["bar_share"], scratch["bar_share"], old["validity"]["bar_share"]))],
        ["mean overlapped area (Yang & Lerch)", *(f"**{num(x, 3)}**" if x == top else num(x, 3) for x in moa)],
        ["samples copying more than the held-out baseline", *(str(x) for x in (mk["memorisation"]["flagged_samples"], scratch["flagged_samples"],
                                                                             old["memorisation"]["flagged_samples"]))],
    ]
    return table(["measure", "mozart-kern", "3×128 from scratch (run not kept)", "replaced model"], rows)


FEATURES = (("pitch_class_entropy", "pitch-class entropy (bits)", False), ("scale_consistency", "scale consistency", True),
            ("groove_consistency", "groove consistency", False), ("consonance", "consonant vertical intervals", True))


def features_table(src: Sources) -> str:
    mk, old, first = src("evaluate_mozart-kern"), src("evaluate_mozart-kern-replaced"), src("evaluate_mozart-kern-2015")
    scratch = src("historical")["mozart-kern-from-scratch"]
    rows = []
    for key, label, bold in FEATURES:
        f = mk["features"][key]
        ours = _ms(f["samples"])
        rows.append([label, f"**{ours}**" if bold else ours, _ms(scratch["features"][key]), _ms(old["features"][key]["samples"]),
                     _ms(first["features"][key]["samples"]), _ms(f["reference"]), num(f["overlap_area"], 2)])
    m = mk["memorisation"]
    rows.append(["longest stretch also in training (notes, max)", str(m["samples_max_longest_notes"]), str(scratch["samples_max_longest_notes"]),
                 str(old["memorisation"]["samples_max_longest_notes"]), str(first["memorisation"]["samples_max_longest_notes"]),
                 f"{num(m['baseline_limit_longest_notes'], 1)} ({m['baseline_percentile']}th percentile of held-out excerpts as long as the samples; whole pieces: "
                 f"{num(m['baseline_whole_limit_longest_notes'], 1)})", ""])
    return table(["feature", "mozart-kern", "3×128 from scratch (run not kept)", "replaced model", "2015 text (first model)", "held-out Mozart", "overlapped area"], rows)


def _interval(summary: dict[str, Any], side: str, name: str) -> str:
    share = 100 * summary["interval_classes"][side][summary["interval_classes"]["names"].index(name)]
    return num(share, 1 if share < 1 else 0)


def evaluate(src: Sources) -> dict[str, str]:
    mk, old, first, again = (src(f"evaluate_mozart-kern{s}") for s in ("", "-replaced", "-2015", "-seed100"))
    hist = src("historical")

    def f(s: dict[str, Any], key: str, side: str = "samples") -> str:
        return num(s["features"][key][side][0], 2)

    st = hist["mozart-kern-stateful"]
    return {
        "scale": f(mk, "scale_consistency"), "scale_2015": f(first, "scale_consistency"), "scale_ref": f(mk, "scale_consistency", "reference"),
        "cons": f(mk, "consonance"), "cons_scratch": num(hist["mozart-kern-from-scratch"]["features"]["consonance"][0], 2),
        "cons_old": f(old, "consonance"), "cons_2015": f(first, "consonance"), "cons_ref": f(mk, "consonance", "reference"),
        "cons_100": f(again, "consonance"), "scale_100": f(again, "scale_consistency"),
        "m2": _interval(mk, "samples", "m2"), "M2": _interval(mk, "samples", "M2"), "m2_ref": _interval(mk, "reference", "m2"), "M2_ref": _interval(mk, "reference", "M2"),
        "longest": str(mk["memorisation"]["samples_max_longest_notes"]), "limit": num(mk["memorisation"]["baseline_limit_longest_notes"], 1),
        "st_bits": num(st["bits_per_token"], 3), "st_c1": num(st["consonance"][0], 2), "st_c2": num(st["consonance"][1], 2),
        "st_s1": num(st["scale_consistency"][0], 2), "st_s2": num(st["scale_consistency"][1], 2),
        "st_o1": num(st["mean_overlap_area"][0], 2), "st_o2": num(st["mean_overlap_area"][1], 2),
    }


EVALUATE = Figures(evaluate, (
    "the model keeps closer to a scale than on the 2015 text ({scale} against {scale_2015}; Mozart {scale_ref})",
    "started from the model of every score, {cons} of its intervals are consonant, against {cons_scratch} for a 3×128 from scratch, {cons_old} for the model it replaced (started from Beethoven alone) and {cons_2015} on the 2015 text (Mozart {cons_ref})",
    "Another 20 samples (`--seed 100`) gave {cons_100} and {scale_100}.",
    "still too many seconds (minor {m2}%, major {M2}% of the intervals, against Mozart's {m2_ref}% and {M2_ref}%)",
    "its longest stretch found in training is {longest} notes, where 9 in 10 held-out Mozart excerpts of the same length share at most {limit}",
    "predicts Mozart better still ({st_bits} bits/token) and is as consonant ({st_c1} and {st_c2} over two seed sets), but its samples keep less to a scale ({st_s1}, {st_s2}) and overlap Mozart less ({st_o1}, {st_o2})",
))


def composer_table(src: Sources) -> str:
    c = src("evaluate_piano-notewise")["composer"]
    known = len(c["classifier"]["composers"])
    return table(["samples", "recognised as the composer asked for", "n"], [
        ["asked for a composer (`--composer X`)", f"{pct(c['conditioned_recognised'], 1)}%", str(c["conditioned_samples"])],
        ["unconditioned (each given a composer in turn)", f"{pct(c['unconditioned_recognised'], 1)}%", str(c["unconditioned_samples"])],
        [f"chance (1 of {known} composers the classifier knows)", f"{pct(c['chance'], 1)}%", ""],
    ])


def composer(src: Sources) -> dict[str, str]:
    c = src("evaluate_piano-notewise")["composer"]
    clf, rows = c["classifier"], c["per_composer"]
    per = clf["pieces_by_composer"].values()
    top, count = max(c["unconditioned_guessed"].items(), key=lambda kv: kv[1])
    best = max(rows, key=lambda k: rows[k]["recognised"])
    return {"known": str(len(clf["composers"])), "balanced": pct(clf["balanced_piece_accuracy"]), "all": pct(clf["piece_accuracy"]),
            "chance": pct(c["chance"]), "few": str(min(per)), "many": str(max(per)), "per": str(rows[best]["samples"]),
            "n_plain": str(c["unconditioned_samples"]), "top": str(count), "top_name": top, "best_name": best, "best_hit": str(rows[best]["recognised"]),
            "best_n": str(rows[best]["samples"]), "rest_hit": str(sum(r["recognised"] for k, r in rows.items() if k != best)),
            "rest_n": str(sum(r["samples"] for k, r in rows.items() if k != best))}


COMPOSER = Figures(composer, (
    "On piano-midi.de ({known} composers with at least 10 pieces) it recognises {balanced}% of held-out pieces (balanced over composers; {all}% of all) against {chance}% chance: a weak judge with {few}-{many} held-out pieces a composer.",
    "{per} samples asked for each composer the classifier knows, {n_plain} unconditioned",
    "the classifier calls {top} of {n_plain} unconditioned samples and most conditioned ones \"{top_name:word}\", so the samples asked for {best_name:word} are the ones recognised ({best_hit} of {best_n}; of all the others, {rest_hit} of {rest_n})",
))

# ---- benchmarks/results/poly.json (benchmarks/poly.py)


def poly_table(src: Sources) -> str:
    res = {r["dataset"]: r for r in src("poly")["results"]}
    jsb, nott = res["jsb"], res["nottingham"]
    rows = [[f"**Cadenza LSTM** ({jsb['config']['layers']}×{jsb['config']['hidden']}, {num(jsb['params'] / 1000, 0)}k params)",
             f"**{num(jsb['test_nll'], 2)}**", f"**{num(nott['test_nll'], 2)}**"]]
    for key, label in (("lstm_bai2018", "LSTM, Bai et al. 2018"), ("tcn_bai2018", "TCN, Bai et al. 2018"), ("rnn_nade_boulanger2012", "RNN-NADE, Boulanger-Lewandowski 2012")):
        rows.append([label, num(jsb["published"][key], 2), num(nott["published"][key], 2)])
    return table(["test NLL / frame (nats)", "JSB chorales", "Nottingham"], rows)


def poly(src: Sources) -> dict[str, str]:
    res = {r["dataset"]: r for r in src("poly")["results"]}
    return {"jsb": num(res["jsb"]["test_nll_from2"], 2), "nott": num(res["nottingham"]["test_nll_from2"], 2)}


POLY = Figures(poly, ("as Bai et al.'s evaluation code does, gives {jsb} and {nott}.",))

# ---- prose figures of single files


def jam(src: Sources) -> dict[str, str]:
    h, b = src("jam_latency"), src("jam_browser")
    return {"trials": str(h["trials"]), "p50": num(h["first_note_ms"]["p50"], 0), "p95": num(h["first_note_ms"]["p95"], 0),
            "s50": num(h["server_first_note_ms"]["p50"], 0), "s95": num(h["server_first_note_ms"]["p95"], 0), "load": num(h["load_average"][0], 1),
            "b50": num(b["p50_ms"], 0), "bmax": num(b["max_ms"], 0), "bn": str(b["replies"]),
            "gen": num(h["reply_generated_ms"]["p50"] / 1000, 2), "play": num(h["reply_seconds"]["p50"], 1),
            "b95": num(b["p95_ms"], 0), "hb50": num(h["with_generations"]["first_note_ms"]["p50"], 0), "hb95": num(h["with_generations"]["first_note_ms"]["p95"], 0),
            "bb50": num(b["with_generations"]["p50_ms"], 0), "bb95": num(b["with_generations"]["p95_ms"], 0), "bbn": str(b["with_generations"]["replies"]),
            "br95": num(b["with_generations"]["from_release_p95_ms"], 0), "pause": num(b["pause_s"], 1)}


JAM = Figures(jam, (
    "`python benchmarks/jam_latency.py`, {trials} replies; `benchmarks/results/jam_latency.json`): **p50 {p50} ms, p95 {p95} ms** over HTTP (of which the server p50 {s50} ms, p95 {s95} ms; load average {load} on the 2 cores",
    "p50 {b50} ms, p95 {b95} ms (at most {bmax} ms) over {bn} 1-bar replies",
    "With 6 generations running: over HTTP p50 {hb50} ms, p95 {hb95} ms; in Chromium p50 {bb50} ms, p95 {bb95} ms over {bbn} replies",
    "from the last key release (a {pause} s pause set) p95 {br95} ms",
    "A 2-bar reply takes {gen} s to generate (p50) and {play} s to play",
))


def jam_page(src: Sources) -> dict[str, str]:
    b = src("jam_browser")
    return {"load": num(b["load_average"][0], 1), "s95": num(b["server_p95_ms"], 0), "ss95": num(b["with_generations"]["server_p95_ms"], 0)}


JAM_PAGE = Figures(jam_page, (
    "`benchmarks/results/jam_browser.json`, load average {load})",
    "(server p95 {s95} ms idle, {ss95} ms with 6 generations)",
))


def page(src: Sources) -> dict[str, str]:
    p = src("page_speed")
    return {"bars": str(p["upload_bars"]), "p50": num(p["p50_s"], 2), "max": num(p["max_s"], 2), "n": str(p["repeats"])}


PAGE = Figures(page, ("continuing a {bars}-bar Mozart movement answers in {p50} s (p50, at most {max} s over {n}; `python benchmarks/page_speed.py`",))


def encode(src: Sources) -> dict[str, str]:
    e = src("encode_speed")
    return {"ms": num(e["symusic_ms_per_file_sample"], 0), "s": num(e["music21_ms_per_file_sample"] / 1000, 1), "x": num(e["speedup"], 0),
            "n": str(e["sample_files"]), "files": str(e["files"]), "all": num(e["symusic_seconds_all_files"], 1)}


ENCODE = Figures(encode, (
    "Reading and encoding a piano-midi.de file takes about {ms} ms against {s} s through music21: **{x}× faster** on the same {n} files",
    "all {files} files in {all} s with Cadenza's encoder",
))


def memory(src: Sources) -> dict[str, str]:
    rows = src("memory")["rows"]

    def peak(start: str) -> str:
        return num(next(r for r in rows if r["case"].startswith(start))["peak_mb"], 0)

    return {"kern": peak("prepare kern, 5784 files"), "all": peak("prepare kern, ../shared/corpora"), "chord": peak("prepare chordwise"),
            "wav": peak("render --to wav, liz_donjuan"), "wav_s": num(next(r for r in rows if "liz_donjuan" in r["case"])["seconds"], 0), "stray": peak("render --to wav, one note"), "bomb": peak("render --to svg, zip bomb")}


MEMORY = Figures(memory, (
    "renders to WAV in {wav_s} s, start-up included (`benchmarks/results/memory.json`)",
    "preparing a 60 MB kern corpus (5,784 files) peaks at {kern} MB; all of `../shared/corpora` with `--transpose all` at {all} MB; piano-midi.de chordwise (88 keys, 12 steps a quarter, built 4,096 steps at a time) at {chord} MB",
    "(the largest piano-midi.de file: {wav} MB; the 10-hour stray note is refused at {stray} MB); a 1 GB zip bomb is refused at {bomb} MB.",
))


def models(src: Sources) -> dict[str, str]:
    out = {}
    for name in ("mozart-kern", "beethoven-kern", "bach-notewise", "piano-notewise"):
        m, key = src.model(name), name.split("-")[0]
        out[f"{key}_bits"] = num(m["test_bits_per_token"], 3)
        out[f"{key}_was"] = num(src(f"evaluate_{name}-replaced")["likelihood"]["bits_per_token"], 3)
        out[f"{key}_params"] = num(m["params"] / 1e3, 0) if "kern" in name else num(m["params"] / 1e6, 1)  # k / M in the phrase
    out["mozart_best"] = num(src.model("mozart-kern")["best_step"], 0)
    out.update({f"{name.split('-')[0]}_min": num(src.model(name)["train_minutes"], 0) for name in ("mozart-kern", "beethoven-kern", "bach-notewise", "piano-notewise")})
    kb = src.model("kern-base")
    out.update(kb_bits=num(kb["test_bits_per_token"], 3), kb_min=num(kb["train_minutes"], 0), kb_params=num(kb["params"] / 1e6, 1))
    ks = src.model("kern-small")
    out.update(ks_bits=num(ks["test_bits_per_token"], 3), ks_min=num(ks["train_minutes"], 0), ks_params=num(ks["params"] / 1e3, 0))
    return out


MODELS = Figures(models, (
    "char LSTM 3×256 ({mozart_params}k params, 6.5 MB)",
    "char LSTM 3×256 ({beethoven_params}k, 6.5 MB)",
    "char LSTM 3×256 ({kb_params}M, 6.5 MB)",
    "LSTM 2×256 ({piano_params}M, 4.7 MB)",
    "LSTM 2×192 ({bach_params}M, 3.2 MB)",
    "| {mozart_min} min on one CPU thread (best at {mozart_best} steps of 50 × 256 chars), after `kern-base` | **{mozart_bits}** (was {mozart_was}) |",
    "| 6 min on an H200, then {bach_min} min on one CPU thread",
    "| {beethoven_min} min on one CPU thread, after `kern-base` | {beethoven_bits} (was {beethoven_was}) |",
    "| {piano_min} min on an H200 | {piano_bits} (was {piano_was}) |",
    "(to SPM infill) | {bach_bits} (was {bach_was}) |",
    "| {kb_min} min on one CPU thread (6,000 steps) | {kb_bits} (its own test split) |",
    "char LSTM 3×128 ({ks_params}k, 1.7 MB)",
    "| {ks_min} min on one CPU thread (6,000 steps, as `kern-base`) | {ks_bits} (its own test split) |",
))

# ---- benchmarks/results/contention.json (benchmarks/contention.py): training beside busy programs


def contention(src: Sources) -> dict[str, str]:
    c = src("contention")
    tps = c["tokens_per_second"]
    if c["busy_processes"] != 2 or not c["target"]["met"] or tps["default"]["kept"] < c["target"]["kept_at_least"] or tps["threads"]["kept"] >= c["target"]["kept_at_least"]:
        raise FigureError("contention.json no longer says what the README's sentence does (two busy processes; the target met by default, not with --threads 2)")
    out = {"target": pct(c["target"]["kept_at_least"])}
    for key, name in (("d", "default"), ("t", "threads"), ("b", "before")):
        out |= {f"{key}_idle": num(tps[name]["idle"]), f"{key}_busy": num(tps[name]["busy"]), f"{key}_kept": pct(tps[name]["kept"])}
    return out


CONTENTION = Figures(contention, (
    "{d_idle} tokens/s alone and {d_busy} beside two busy processes",
    "**{d_kept}% of its alone-speed, against the target of at least {target}%: met by default**",
    "it kept {t_kept}% ({t_idle} and {t_busy} tokens/s), short of the target",
    "waiting) kept {b_kept}% ({b_idle} and {b_busy}).",
))

def recipe_table(src: Sources) -> str:
    """Issue #20: the default `cadenza train` against the 2015 recipe, side by side from scratch
    (benchmarks/recipe_from_scratch.py)."""
    names = {"mozart": "Mozart, plain", "mozart12": "Mozart, 12 keys", "mozart-all": "Mozart, 12 keys"}
    rows = [[names.get(p["dataset"], p["dataset"]), num(p["minutes"]), f"{num(p['cadenza']['test_bits_per_token'], 3)} ({num(p['cadenza']['steps'], 0)})",
             f"{num(p['baseline']['test_bits_per_token'], 3)} ({num(p['baseline']['steps'], 0)})", num(p["ratio"], 3),
             f"{num(p['load_average']['start'][0], 1)} → {num(p['load_average']['end'][0], 1)}"]
            for p in sorted(src("recipe_from_scratch")["pairs"], key=lambda p: (p["minutes"], p["dataset"], p.get("date", ""))) if not p.get("flags")]
    return table(["text", "minutes", "`cadenza train`, defaults: bits/char (steps)", "2015 recipe: bits/char (steps)", "ratio", "load average"], rows)


TABLES = {"recipe": recipe_table, "bench": bench_table, "arch": arch_table, "constrained": constrained_table, "infill": infill_table, "evaluate": evaluate_table,
          "evaluate-features": features_table, "composer": composer_table, "poly": poly_table}
FIGURES = [MODELS, JAM, JAM_PAGE, PAGE, ARCH_FIGURES, GPU, CONSTRAINED, INFILL_FIGURES, EVALUATE, POLY, ENCODE, COMPOSER, BENCH, MEMORY, CONTENTION]
FIGURES += [KERN_BASE, STARTUP, JUDGE, ADAPT_SOUNDS, BEETHOVEN, SPEED]  # where kern-base stands, and start-up: scripts/readme_figures_kern_base.py
FIGURES += [CHORD_READER, CHORDS_HELDOUT]  # the chords section's figures and table: scripts/readme_figures_chords.py
TABLES.update(CHORD_TABLES)
TABLES.update(KERN_BASE_TABLES)  # issue #20's numbers
