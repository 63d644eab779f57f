#!/usr/bin/env bash
# Rebuild every bundled model with Cadenza's own prepare/train commands, then package each into
# src/cadenza/pretrained/<name>/ with its held-out bits/token measured on the dataset's test split.
#
#   make models            (or: bash scripts/make_models.sh)
#
# Needs ../shared for the Mozart and piano-midi corpora; the Bach model uses only music21's own
# corpus. Step counts are those of the shipped weights: training resumes exactly, so these
# commands give the same weights up to floating-point differences between thread counts.
# On 2 CPU cores expect about 45 + 30 + 40 minutes (one thread each); set STEPS_SCALE=0.1 for a quick smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
SHARED=${SHARED:-../shared}
SCALE=${STEPS_SCALE:-1}
steps() { python3 -c "import sys; print(max(1, int($1 * float(sys.argv[1]))))" "$SCALE"; }
mkdir -p data runs

pack() {  # run name trained_on licence command
  "$BIN/python" -c "import sys; from cadenza.evaluation.package import package; print(package(*sys.argv[1:6]))" "$@"
}

# 1. The 2015 experiment: char-level LSTM 3x128 on the kern of Mozart's piano sonatas.
#    The text keeps each piece's clefs, key and metre (cleaning version 2), so windows are 128
#    characters: a piano header is about 50.
$BIN/cadenza prepare "$SHARED/corpora/mozart-piano-sonatas" -o data/mozart --seed 0
$BIN/cadenza train data/mozart -o runs/mozart-lstm --rnn-size 128 --num-layers 3 --dropout 0.05 --seq-length 128 --eval-every 500 --max-steps "$(steps 6000)"
pack runs/mozart-lstm mozart-kern "Mozart piano sonatas, kern (KernScores, craigsapp/mozart-piano-sonatas: 69 movements, 53 trained on), with clefs, key and metre" \
  "CC BY-NC-SA 4.0 (the weights follow the data: non-commercial, share-alike)" \
  "cadenza train data/mozart --rnn-size 128 --num-layers 3 --dropout 0.05 --seq-length 128 --max-steps 6000"

# 2. Only music21's own corpus: Bach chorales (MusicXML read through music21), notewise, 12 keys.
$BIN/cadenza prepare music21:bach --codec notewise --steps-per-quarter 4 --transpose all -o data/bach-nw --seed 0
$BIN/cadenza train data/bach-nw -o runs/bach-notewise --rnn-size 192 --num-layers 2 --dropout 0.1 --seq-length 100 --batch-size 32 --eval-every 250 --max-steps "$(steps 3384)"
pack runs/bach-notewise bach-notewise "Bach chorales from music21's bundled corpus (412 files), notewise, 4 steps/quarter, 62 keys, 12 keys transposition" \
  "BSD-3-Clause (music21); the chorale encodings carry no further restriction" \
  "cadenza train data/bach-nw --rnn-size 192 --num-layers 2 --dropout 0.1 --seq-length 100 --batch-size 32 --max-steps 3384"

# 3. Clara's notewise encoding on classical piano MIDI (piano-midi.de).
#    All 88 keys a piano has, so real prompts are never folded.
$BIN/cadenza prepare "$SHARED/midi/piano-midi" --codec notewise --note-range 88 --transpose all -o data/piano-nw88 --seed 0
$BIN/cadenza train data/piano-nw88 -o runs/piano-notewise88 --rnn-size 256 --num-layers 2 --dropout 0.1 --seq-length 100 --batch-size 32 --eval-every 250 --max-steps "$(steps 6538)"
pack runs/piano-notewise88 piano-notewise "piano-midi.de classical piano (Bernd Krueger): 297 files, notewise, 12 steps/quarter, 88 keys, 12 keys transposition" \
  "CC BY-SA 3.0 DE (the weights follow the data: share-alike, credit Bernd Krueger)" \
  "cadenza train data/piano-nw88 --rnn-size 256 --num-layers 2 --dropout 0.1 --seq-length 100 --batch-size 32 --max-steps 6538"

# 4. The 2015 experiment's other composer: Beethoven's piano sonatas, the same kern recipe.
$BIN/cadenza prepare "$SHARED/corpora/beethoven-piano-sonatas" -o data/beethoven --seed 0
$BIN/cadenza train data/beethoven -o runs/beethoven-lstm --rnn-size 128 --num-layers 3 --dropout 0.05 --seq-length 128 --eval-every 500 --max-steps "$(steps 7064)"
pack runs/beethoven-lstm beethoven-kern "Beethoven piano sonatas, kern (craigsapp/beethoven-piano-sonatas: 102 movements), with clefs, key and metre" \
  "no licence stated by the source (research use): the weights follow the data" \
  "cadenza train data/beethoven --rnn-size 128 --num-layers 3 --dropout 0.05 --seq-length 128 --max-steps 7064"
