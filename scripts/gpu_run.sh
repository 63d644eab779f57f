#!/usr/bin/env bash
# One lease of a GPU machine (the `device` tool): check the CUDA paths, then train the bundled
# models with fill-in-the-middle, four at once on one GPU. Needs gpu/data.tar.xz, the prepared
# datasets' id files (the machine has no music21: ids travel, not corpora), made here with
#   echo /gpu/ >> .git/info/exclude; mkdir -p gpu; tar -cJf gpu/data.tar.xz $(for d in mozart-all beethoven bach-nw piano-cond; do
#     for f in manifest.json vocab.json train.ids.npy val.ids.npy train.prefix.npz val.prefix.npz; do [ -f data/$d/$f ] && echo data/$d/$f; done; done)
# and carried (device run: carry ["gpu"]). Writes to $OUT:
#   gpu_check.log  (CUDA, bf16 autocast, --compile, torchrun/nccl, resume: figures and pass/fail)
#   runs.tar.gz    (the run folders without their step checkpoints)
#   train-*.log
set -uo pipefail
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT" gruns
MIN=${MINUTES:-6}
tar -xJf gpu/data.tar.xz
C="python3 -m cadenza"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
  # 1. LSTM and transformer steps on CUDA (bf16 autocast), tokens/s from the log's seconds
  for a in "lstm --rnn-size 128 --num-layers 3 --seq-length 256 --batch-size 128" "transformer --preset small --batch-size 64" "transformer --preset small --batch-size 64 --compile"; do
    set -- $a; name=$(echo "$a" | tr ' ' '_' | tr -d '-' | cut -c1-40)
    timeout 120 $C train data/mozart-all -o gruns/chk-$name --arch $a --max-steps 60 --eval-every 60 --device cuda >/dev/null 2>gruns/chk-$name.err \
      && python3 -c "import json,sys; r=[json.loads(l) for l in open('gruns/chk-$name/log.jsonl')][-1]; c=json.load(open('gruns/chk-$name/config.json'))['train']; print('OK  $a', 'steps', r['step'], 's', r['seconds'], 'tokens/s', round(r['step']*c['batch_size']*c['seq_length']/max(r['seconds'],1e-9)), 'val', round(r['val_loss'],3))" \
      || { echo "FAIL $a"; tail -n 5 gruns/chk-$name.err; }
  done
  # 2. torchrun with one process per GPU: nccl initialises, trains and saves
  timeout 120 torchrun --standalone --nproc_per_node 1 -m cadenza train data/bach-nw -o gruns/chk-ddp --max-steps 40 --eval-every 20 --device cuda >/dev/null 2>gruns/chk-ddp.err && echo "OK  torchrun nccl 1 process: $(tail -n 1 gruns/chk-ddp/log.jsonl)" || { echo "FAIL torchrun"; tail -n 5 gruns/chk-ddp.err; }
  # 3. resume on CUDA: 40 steps straight against 20 + 20 (LSTM; cuDNN may differ in the last digits)
  A="data/bach-nw --max-steps 40 --eval-every 20 --device cuda --seed 5"
  timeout 90 $C train $A -o gruns/chk-straight >/dev/null 2>&1; timeout 90 $C train ${A/--max-steps 40/--max-steps 20} -o gruns/chk-resume >/dev/null 2>&1; timeout 90 $C train $A -o gruns/chk-resume --force-resume >/dev/null 2>&1
  python3 -c "import json; a=[json.loads(l) for l in open('gruns/chk-straight/log.jsonl')]; b=[json.loads(l) for l in open('gruns/chk-resume/log.jsonl')]; print('resume: straight', [round(x['val_loss'],5) for x in a], 'resumed', [round(x['val_loss'],5) for x in b])" || echo "FAIL resume"
} > "$OUT/gpu_check.log" 2>&1
cat "$OUT/gpu_check.log"
# 4. the bundled models, with fill in the middle, all at once for $MIN minutes each
R="--device cuda --max-minutes $MIN --max-steps 10000000 --schedule cosine --eval-every 250 --fim-rate 0.5 --threads 2"
$C train data/mozart-all -o gruns/mozart-kern --rnn-size 128 --num-layers 3 --dropout 0.1 --seq-length 256 --batch-size 128 $R > "$OUT/train-mozart.log" 2>&1 &
$C train data/beethoven -o gruns/beethoven-kern --rnn-size 128 --num-layers 3 --dropout 0.2 --seq-length 256 --batch-size 128 $R > "$OUT/train-beethoven.log" 2>&1 &
$C train data/bach-nw -o gruns/bach-notewise --rnn-size 192 --num-layers 2 --dropout 0.1 --seq-length 200 --batch-size 128 $R > "$OUT/train-bach.log" 2>&1 &
$C train data/piano-cond -o gruns/piano-notewise --rnn-size 256 --num-layers 2 --dropout 0.1 --seq-length 256 --batch-size 128 $R > "$OUT/train-piano.log" 2>&1 &
wait
for r in mozart-kern beethoven-kern bach-notewise piano-notewise; do echo "$r: $(tail -n 1 gruns/$r/log.jsonl)"; done | tee -a "$OUT/gpu_check.log"
tar -czf "$OUT/runs.tar.gz" --exclude=checkpoints --exclude=last.safetensors gruns/mozart-kern gruns/beethoven-kern gruns/bach-notewise gruns/piano-notewise
ls -la "$OUT"
