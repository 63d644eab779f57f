#!/usr/bin/env bash
# Rebuild every bundled model with Cadenza's own prepare/train commands, then package each into
# src/cadenza/pretrained/<name>/ with its measured held-out bits/token. Needs ../shared (corpora)
# for the Mozart and piano models; the Palestrina model uses only music21's own corpus.
# Each training is time-boxed (--max-minutes) for a 2-core CPU; resume or raise it for better models.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
SHARED=${SHARED:-../shared}
MIN=${MIN:-40}
mkdir -p data runs

pack() {  # run name trained_on licence
  "$BIN/python" -c "import sys; from cadenza.pretrained import package; print(package(*sys.argv[1:6]))" "$@"
}

# 1. The 2015 experiment: char-level LSTM 3x128 on the kern of Mozart's piano sonatas.
$BIN/cadenza prepare "$SHARED/corpora/mozart-piano-sonatas" -o data/mozart --seed 0
$BIN/cadenza train data/mozart -o runs/mozart-lstm --rnn-size 128 --num-layers 3 --dropout 0.05 --max-epochs 40 --eval-every 250 --max-minutes "$MIN"
pack runs/mozart-lstm mozart-kern "Mozart piano sonatas, kern (KernScores / craigsapp/mozart-piano-sonatas, 69 movements)" \
  "CC BY-NC-SA 4.0 (the weights follow the data: non-commercial, share-alike)" "cadenza train data/mozart --rnn-size 128 --num-layers 3 --dropout 0.05"

# 2. Only music21's own corpus: Palestrina masses, native kern, 4 voices. No extra restriction.
$BIN/cadenza prepare music21:palestrina -o data/palestrina --spines 4 --seed 0
$BIN/cadenza train data/palestrina -o runs/palestrina-lstm --rnn-size 128 --num-layers 3 --dropout 0.05 --max-epochs 40 --eval-every 250 --max-minutes "$MIN"
pack runs/palestrina-lstm palestrina-kern "Palestrina mass movements with 4 voices from music21's bundled corpus (kern)" \
  "BSD-3-Clause (music21 and its corpus); no additional restriction" "cadenza train data/palestrina --rnn-size 128 --num-layers 3 --dropout 0.05"

# 3. Clara's notewise encoding on classical piano MIDI (piano-midi.de).
$BIN/cadenza prepare "$SHARED/midi/piano-midi" --codec notewise --steps-per-quarter 12 --note-range 62 -o data/piano-notewise --transpose all --seed 0
$BIN/cadenza train data/piano-notewise -o runs/piano-notewise --rnn-size 256 --num-layers 2 --dropout 0.1 --seq-length 100 --batch-size 32 --eval-every 250 --max-minutes "$MIN"
pack runs/piano-notewise piano-notewise "piano-midi.de classical piano (Bernd Krueger), 297 files, notewise 12 steps/quarter, 62 keys, 12 keys transposition" \
  "CC BY-SA 3.0 DE (the weights follow the data: share-alike, attribute Bernd Krueger)" "cadenza train data/piano-notewise --rnn-size 256 --num-layers 2 --dropout 0.1 --seq-length 100 --batch-size 32"
