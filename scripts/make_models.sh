#!/usr/bin/env bash
# Rebuild every bundled model with Cadenza's own prepare/train commands, then package each into
# src/cadenza/pretrained/<name>/ with its held-out bits/token measured on the dataset's test split.
# The base model of every score (issue #20) has its own script, scripts/kern_base.sh, called first.
#
#   make models                           (or: bash scripts/make_models.sh)
#   bash scripts/make_models.sh --check   the first steps of one stage against a recorded log (~5 min, below)
#
# What it rebuilds. Every stage is bounded by steps: the step counts of the shipped weights (each
# model's MODEL.json `steps`; a first stage's count is the MODEL.json of the model it was bundled as
# before its second stage: bach-notewise 12,683). The cosine runs over
# those steps, and the warm-up the shipped runs had (500 steps: --max-steps 100000 made it so; 100
# for the fine-tunes of kern-base) is given explicitly. Batches, dropout masks and fill-in-the-middle windows are seeded by the step, so
# a stage gives the same weights each time on the same hardware and thread count, and a stage that
# is interrupted resumes exactly (run the script again). The stages run in order; a stage started
# from another (--init-from runs/...) starts from the run this script has just built, never from a
# bundled model. MODEL.json gets
# the commands as this script ran them. A run folder left by an earlier, different build is refused
# (its training options differ): move it aside first.
#
# What it cannot rebuild: the shipped weights bit for bit. They were trained with --max-minutes and
# a cosine over wall-clock time, so their learning rate followed that day's speed of the machine;
# these step-bounded stages follow the same recipe for the same number of steps, not the same
# bits. piano-notewise and bach-base trained on one H200 (bf16 autocast, cuDNN; scripts/gpu_run.sh):
# a GPU run repeats only up to cuDNN's rounding, and with DEVICE=cpu the same commands take many
# times longer and round differently again. CPU stages run on one thread (--threads 1); another CPU
# model or thread count may change the last digits.
#
# --check retrains the first CHECK_STEPS (50) steps of piano-notewise's stage (the cheapest last
# stage: the only one that starts from no other; every other needs kern-base or a first stage on a GPU) with its dataset prepared into a temporary folder, on the CPU with one thread, and
# compares the losses logged every 5 steps with scripts/make_models.check.json to 4 decimals. The
# warm-up is explicit, so the first steps' learning rates are those of the full stage (and of the
# record's 100 steps); evaluations do not touch training. Nothing is written under data/ or runs/.
# What it shows: the pipeline (prepare, batches, fill-in-the-middle, model, optimiser) repeats on
# a CPU; PSM instead of SPM moves the losses at step 50 by 1e-3, 30 times the tolerance (at step
# 20, where the model is still near uniform, by only 1e-4; at 100 by 1e-2). What it cannot: the
# GPU's numbers, or the shipped weights. `--check --record` writes the record again (CHECK_STEPS
# steps); it was made with CHECK_STEPS=100 on the CPU of the machine that wrote it.
#
# Needs ../shared for the Beethoven, Mozart and piano-midi corpora; the Bach model uses only
# music21's own corpus. Set STEPS_SCALE=0.1 for a quick smoke run (steps and warm-ups scaled).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
SHARED=${SHARED:-../shared}
SCALE=${STEPS_SCALE:-1}
DEVICE=${DEVICE:-auto}
GPU="${HARDWARE:-one NVIDIA H200 GPU (runs sharing it)}"
steps() { python3 -c "import sys; print(max(1, int($1 * float(sys.argv[1]))))" "$SCALE"; }

# piano-notewise's only stage, shared by the build and --check. The stages that start from nothing
# pin what they were trained with (random windows, rate 2e-3): a from-scratch LSTM's defaults are now
# char-rnn's streams at 3e-3 (issue #20).
PIANO_PREPARE=("$SHARED/midi/piano-midi" --codec notewise --note-range 88 --transpose all --condition composer --label-min-pieces 10 --seed 0)
PIANO_TRAIN=(--rnn-size 256 --num-layers 2 --dropout 0.1 --seq-length 256 --batch-size 128 --learning-rate 2e-3 --random-windows --fim-rate 0.5 --fim-format psm --schedule cosine)

# What kern-base read and the terms it inherits (the fine-tunes of it inherit them too)
KERN_BASE_DATA="the every-score corpus (docs/corpus-every-score.md): every score of ../shared/corpora but Joplin (Mozart and Beethoven piano sonatas, Bach chorales and WTC, Chopin preludes, Haydn and Mozart quartets), music21's corpus (Palestrina, Bach, Monteverdi, Josquin, the Trecento, Essen, O'Neill and Ryan's Mammoth tune books) and ../shared/midi (piano-midi.de, Nottingham, chamber scores) written as kern; 16,224 pieces, 25.2M characters, each in its own staves with composer, style and instrument labels; the Mozart and Beethoven test pieces held out"
KERN_BASE_LICENCE="non-commercial research use: CC BY-NC-SA 4.0 (Mozart piano sonatas, Bach chorales: non-commercial, share-alike), CC BY-SA 3.0 DE (piano-midi.de, credit Bernd Krueger), GPL-3.0 (the Nottingham database), BSD-3-Clause (music21's corpus as music21 ships it); the Beethoven sonatas, WTC, Chopin preludes, Haydn and Mozart quartets and chamber scores state no licence (research use). The weights follow all of them: the strictest, non-commercial, applies"
KERN_SMALL_TRAIN="cadenza train data/every-score -o runs/kern-small --rnn-size 128 --num-layers 3 --dropout 0.1 --seq-length 256 --batch-size 50 --learning-rate 3e-3 --random-windows --fim-rate 0.25 --schedule cosine --max-steps 6000 --eval-every 250 --threads 1 --seed 0"
KERN_BASE_TRAIN="cadenza train data/every-score -o runs/kern-base --rnn-size 256 --num-layers 3 --dropout 0.1 --seq-length 256 --batch-size 50 --learning-rate 2e-3 --random-windows --fim-rate 0.25 --schedule cosine --max-steps 6000 --eval-every 250 --threads 1 --seed 0"
FINE_TUNE_LICENCE="non-commercial research use, as kern-base it started from (CC BY-NC-SA 4.0 among its sources) and, for Mozart, its own data (CC BY-NC-SA 4.0)"

if [[ "${1:-}" == "--check" ]]; then
  N=${CHECK_STEPS:-50}
  RECORD=scripts/make_models.check.json
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/cadenza-check-XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  ARGS=("${PIANO_TRAIN[@]}" --warmup-steps 500 --max-steps "$N" --eval-every 5 --device cpu --threads 1)
  "$BIN/cadenza" prepare "${PIANO_PREPARE[@]}" -o "$TMP/piano-cond" > /dev/null
  "$BIN/cadenza" train "$TMP/piano-cond" -o "$TMP/run" "${ARGS[@]}" > /dev/null
  "$BIN/python" - "$TMP/run/log.jsonl" "$RECORD" "${2:-}" "$N" \
    "cadenza prepare ${PIANO_PREPARE[*]} -o data/piano-cond; cadenza train data/piano-cond -o runs/check ${ARGS[*]}" <<'EOF'
import json, sys
log_path, record_path, mode, n, command = sys.argv[1:6]
now = [{k: h[k] for k in ("step", "lr", "train_loss", "val_loss")} for h in map(json.loads, open(log_path))]
if mode == "--record":
    with open(record_path, "w") as f:
        json.dump({"model": "piano-notewise", "stage": f"its only stage, the first {n} steps", "device": "cpu, one thread", "command": command, "log": now}, f, indent=1)
        f.write("\n")
    print(f"recorded {len(now)} evaluations in {record_path}")
    sys.exit(0)
recorded = json.load(open(record_path))["log"]
if int(n) > recorded[-1]["step"]:
    sys.exit(f"{record_path} records {recorded[-1]['step']} steps, fewer than CHECK_STEPS={n}")
want = [r for r in recorded if r["step"] <= int(n)]  # the warm-up is explicit: the first steps are the same in a longer run
print(f"{'step':>5} {'loss':>6} {'recorded':>10} {'now':>10}")
bad = 0
for r, h in zip(want, now):
    for key in ("train_loss", "val_loss"):
        same = r["step"] == h["step"] and abs(r[key] - h[key]) <= 5e-5
        bad += not same
        print(f"{h['step']:>5} {key.split('_')[0]:>6} {r[key]:>10.4f} {h[key]:>10.4f}{'' if same else '  <- differs'}")
if len(want) != len(now) or bad:
    sys.exit(f"check FAILED: {bad} of {2 * len(want)} losses differ at 4 decimals ({len(now)} evaluations now, {len(want)} recorded)")
print(f"check passed: the first {n} steps of piano-notewise's stage give the recorded losses to 4 decimals")
EOF
  exit 0
fi

stage() {  # stage RUN DATASET ARGS...: train data/DATASET into runs/RUN; $RAN_<run> keeps the command for MODEL.json
  local run=$1 data=$2
  shift 2
  printf -v "RAN_${run//-/_}" '%s' "cadenza train data/$data -o runs/$run $*"
  "$BIN/cadenza" train "data/$data" -o "runs/$run" "$@"
}
pack() {  # run name trained_on licence command hardware
  "$BIN/python" -c "import sys; from cadenza.bundle import package; print(package(*sys.argv[1:6], hardware=sys.argv[6]))" "$@"
}
mkdir -p data runs

# 0. The base model of every score (issue #20): scripts/kern_base.sh prepares data/every-score and
#    trains runs/kern-base, 6,000 steps on one CPU thread over two sessions (hours); with the finished
#    run committed in training-state/kern-base it restores that run instead (delete the folder to
#    train it again). The Mozart and Beethoven models are fine-tunes of it (1., 2.).
bash scripts/kern_base.sh
pack runs/kern-base kern-base "$KERN_BASE_DATA" "$KERN_BASE_LICENCE" "bash scripts/kern_base.sh (cadenza prepare ... -o data/every-score; $KERN_BASE_TRAIN)" "one CPU thread"
# 0b. The same corpus and recipe in a 3x128 LSTM, the base `cadenza adapt` starts from: it reads four times
#     the user's text in the same minutes (scripts/kern_small.sh, ~1 hour on one CPU thread; the corpus as
#     prepared since kern cleaning writes chords low to high).
bash scripts/kern_small.sh
pack runs/kern-small kern-small "$KERN_BASE_DATA; chords written low to high" "$KERN_BASE_LICENCE" "bash scripts/kern_small.sh (cadenza prepare ... -o data/every-score; $KERN_SMALL_TRAIN)" "one CPU thread"

# 1. The 2015 experiment's other composer: Beethoven's piano sonatas, in all 12 keys, fill in the
#    middle on a quarter of the windows (SPM), fine-tuned from kern-base (0.): the shipped run trained
#    for 60 wall-clock minutes (a cosine over them) on one CPU thread beside other jobs.
$BIN/cadenza prepare "$SHARED/corpora/beethoven-piano-sonatas" --transpose all -o data/beethoven-all --seed 0
stage beethoven-kern beethoven-all --init-from runs/kern-base --dropout 0.2 --seq-length 256 --batch-size 50 --learning-rate 1e-3 --fim-rate 0.25 --fim-format spm \
  --random-windows --schedule cosine --warmup-steps "$(steps 100)" --max-steps "$(steps 1250)" --eval-every 100 --threads 1 --seed 0
pack runs/beethoven-kern beethoven-kern "Beethoven piano sonatas, kern (craigsapp/beethoven-piano-sonatas: 102 movements, in all 12 keys), with clefs, key and metre; fine-tuned from kern-base (the every-score corpus)" \
  "$FINE_TUNE_LICENCE" "$RAN_beethoven_kern (from kern-base: 0.)" "one CPU thread (after kern-base's 6,000 steps on one CPU thread)"

# 2. The 2015 experiment: the kern of Mozart's piano sonatas, in all 12 keys (the test pieces are
#    untransposed), fill in the middle on a quarter of the windows, fine-tuned from kern-base (0.):
#    53 movements overfit a model trained from scratch within a few epochs. The text keeps each
#    piece's clefs, key and metre (cleaning version 2). The shipped run: a cosine over 65 wall-clock
#    minutes on one CPU thread, interrupted at step 600, resumed exactly and stopped by hand at 1,400
#    (validation had risen since step 600, the shipped checkpoint).
$BIN/cadenza prepare "$SHARED/corpora/mozart-piano-sonatas" --transpose all -o data/mozart-all --seed 0
stage mozart-kern mozart-all --init-from runs/kern-base --dropout 0.2 --seq-length 256 --batch-size 50 --learning-rate 1e-3 --fim-rate 0.25 --fim-format spm \
  --random-windows --schedule cosine --warmup-steps "$(steps 100)" --max-steps "$(steps 1400)" --eval-every 100 --threads 1 --seed 0
pack runs/mozart-kern mozart-kern "Mozart piano sonatas, kern (KernScores, craigsapp/mozart-piano-sonatas: 69 movements, 53 trained on, in all 12 keys), with clefs, key and metre; fine-tuned from kern-base (the every-score corpus)" \
  "$FINE_TUNE_LICENCE" "$RAN_mozart_kern (from kern-base: 0.)" "one CPU thread (after kern-base's 6,000 steps on one CPU thread)"

# 3. Only music21's own corpus: Bach chorales (MusicXML read through music21), notewise, 12 keys:
#    12,683 steps on a GPU with PSM infilling (runs/bach-base), then 3,509 CPU steps with SPM.
$BIN/cadenza prepare music21:bach --codec notewise --steps-per-quarter 4 --transpose all -o data/bach-nw --seed 0
stage bach-base bach-nw --rnn-size 192 --num-layers 2 --dropout 0.1 --seq-length 200 --batch-size 128 --learning-rate 2e-3 --random-windows --fim-rate 0.5 --fim-format psm \
  --schedule cosine --warmup-steps "$(steps 500)" --max-steps "$(steps 12683)" --eval-every 250 --device "$DEVICE" --threads 2
stage bach-notewise bach-nw --init-from runs/bach-base --seq-length 200 --batch-size 64 --learning-rate 5e-4 --fim-rate 0.5 --fim-format spm \
  --schedule cosine --warmup-steps "$(steps 500)" --max-steps "$(steps 3509)" --eval-every 250 --threads 1
pack runs/bach-notewise bach-notewise "Bach chorales from music21's bundled corpus (412 files), notewise, 4 steps/quarter, 62 keys, 12 keys transposition" \
  "BSD-3-Clause (music21); the chorale encodings carry no further restriction" \
  "$RAN_bach_base; $RAN_bach_notewise" "one CPU thread (after the first stage on $GPU)"

# 4. Clara's notewise encoding on classical piano MIDI (piano-midi.de), all 88 keys, each piece
#    opening with its composer (the 13 with at least 10 pieces), fill in the middle on half the
#    windows (PSM, as it was trained: the default is now SPM), 8,421 steps on a GPU.
$BIN/cadenza prepare "${PIANO_PREPARE[@]}" -o data/piano-cond
stage piano-notewise piano-cond "${PIANO_TRAIN[@]}" --warmup-steps "$(steps 500)" --max-steps "$(steps 8421)" --eval-every 250 --device "$DEVICE" --threads 2
pack runs/piano-notewise piano-notewise "piano-midi.de classical piano (Bernd Krueger): 297 files, notewise, 12 steps/quarter, 88 keys, 12 keys transposition; each piece opens with its composer (13 composers with at least 10 pieces; --composer)" \
  "CC BY-SA 3.0 DE (the weights follow the data: share-alike, credit Bernd Krueger)" \
  "cadenza prepare ${PIANO_PREPARE[*]} -o data/piano-cond; $RAN_piano_notewise" "$GPU"
