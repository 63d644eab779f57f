"""scripts/make_models.sh rebuilds the bundled models by steps (issue #24): every stage bounded by
the step count of the shipped weights, the warm-up explicit, stages chained in order. Read from the
script itself; its --check (minutes of CPU) is run by hand, not here."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_models.sh"
PRETRAINED = ROOT / "src" / "cadenza" / "pretrained"
FIRST_STAGES = {"bach-base": 12683}  # the MODEL.json steps of the model this was bundled as (git history)
FINE_TUNES_OF_KERN_BASE = {"beethoven-kern", "mozart-kern"}  # warm-up 100 (the others 500, as --max-steps 100000 made it)


def _commands(word: str) -> list[list[str]]:
    """The script's lines that start with ``word``, continuations joined, split as the shell would."""
    text = SCRIPT.read_text().replace("\\\n", " ")
    return [shlex.split(line) for line in text.splitlines() if line.startswith(word + " ")]


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def _steps(value: str) -> int:
    m = re.fullmatch(r"\$\(steps (\d+)\)", value)
    assert m, value
    return int(m.group(1))


def test_every_stage_is_bounded_by_the_steps_of_the_shipped_weights():
    stages = {args[1]: args[3:] for args in _commands("stage")}
    assert set(stages) == {"beethoven-kern", "mozart-kern", "bach-base", "bach-notewise", "piano-notewise"}
    packed = {args[2]: args[1].removeprefix("runs/") for args in _commands("pack")}
    assert set(packed) == {p.name for p in PRETRAINED.iterdir() if (p / "MODEL.json").exists()}
    want = dict(FIRST_STAGES, **{packed[name]: json.loads((PRETRAINED / name / "MODEL.json").read_text())["steps"] for name in packed})
    for run, args in stages.items():
        args = [a for a in args if a != "${PIANO_TRAIN[@]}"] + (_piano_train() if "${PIANO_TRAIN[@]}" in args else [])
        assert "--max-minutes" not in args, run
        assert _steps(_option(args, "--max-steps")) == want[run], run
        assert _steps(_option(args, "--warmup-steps")) == (100 if run in FINE_TUNES_OF_KERN_BASE else 500), run
        assert _option(args, "--schedule") == "cosine" and _option(args, "--fim-format") in ("spm", "psm"), run
    assert _option(_piano_train(), "--fim-format") == "psm"  # as piano-notewise was trained (the default is now spm)


def test_a_stage_started_from_another_starts_from_the_run_just_built():
    order = ["kern-base"] + [args[1] for args in _commands("stage")]  # runs/kern-base: scripts/kern_base.sh, called first
    text = SCRIPT.read_text()
    assert text.index("\nbash scripts/kern_base.sh\n") < text.index("\nstage ")
    for i, args in enumerate(_commands("stage")):
        source = _option(args, "--init-from")
        if source is not None:
            assert source.startswith("runs/") and source.removeprefix("runs/") in order[: i + 1], (args[1], source)
    assert {_option(args, "--init-from") for args in _commands("stage") if args[1] in FINE_TUNES_OF_KERN_BASE} == {"runs/kern-base"}


def test_kern_base_is_packed_and_its_script_trains_what_its_model_json_says():
    packed = {args[2]: args[1] for args in _commands("pack")}
    assert packed.get("kern-base") == "runs/kern-base"
    info = json.loads((PRETRAINED / "kern-base" / "MODEL.json").read_text())
    assert info["steps"] == 6000 and "non-commercial" in info["licence"]
    assert "--max-steps 6000" in (ROOT / "scripts" / "kern_base.sh").read_text()


def _piano_train() -> list[str]:
    line = next(line for line in SCRIPT.read_text().splitlines() if line.startswith("PIANO_TRAIN=("))
    return shlex.split(line.removeprefix("PIANO_TRAIN=(").removesuffix(")"))


def test_the_check_record_holds_losses_of_the_piano_stage():
    record = json.loads((SCRIPT.parent / "make_models.check.json").read_text())
    assert record["model"] == "piano-notewise" and "--threads 1" in record["command"] and "--device cpu" in record["command"]
    steps = [h["step"] for h in record["log"]]
    assert steps == list(range(5, steps[-1] + 1, 5)) and steps[-1] >= 20
    assert all(h["lr"] == 2e-3 * (h["step"]) / 500 for h in record["log"])  # still in the warm-up: the first steps of the full stage


def test_kern_small_is_packed_and_its_script_trains_what_make_models_records():
    packed = {args[2]: args[1] for args in _commands("pack")}
    assert packed.get("kern-small") == "runs/kern-small"
    recorded = next(line for line in SCRIPT.read_text().splitlines() if line.startswith("KERN_SMALL_TRAIN="))
    script = (ROOT / "scripts" / "kern_small.sh").read_text().replace("\\\n", " ")
    trains = next(line for line in script.splitlines() if line.startswith("exec "))
    assert shlex.split(trains)[2:] == shlex.split(recorded.split("=", 1)[1])[0].split()[1:]
