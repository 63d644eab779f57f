"""Sampling cost: a transformer with its KV cache against an LSTM of similar size.

Both models have random weights (speed does not depend on what they learned) and the vocabulary
size of the bundled piano-notewise model. Each draws ``--tokens`` tokens for one sample on one
thread, best of ``--repeat`` runs, in the same process. Prints a table and writes
benchmarks/results/sample_speed.json.

    python benchmarks/sample_speed.py [--tokens 4000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from cadenza.models import ModelConfig, build_model, count_parameters
from cadenza.models.config import PRESETS
from cadenza.generation import sample_ids, SamplingOptions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--vocab", type=int, default=420)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tiny = PRESETS["tiny"]
    models = {
        "LSTM 2x256 (piano-notewise's shape)": build_model(ModelConfig("lstm", args.vocab, 256, 2, 0.0)),
        f"transformer tiny ({tiny.layers}x{tiny.d_model}, context {tiny.context}), KV cache": build_model(ModelConfig("transformer", args.vocab, tiny.d_model, tiny.layers, 0.0, tiny.heads, tiny.context)),
    }
    best = {name: float("inf") for name in models}
    for r in range(args.repeat):  # interleaved, so both see the same machine load; best of the repeats
        for name, m in models.items():
            m.eval()
            t = time.perf_counter()
            out = sample_ids(m, [0], 1, args.tokens, SamplingOptions(), seed=r)
            best[name] = min(best[name], time.perf_counter() - t)
            assert len(out[0]) == args.tokens
    rows = [{"model": name, "params": count_parameters(m), "seconds": round(best[name], 3), "tokens_per_second": round(args.tokens / best[name])} for name, m in models.items()]
    base = rows[0]["seconds"]
    for r in rows:
        r["ratio_to_lstm"] = round(r["seconds"] / base, 2)
    print(f"{'model':<62} {'params':>9} {'seconds':>8} {'tok/s':>7} {'x LSTM':>7}")
    for r in rows:
        print(f"{r['model']:<62} {r['params']:>9,} {r['seconds']:>8.2f} {r['tokens_per_second']:>7} {r['ratio_to_lstm']:>7.2f}")
    out = Path(__file__).parent / "results" / "sample_speed.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"tokens": args.tokens, "threads": 1, "machine": platform.processor() or platform.machine(), "cpus": __import__("os").cpu_count(), "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
