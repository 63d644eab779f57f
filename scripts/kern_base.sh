#!/usr/bin/env bash
# kern-base (issue #20): the every-score corpus and the long CPU training run of the base model,
# resumable across sessions and machines.
#
#   bash scripts/kern_base.sh            prepare data/every-score if missing, restore runs/kern-base
#                                        from training-state/kern-base if missing, train (resumes)
#   bash scripts/kern_base.sh --save     copy the run's newest complete checkpoint to
#                                        training-state/kern-base (committed: a new machine resumes
#                                        exactly from it, as `cadenza train` resumes its own runs)
#
# Run it in the background: nohup bash scripts/kern_base.sh > runs/kern-base.log 2>&1 &
# The corpus: every score of ../shared/corpora (but Joplin: kept unseen, for `adapt` to be measured
# on), music21's corpus (but Joplin and its demos) and ../shared/midi, each piece in its own staves
# (--layouts all) with its composer, style and instrument labels; the Mozart and Beethoven test
# pieces of the bundled models' datasets held out (--hold-out), so their fine-tunes are measured on
# music the base never read. Preparing takes ~25 minutes on 2 busy cores (music21 parses the ABC
# tune books and MusicXML); the report is data/every-score/report.md (docs/corpus-every-score.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
SHARED=${SHARED:-../shared}
RUN=runs/kern-base
SAVED=training-state/kern-base

if [ "${1:-}" = "--save" ]; then
  ck=$("$BIN/python" -c "import json; print(json.load(open('$RUN/last.state.json'))['checkpoint'])")
  rm -rf "$SAVED" && mkdir -p "$SAVED/checkpoints"
  cp -r "$RUN/$ck" "$SAVED/checkpoints/"
  cp "$RUN/last.state.json" "$RUN/config.json" "$RUN/log.jsonl" "$RUN/best.safetensors" "$SAVED/"  # last.safetensors: the checkpoint's model
  (cd data/every-score && sha256sum train.ids.npy val.ids.npy test.ids.npy vocab.json) > "$SAVED/dataset.sha256"
  du -sh "$SAVED"
  exit 0
fi

mkdir -p data runs
for d in mozart-all beethoven-all; do  # the datasets whose held-out pieces the base must not read
  src=$([ $d = mozart-all ] && echo mozart || echo beethoven)
  [ -f data/$d/manifest.json ] || $BIN/cadenza prepare "$SHARED/corpora/$src-piano-sonatas" --transpose all -o data/$d --seed 0
done
if [ ! -f data/every-score/manifest.json ]; then
  M21=$($BIN/python -c "from music21 import common; print(common.getCorpusFilePath())")
  M21_DIRS=$(cd "$M21" && for d in */; do d=${d%/}; case $d in joplin|demos|theoryExercises|leadSheet|_metadataCache|__pycache__) ;; *) printf '%s ' "$M21/$d";; esac; done)
  # shellcheck disable=SC2086
  $BIN/cadenza prepare "$SHARED/corpora/mozart-piano-sonatas" "$SHARED/corpora/beethoven-piano-sonatas" "$SHARED/corpora/bach-370-chorales" \
    "$SHARED/corpora/bach-wtc" "$SHARED/corpora/chopin-preludes" "$SHARED/corpora/haydn-string-quartets" "$SHARED/corpora/mozart-string-quartets" \
    $M21_DIRS "$SHARED/midi/piano-midi" "$SHARED/midi/nottingham-folk" "$SHARED/midi/chamber/score" \
    --layouts all --condition composer,style,instrument --label-min-pieces 10 --hold-out data/mozart-all --hold-out data/beethoven-all \
    --workers 2 -o data/every-score --seed 0
fi
if [ -f "$SAVED/last.state.json" ] && \
   "$BIN/python" -c "import json, sys; s = json.load(open('$SAVED/last.state.json')); c = json.load(open('$SAVED/config.json')); sys.exit(s['step'] < c['train']['max_steps'])"; then
  # The committed run is finished (6,000 of 6,000 steps): restore it as it is. The corpus prepared
  # today may differ from the one it read (kern cleaning has since written each chord note's
  # duration, 91 notes of Beethoven's; a tune book that times out on a busy machine is left out),
  # which only a retraining would use.
  [ -f "$RUN/last.state.json" ] || { mkdir -p "$RUN" && cp -r "$SAVED"/. "$RUN"/; }
  echo "$RUN: the finished kern-base run ($SAVED); delete $SAVED to train it again from nothing"
  exit 0
fi
if [ -f "$SAVED/dataset.sha256" ] && ! (cd data/every-score && sha256sum --quiet -c "../../$SAVED/dataset.sha256"); then
  echo "data/every-score differs from the corpus the saved checkpoint was trained on ($SAVED/dataset.sha256): resuming would not be exact" >&2
  exit 2
fi
if [ ! -f "$RUN/last.state.json" ] && [ -f "$SAVED/last.state.json" ]; then
  mkdir -p "$RUN" && cp -r "$SAVED"/. "$RUN"/  # the committed checkpoint: training resumes from its step
fi
# 3x256 LSTM (1.6M parameters: sampling 16 bars stays under a second in numpy), dropout 0.1, random windows of
# 256 characters with their header and labels, SPM fill-in-the-middle on a quarter of them, cosine
# schedule over 6,000 steps of 50 windows (77M characters, ~3.8 passes over the 20M of training text).
exec $BIN/cadenza train data/every-score -o "$RUN" --rnn-size 256 --num-layers 3 --dropout 0.1 --seq-length 256 --batch-size 50 \
  --learning-rate 2e-3 --random-windows --fim-rate 0.25 --schedule cosine --max-steps 6000 --eval-every 250 --threads 1 --seed 0
