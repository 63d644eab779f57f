#!/usr/bin/env bash
# kern-small (issue #20): kern-base's corpus and recipe in a 3x128 LSTM (0.4M parameters), the base
# that `cadenza adapt` fine-tunes on a laptop. In 10 CPU minutes a fine-tune of the 3x256
# kern-base reads about 4 million characters of the user's text, the 2015 recipe's 3x128 from
# scratch 16 million; a base of the 2015 recipe's size reads as much and starts from every score
# (Joplin's held-out rags after 10 minutes: 0.779 bits/char from kern-small, 0.887 from kern-base,
# 0.916 for the 2015 recipe: benchmarks/results/adapt_kern-*_joplin.json).
#
#   bash scripts/kern_small.sh     prepare data/every-score if missing (scripts/kern_base.sh), then
#                                  train runs/kern-small (resumes where a killed run stopped)
#
# Run it in the background: nohup bash scripts/kern_small.sh > runs/kern-small.log 2>&1 &
# ~1 hour on one CPU thread (6,000 steps of 50 windows of 256 characters, as kern-base).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
if [ ! -f data/every-score/manifest.json ]; then
  bash scripts/kern_base.sh  # prepares the corpus (and restores the finished kern-base run)
fi
exec $BIN/cadenza train data/every-score -o runs/kern-small --rnn-size 128 --num-layers 3 --dropout 0.1 --seq-length 256 --batch-size 50 \
  --learning-rate 3e-3 --random-windows --fim-rate 0.25 --schedule cosine --max-steps 6000 --eval-every 250 --threads 1 --seed 0
