#!/usr/bin/env bash
# Rebuild every bundled model with Cadenza's own prepare/train commands, then package each into
# src/cadenza/pretrained/<name>/ with its held-out bits/token measured on the dataset's test split.
#
#   make models            (or: bash scripts/make_models.sh)
#
# Needs ../shared for the Mozart and piano-midi corpora; the Bach model uses only music21's own
# corpus. Step counts are those of the shipped weights: training resumes exactly, so these
# commands give the same weights up to floating-point differences between thread counts.
# piano-notewise and the first stage of bach-notewise were trained on one NVIDIA H200 (scripts/gpu_run.sh,
# scripts/gpu_run2.sh: several runs sharing the GPU, --max-minutes); with DEVICE=cpu the same commands
# run on a CPU, for many times longer (set MINUTES_SCALE). The other stages trained on one CPU thread each.
# Set STEPS_SCALE=0.1 / MINUTES_SCALE=0.1 for a quick smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
SHARED=${SHARED:-../shared}
SCALE=${STEPS_SCALE:-1}
DEVICE=${DEVICE:-auto}
MSCALE=${MINUTES_SCALE:-1}
minutes() { python3 -c "import sys; print(float($1) * float(sys.argv[1]))" "$MSCALE"; }
steps() { python3 -c "import sys; print(max(1, int($1 * float(sys.argv[1]))))" "$SCALE"; }
mkdir -p data runs

pack() {  # run name trained_on licence command [hardware]
  "$BIN/python" -c "import sys; from cadenza.evaluation.package import package; print(package(*sys.argv[1:6], hardware=(sys.argv[6:] or ['one CPU thread'])[0]))" "$@"
}
GPU="${HARDWARE:-one NVIDIA H200 GPU (runs sharing it)}"

# 1. The 2015 experiment's other composer: Beethoven's piano sonatas, in all 12 keys, with fill in
#    the middle on a quarter of the windows (PSM), 35 minutes of one CPU thread: runs/beethoven-base,
#    where the Mozart model starts (2.); then 40 minutes more with SPM infilling: the shipped model.
$BIN/cadenza prepare "$SHARED/corpora/beethoven-piano-sonatas" --transpose all -o data/beethoven-all --seed 0
$BIN/cadenza train data/beethoven-all -o runs/beethoven-base --rnn-size 128 --num-layers 3 --dropout 0.2 --seq-length 256 --fim-rate 0.25 --fim-format psm \
  --schedule cosine --max-minutes "$(minutes 35)" --max-steps 100000 --eval-every 250 --threads 1
$BIN/cadenza train data/beethoven-all -o runs/beethoven-kern --init-from runs/beethoven-base --seq-length 256 --batch-size 50 --learning-rate 1e-3 --fim-rate 0.25 \
  --schedule cosine --max-minutes "$(minutes 40)" --max-steps 100000 --eval-every 250 --threads 1
pack runs/beethoven-kern beethoven-kern "Beethoven piano sonatas, kern (craigsapp/beethoven-piano-sonatas: 102 movements, in all 12 keys), with clefs, key and metre" \
  "no licence stated by the source (research use): the weights follow the data" \
  "cadenza train data/beethoven-all --init-from runs/beethoven-base --seq-length 256 --batch-size 50 --learning-rate 1e-3 --fim-rate 0.25 --schedule cosine --max-minutes 40 --eval-every 250 --threads 1 (runs/beethoven-base: the first 35 minutes, see scripts/make_models.sh)" \
  "one CPU thread (40 min, after 35 min of the first stage)"

# 2. The 2015 experiment: char-level LSTM 3x128 on the kern of Mozart's piano sonatas, in all 12
#    keys (the test pieces are untransposed), with fill in the middle on a quarter of the windows,
#    fine-tuned from the first Beethoven stage (1.): 53 movements overfit a model trained from
#    scratch within a few epochs. The text keeps each piece's clefs, key and metre (cleaning version 2).
$BIN/cadenza prepare "$SHARED/corpora/mozart-piano-sonatas" --transpose all -o data/mozart-all --seed 0
$BIN/cadenza train data/mozart-all -o runs/mozart-kern --init-from runs/beethoven-base --seq-length 256 --batch-size 50 --learning-rate 1e-3 --fim-rate 0.25 \
  --schedule cosine --max-minutes "$(minutes 45)" --max-steps 100000 --eval-every 100 --threads 1
pack runs/mozart-kern mozart-kern "Mozart piano sonatas, kern (KernScores, craigsapp/mozart-piano-sonatas: 69 movements, 53 trained on, in all 12 keys), with clefs, key and metre; fine-tuned from the first 35-minute stage of beethoven-kern (Beethoven piano sonatas, 102 movements, 12 keys)" \
  "CC BY-NC-SA 4.0 for the Mozart data (non-commercial, share-alike); the Beethoven encodings it started from state no licence (research use): the weights follow both" \
  "cadenza train data/mozart-all --init-from runs/beethoven-base --seq-length 256 --batch-size 50 --learning-rate 1e-3 --fim-rate 0.25 --schedule cosine --max-minutes 45 --eval-every 100 --threads 1" \
  "one CPU thread (after beethoven-kern: 35 min on one CPU thread)"

# 3. Only music21's own corpus: Bach chorales (MusicXML read through music21), notewise, 12 keys:
#    6 minutes on a GPU with PSM infilling (runs/bach-base), then 40 CPU minutes with SPM.
$BIN/cadenza prepare music21:bach --codec notewise --steps-per-quarter 4 --transpose all -o data/bach-nw --seed 0
$BIN/cadenza train data/bach-nw -o runs/bach-base --rnn-size 192 --num-layers 2 --dropout 0.1 --seq-length 200 --batch-size 128 --fim-rate 0.5 --fim-format psm \
  --schedule cosine --max-minutes "$(minutes 6)" --max-steps 10000000 --eval-every 250 --device "$DEVICE"
$BIN/cadenza train data/bach-nw -o runs/bach-notewise --init-from runs/bach-base --seq-length 200 --batch-size 64 --learning-rate 5e-4 --fim-rate 0.5 \
  --schedule cosine --max-minutes "$(minutes 40)" --max-steps 100000 --eval-every 250 --threads 1
pack runs/bach-notewise bach-notewise "Bach chorales from music21's bundled corpus (412 files), notewise, 4 steps/quarter, 62 keys, 12 keys transposition" \
  "BSD-3-Clause (music21); the chorale encodings carry no further restriction" \
  "cadenza train data/bach-nw --init-from runs/bach-base --seq-length 200 --batch-size 64 --learning-rate 5e-4 --fim-rate 0.5 --schedule cosine --max-minutes 40 --eval-every 250 --threads 1 (runs/bach-base: 6 min on an H200, see scripts/make_models.sh)" \
  "one CPU thread (40 min, after 6 min on one NVIDIA H200 GPU)"

# 4. Clara's notewise encoding on classical piano MIDI (piano-midi.de), all 88 keys, each piece
#    opening with its composer (the 13 with at least 10 pieces), fill in the middle on half the windows.
$BIN/cadenza prepare "$SHARED/midi/piano-midi" --codec notewise --note-range 88 --transpose all --condition composer --label-min-pieces 10 -o data/piano-cond --seed 0
$BIN/cadenza train data/piano-cond -o runs/piano-notewise --rnn-size 256 --num-layers 2 --dropout 0.1 --seq-length 256 --batch-size 128 --fim-rate 0.5 --fim-format psm \
  --schedule cosine --max-minutes "$(minutes 6)" --max-steps 10000000 --eval-every 250 --device "$DEVICE"
pack runs/piano-notewise piano-notewise "piano-midi.de classical piano (Bernd Krueger): 297 files, notewise, 12 steps/quarter, 88 keys, 12 keys transposition; each piece opens with its composer (13 composers with at least 10 pieces; --composer)" \
  "CC BY-SA 3.0 DE (the weights follow the data: share-alike, credit Bernd Krueger)" \
  "cadenza train data/piano-cond --rnn-size 256 --num-layers 2 --dropout 0.1 --seq-length 256 --batch-size 128 --fim-rate 0.5 --schedule cosine --max-minutes 6 --device cuda" "$GPU"

