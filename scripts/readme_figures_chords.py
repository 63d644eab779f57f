"""The chords section's figures (issue 22), registered in scripts/readme_figure_list.py: the chord
reader's speed and agreement (benchmarks/results/chord_reader.json, benchmarks/chord_reader.py)
and the chord-trained models' adherence and held-out bits (chords_<model>.json,
benchmarks/chord_models.py), and the bundled models guided by --chord-strength (the same script)."""

from __future__ import annotations

from readme_figures import Figures, Sources, num, pct, table

CHORD_MODELS = ("chords_mozart-kern-chords",)  # results files of the chords table, in its order


def chord_reader(src: Sources) -> dict[str, str]:
    c = src("chord_reader")
    a, s = c["agreement"], c["speed"]
    bach, fit, mont = a["bach"], a["bach (labels fit)"], a["monteverdi"]
    return {"bach_n": str(bach["pieces"]), "bach_spans": num(bach["spans"], 0), "root": num(bach["root_pct"], 0), "rq": num(bach["root_quality_pct"], 0),
            "fit_n": str(fit["pieces"]), "fit_root": num(fit["root_pct"], 0), "fit_rq": num(fit["root_quality_pct"], 0),
            "m_n": str(mont["pieces"]), "m_root": num(mont["root_pct"], 0), "m_rq": num(mont["root_quality_pct"], 0),
            "pieces": str(s["pieces"]), "bars": num(s["bars"], 0), "secs": num(s["per_bar_1"]["seconds"], 2), "rate": num(s["per_bar_1"]["spans_per_second"] / 1000, 0)}


CHORD_READER = Figures(chord_reader, (
    "Against the Roman-numeral analyses music21 ships beside {bach_n:word} Bach chorales ({bach_spans} numerals) it names the root of {root}% and root and quality of {rq}% ({fit_root}% and {fit_rq}% over the {fit_n} whose analysis fits the score's notes); Monteverdi's madrigals ({m_n} analysed) {m_root}% and {m_rq}%.",
    "It reads the {pieces} chorales' {bars} bars in {secs} s (~{rate}k bars a second; `benchmarks/results/chord_reader.json`).",
))


def chords_table(src: Sources) -> str:
    rows = []
    for name in CHORD_MODELS:
        r = src(name)
        for p in r["progressions"]:
            a, u = p["asked"], p["unconditioned"]
            valid = f"{a['parsed']}/{p['samples']}, {pct(a['metre_bars_ok'] / max(a['metre_bars'], 1))}%" if "parsed" in a else ""
            rows.append([f"`{r['name']}`", f"{', '.join(x.strip() for x in p['chords'].split('|'))} ({p['metre']}, {p['key']})", f"{pct(a['chord_rate'])}% ({pct(a['root_rate'])}%)",
                         f"{pct(u['chord_rate'])}% ({pct(u['root_rate'])}%)", str(a["bars"]), valid])
    return table(["model", "progression asked", "bars with the chord asked (root)", "same seeds, no chords (root)", "bars", "parse in music21, bars fill the metre"], rows)


def chords_heldout(src: Sources) -> dict[str, str]:
    h = src(CHORD_MODELS[0])["heldout"]
    rows = h["rows"]
    steps = src(CHORD_MODELS[0])["steps"]
    return {"pieces": str(h["pieces"]), "notes": num(h["notes"], 0), "with": num(rows["with chords"]["bits_per_note"], 3),
            "without": num(rows["without chords"]["bits_per_note"], 3), "base": num(rows["baseline, without chords"]["bits_per_note"], 3),
            "wrong": num(rows["with wrong chords"]["bits_per_note"], 3), "steps": num(steps, 0), "epochs": num(src(CHORD_MODELS[0])["epochs"], 1),
            "gain": pct(1 - rows["with chords"]["bits_per_note"] / rows["baseline, without chords"]["bits_per_note"], 1)}


CHORDS_HELDOUT = Figures(chords_heldout, (
    "on one CPU thread (stopped at step {steps}; not bundled)",
    "the {pieces} held-out test pieces ({notes} notes) cost it {with} bits a note with their own chord lines, against {base} for `mozart-kern` (no chords) on the same music",
    "told each chord a tritone away it pays {wrong}",
    "with the lines left out {without}",
    "So the chord line helps prediction a little ({gain}%)",
    "(this one saw {epochs} passes over the training text)",
))

GUIDED_MODELS = ("chords_mozart-kern", "chords_piano-notewise")  # bundled models guided (--chord-strength), in the table's order


def guidance_table(src: Sources) -> str:
    """Per bundled model and progression: the model alone (no chords), then each guidance strength."""
    rows = []
    for name in GUIDED_MODELS:
        r = src(name)
        for p in r["progressions"]:
            prog = f"{', '.join(x.strip() for x in p['chords'].split('|'))} ({p['metre']}, {p['key']})" if "parsed" in p["asked"] else ", ".join(x.strip() for x in p["chords"].split("|"))
            labels = sorted((k for k in p if k == "asked" or k.startswith("strength ")), key=lambda k: p[k]["strength"])
            for label in ["unconditioned", *labels]:
                a = p[label]
                valid = f"{a['parsed']}/{p['samples']}, {pct(a['metre_bars_ok'] / max(a['metre_bars'], 1))}%" if "parsed" in a else "(MIDI)"
                rows.append([f"`{r['name']}`", prog, num(a.get("strength", 0), 0) + (" (default)" if label == "asked" else ""),
                             f"{pct(a['chord_rate'])}% ({pct(a['root_rate'])}%)", f"{pct(a['consonance'])}%", num(a["notes_per_bar"], 1), valid])
    return table(["model", "progression asked", "--chord-strength", "bars with the chord asked (root)", "consonant vertical intervals", "notes a bar",
                  "parse in music21, bars fill the metre"], rows)


TABLES = {"chords": chords_table, "chord_guidance": guidance_table}
