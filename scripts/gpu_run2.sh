#!/usr/bin/env bash
# Second, short lease: the kern models again with more dropout (the first run overfit by step 1500).
set -uo pipefail
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT" gruns
MIN=${MINUTES:-2.5}
tar -xJf gpu/data.tar.xz data/mozart-all data/beethoven
R="--device cuda --max-minutes $MIN --max-steps 10000000 --schedule cosine --eval-every 100 --threads 2 --rnn-size 128 --num-layers 3 --seq-length 256 --batch-size 128"
python3 -m cadenza train data/mozart-all -o gruns/mozart-d2-f50 --dropout 0.2 --fim-rate 0.5 $R > "$OUT/t1.log" 2>&1 &
python3 -m cadenza train data/mozart-all -o gruns/mozart-d2-f25 --dropout 0.2 --fim-rate 0.25 $R > "$OUT/t2.log" 2>&1 &
python3 -m cadenza train data/beethoven -o gruns/beethoven-d3-f50 --dropout 0.3 --fim-rate 0.5 $R > "$OUT/t3.log" 2>&1 &
wait
tar -czf "$OUT/runs2.tar.gz" --exclude=checkpoints --exclude=last.safetensors gruns
