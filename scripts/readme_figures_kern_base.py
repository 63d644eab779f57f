"""The kern-base section's figures (issue #20) and the start-up row (issue #21), registered in scripts/readme_figure_list.py: where
the base model of every score stands on the bundled kern models' own held-out test pieces
(benchmarks/results/kern_base_progress.json, written by benchmarks/kern_base_progress.py), and the
table of issue #20's numbers, each from the results file its benchmark writes."""

from __future__ import annotations

from readme_figures import Figures, Sources, num, pct, table


def kern_base(src: Sources) -> dict[str, str]:
    p = src("kern_base_progress")
    rows = {r["dataset"]: r for r in p["rows"]}
    m, b = rows["mozart-all"], rows["beethoven-all"]
    return {"m": num(m["kern_base_bits"], 3), "b": num(b["kern_base_bits"], 3), "mb": num(m["bundled_bits"], 3), "bb": num(b["bundled_bits"], 3),
            "steps": num(p["steps"], 0), "max": num(p["max_steps"], 0)}


KERN_BASE = Figures(kern_base, (
    "(`kern-base` itself reads the Mozart test pieces at {m} bits/char and Beethoven's at {b})",
))


def startup(src: Sources) -> dict[str, str]:
    s = src("startup")
    gen = next(r for r in s["rows"] if "--formats krn,mid" in r["figure"])
    comp = next(r for r in s["rows"] if "compose" in r["figure"])
    default = next(r for r in s["rows"] if "(krn, mid, musicxml)" in r["figure"])
    met = {True: "met", False: "missed"}
    return {"n": str(s["repeat"]), "load": num(s["machine"]["load_average_before"][0], 1), "gen": num(gen["value"], 2), "gen_met": met[gen["met"]],
            "comp": num(comp["value"], 2), "comp_met": met[comp["met"]], "naive": num(gen["anchor"], 2), "default": num(default["value"], 2)}


STARTUP = Figures(startup, (
    "Last run ({n} run each, on an idle machine, load average {load}): `generate` {gen} s",
    "wall (target 2 s: {gen_met:word}), `compose` {comp} s (target 4 s: {comp_met:word}), the naive loop {naive} s; `generate`",
    "with its default formats (MusicXML through music21) {default} s.",
))


def _met(ok: bool, miss: str = "") -> str:
    return "met" if ok else f"**missed**{': ' + miss if miss else ''}"


def targets_table(src: Sources) -> str:
    """Issue #20's numbers: each target, what was measured, met or by how much it was missed."""
    p = {r["dataset"]: r for r in src("kern_base_progress")["rows"]}
    m, b = p["mozart-all"]["bundled_bits"], p["beethoven-all"]["bundled_bits"]
    mk, kb = src("evaluate_mozart-kern"), src("evaluate_kern-base")
    cons, cons_ref = mk["features"]["consonance"]["samples"][0], mk["features"]["consonance"]["reference"][0]
    moa, flagged = mk["mean_overlap_area"], mk["memorisation"]["flagged_samples"]
    ad, sm = src("adapt_kern-base_joplin"), src("adapt_kern-small_joplin")
    pairs = sorted(src("recipe_from_scratch")["pairs"], key=lambda q: q.get("date", ""))
    ratio = {}
    for q in pairs:
        if not q.get("flags"):
            ratio[(q["dataset"], q["minutes"])] = q["ratio"]
    c = kb["composer"]
    cond, plain, chance = c["conditioned_recognised"], c["unconditioned_recognised"], c["chance"]
    inf = [p[d]["infill"] for d in ("mozart-all", "beethoven-all")]
    gain = [1 - i["fim_bits_per_token"] / i["left_bits_per_token"] for i in inf]
    speed = {r["figure"].split("--model ")[1].split(" ")[0]: r for r in src("sample_speed")["rows"] if "--bars 16" in r["figure"]}
    worst_ratio = max(ratio.get(("mozart", 10.0), 9), ratio.get(("mozart12", 10.0), 9))
    rows = [
        ["Mozart test pieces, bits/char", "≤ 0.95", f"{num(m, 3)} (`mozart-kern`; was {num(src('evaluate_mozart-kern-replaced')['likelihood']['bits_per_token'], 3)})",
         _met(m <= 0.95, f"by {num(m - 0.95, 3)}")],
        ["Beethoven test pieces, bits/char", "≤ 1.05", f"{num(b, 3)} (`beethoven-kern`; was {num(src('evaluate_beethoven-kern-replaced')['likelihood']['bits_per_token'], 3)})",
         _met(b <= 1.05, f"by {num(b - 1.05, 3)}")],
        ["consonant vertical intervals (`mozart-kern`, 20 samples)", f"≥ 0.72 (Mozart {num(cons_ref, 2)})", num(cons, 3), _met(cons >= 0.72, f"by {num(0.72 - cons, 3)}")],
        ["mean overlapped area (`mozart-kern`)", "≥ 0.85", num(moa, 3), _met(moa >= 0.85, f"by {num(0.85 - moa, 3)}")],
        ["samples copying more than held-out Mozart shares", "none", str(flagged), _met(flagged == 0)],
        ["`adapt` 10 min against the 2015 recipe 10 min, Joplin (unseen)", "≥ 20% fewer bits",
         f"{pct(sm['gain_over_charrnn'], 1)}% from `kern-small`, the default ({num(sm['adapted_bits_per_char'], 3)} against {num(sm['charrnn_bits_per_char'], 3)}); "
         f"{pct(ad['gain_over_charrnn'], 1)}% from `kern-base` ({num(ad['adapted_bits_per_char'], 3)} against {num(ad['charrnn_bits_per_char'], 3)})",
         _met(sm["gain_over_charrnn"] >= 0.2, f"by {pct(0.2 - sm['gain_over_charrnn'], 1)} points")],
        ["from scratch, default against the 2015 recipe, 3 min (plain; 12 keys)", "ratio ≤ 1", f"{num(ratio.get(('mozart', 3.0)), 3)}; {num(ratio.get(('mozart12', 3.0)), 3)}",
         _met(max(ratio.get(("mozart", 3.0), 9), ratio.get(("mozart12", 3.0), 9)) <= 1)],
        ["the same at 10 min", "ratio ≤ 1", f"{num(ratio.get(('mozart', 10.0)), 3)}; {num(ratio.get(('mozart12', 10.0)), 3)}", _met(worst_ratio <= 1, f"by {pct(worst_ratio - 1, 1)}%")],
        ["`kern-base` samples asked for a composer, recognised as it", f"≥ 3× chance ({pct(3 * chance, 1)}%) and 2× unconditioned ({pct(2 * plain, 1)}%)",
         f"{pct(cond, 1)}% of {c['conditioned_samples']} (unconditioned {pct(plain, 1)}%, chance {pct(chance, 1)}%)",
         _met(cond >= 3 * chance and cond >= 2 * plain)],
        ["infill: middles read with the bars after, `kern-base` (Mozart; Beethoven)", "≥ 5% fewer bits", f"{pct(gain[0], 1)}%; {pct(gain[1], 1)}%",
         _met(min(gain) >= 0.05, "an LSTM forgets the suffix (it does not hurt, as the issue asks of an LSTM)")],
        ["a 16-bar piece, sampled and written (median of 9 seeds, one thread)", "< 1 s",
         "; ".join(f"`{k}` {num(r['value'], 2)} s" for k, r in speed.items()), _met(all(r["met"] for r in speed.values()))],
    ]
    return table(["issue #20 asks", "target", "measured", ""], rows)


KERN_BASE_TABLES = {"issue20": targets_table}


def styles_table(src: Sources) -> str:
    """Samples of kern-base asked for each label, against unconditioned samples and the real
    held-out pieces with that label (benchmarks/conditioning_styles.py)."""
    d = src("conditioning_styles")
    plain = d["unconditioned"]

    def pair(row: dict, key: str, dp: int) -> str:
        real = row["real"].get(key)
        return f"{num(row['sampled'][key], dp)} ({num(real, dp) if real is not None else '–'})"

    rows = [["nothing asked", num(plain["staves"], 1), num(plain["note_quarters"], 2), num(plain["onsets_per_quarter"], 2), num(plain["syncopation"], 3)]]
    for r in d["rows"]:
        if not r["sampled"]:
            continue
        rows.append([f"`--{r['kind']} {r['value']}`", pair(r, "staves", 1), pair(r, "note_quarters", 2), pair(r, "onsets_per_quarter", 2), pair(r, "syncopation", 3)])
    return table(["asked for", "staves", "mean note length (quarters)", "onsets per quarter", "syncopated onsets"], rows)


def judge(src: Sources) -> dict[str, str]:
    c = src("evaluate_kern-base")["composer"]
    clf = c["classifier"]
    top, count = max(c["unconditioned_guessed"].items(), key=lambda kv: kv[1])
    called = sum(r["guessed"].get("Beethoven", 0) for r in c["per_composer"].values())
    return {"known": str(len(clf["composers"])), "pieces": num(clf["pieces"], 0), "balanced": pct(clf["balanced_piece_accuracy"]), "all": pct(clf["piece_accuracy"]),
            "chance": pct(c["chance"], 1), "cond": pct(c["conditioned_recognised"], 1), "n": num(c["conditioned_samples"], 0),
            "plain": pct(c["unconditioned_recognised"], 1), "n_plain": str(c["unconditioned_samples"]), "beet": str(called)}


JUDGE = Figures(judge, (
    "On the every-score corpus's held-out pieces ({known} composers, {pieces} pieces) the judge recognises {balanced}% of pieces balanced over composers ({all}% of all)",
    "`kern-base`'s samples asked for a composer are recognised {cond}% of the time ({n} samples), unconditioned ones {plain}% ({n_plain}), chance {chance}%",
    "it calls {beet} of the conditioned samples Beethoven",
))
KERN_BASE_TABLES["styles"] = styles_table


def adapt_sounds(src: Sources) -> dict[str, str]:
    a, b = src("adapt_kern-small_joplin"), src("adapt_kern-base_joplin")
    s = a["sounds"]
    return {"steps": num(a["charrnn_steps"], 0), "base": num(a["base_bits_per_char"], 3), "tuned": num(a["adapted_bits_per_char"], 3),
            "old": num(a["charrnn_bits_per_char"], 3), "gain": pct(a["gain_over_charrnn"], 1), "kb": num(b["adapted_bits_per_char"], 3),
            "kb_base": num(b["base_bits_per_char"], 3), "kb_gain": pct(b["gain_over_charrnn"], 1),
            "s0": num(s["base"]["syncopation"], 3), "s1": num(s["adapted"]["syncopation"], 3), "s2": num(s["held_out"]["syncopation"], 3),
            "st0": num(s["base"]["staves"], 0), "st1": num(s["adapted"]["staves"], 0), "st2": num(s["held_out"]["staves"], 1),
            "o0": num(s["base"]["onsets_per_quarter"], 2), "o1": num(s["adapted"]["onsets_per_quarter"], 2), "o2": num(s["held_out"]["onsets_per_quarter"], 2),
            "l0": num(s["base"]["note_quarters"], 2), "l1": num(s["adapted"]["note_quarters"], 2), "l2": num(s["held_out"]["note_quarters"], 2)}


ADAPT_SOUNDS = Figures(adapt_sounds, (
    "the 2015 recipe's 3×128 takes {steps} steps of 50 windows of 50 characters",
    "`kern-small` reads the held-out rags at {base} bits/char before `adapt` and {tuned} after, against the 2015 recipe's {old} ({gain}% fewer bits; `kern-base`, from {kb_base}: {kb})",
    "from {st0} staves to {st1} (the rags: {st2}), notes {l0} quarters long to {l1} (the rags: {l2}), {o0} onsets a quarter to {o1} (the rags: {o2})",
    "their syncopation ({s1}; the rags' {s2}) does not",
    "after `adapt` its syncopated onsets are {s1}, the rags' {s2}",
))


def beethoven(src: Sources) -> dict[str, str]:
    new, old = src("evaluate_beethoven-kern"), src("evaluate_beethoven-kern-replaced")
    return {"oa": num(new["mean_overlap_area"], 3), "oa_old": num(old["mean_overlap_area"], 3), "c": num(new["features"]["consonance"]["samples"][0], 2),
            "c_old": num(old["features"]["consonance"]["samples"][0], 2), "c_ref": num(new["features"]["consonance"]["reference"][0], 2)}


BEETHOVEN = Figures(beethoven, (
    "overlapped area {oa} against {oa_old}, consonant intervals {c} against {c_old}, Beethoven's {c_ref}",
))


def speed(src: Sources) -> dict[str, str]:
    rows = src("sample_speed")["rows"]
    free = next(r for r in rows if r["figure"].startswith("sampling: mozart-kern, 15,000 characters, seconds"))
    bars = next(r for r in rows if r["figure"].startswith("generate --model mozart-kern --bars 16"))
    return {"free": num(free["value"], 2), "met": "met" if free["met"] else "missed", "bars": num(bars["value"], 2)}


SPEED = Figures(speed, (
    "15,000 characters take {free} s (`benchmarks/results/sample_speed.json`, target 1 s: {met:word}), while a 16-bar piece,",
    "what `compose` and the page ask for, takes {bars} s",
))
