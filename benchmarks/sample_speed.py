"""Sampling speed (issue #15, target 3), one thread, best of ``--repeat`` runs, all in one process.

* the bundled kern model (mozart-kern): 15,000 characters free (target <= 1 s) and constrained
  (target <= 1.5x free), and the whole ``generate`` call after start-up (model loaded, imports
  done: target <= 2 s) with the default formats (krn, mid, musicxml) and with krn,mid;
* the bundled piano-notewise model: 4,000 tokens (<= 1 s) and the whole ``generate`` (<= 2 s);
* issue #20: a 16-bar piece from the bundled kern models (mozart-kern, kern-base), written as
  .krn, in under 1 s after start-up (the median over 9 seeds);
* the anchor of each: char-rnn's naive loop (the model's own nn.Embedding / nn.LSTM / nn.Linear,
  one step at a time, torch.multinomial), measured in the same run;
* an LSTM against a transformer with its KV cache, both of random weights at piano-notewise's
  vocabulary size (speed does not depend on what they learned).

Prints a table; ``--json PATH`` writes {"machine", "rows": [{figure, value, anchor, ratio,
target, met, first}...]} (benchmarks/bench.py merges the rows; ``first`` is the first of the
repeats, ``value`` the fastest); without it, writes
benchmarks/results/sample_speed.json. ``--quick``: one repeat, 1,000 tokens for the LSTM against
transformer rows.

    python benchmarks/sample_speed.py [--quick] [--json PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from cadenza.generation import SamplingOptions, encode_prime, few_threads, generate, open_run, sample_ids
from cadenza.models import ModelConfig, build_model, count_parameters
from cadenza.models.config import PRESETS

NAIVE = "char-rnn's naive loop (nn.LSTM one step at a time, torch.multinomial)"


@torch.no_grad()
def naive_loop(model: torch.nn.Module, prime: list[int], length: int, seed: int) -> list[int]:
    """The way char-rnn's sample.lua (and most PyTorch ports) sample: the whole module per step."""
    gen = torch.Generator().manual_seed(seed)
    logits, state = model(torch.tensor([prime]), None)
    out = []
    for _ in range(length):
        nxt = torch.multinomial(logits[:, -1].softmax(-1), 1, generator=gen)
        out.append(int(nxt))
        logits, state = model(nxt, state)
    return out


def timed(fn, repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` runs of ``fn()``; rows report the fastest (the others carry
    the machine's noise) and the first (in a fresh process: the kern grammar's caches still cold)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def row(figure: str, times: list[float], anchor: float | None, target: str, met: bool | None, **extra) -> dict:
    value = min(times)
    ratio = None if not anchor else round(value / anchor, 3)
    return {"figure": figure, "value": round(value, 3), "anchor": None if anchor is None else round(anchor, 3), "ratio": ratio,
            "target": target, "met": met, "first": round(times[0], 3), **extra}


def model_rows(name: str, length: int, repeat: int, tmp: Path) -> list[dict]:
    """The whole command (first, while the caches are cold), the naive loop, sampling, and
    constrained sampling where the codec has a constraint."""
    run = open_run(name)
    model, codec, vocab, context = run.model, run.codec, run.vocab, run.context
    prime_text = codec.default_prime(vocab)
    prime = encode_prime(prime_text, vocab, codec.unit) or [0]
    unit = "characters" if codec.unit == "char" else "tokens"
    formats = [codec.sample_formats] + ([("krn", "mid")] if "musicxml" in codec.sample_formats else [])
    with few_threads(model):
        generate(run, tmp / "warm", length=50, formats=codec.sample_formats)  # imports (music21)
        whole = [timed(lambda: generate(run, tmp / "gen", length=length, formats=fmt), repeat) for fmt in formats]
        naive = min(timed(lambda: naive_loop(model, prime, length, 0), repeat))
        free = timed(lambda: sample_ids(model, prime, 1, length, SamplingOptions(), 0), repeat)
        make = (lambda: codec.constraint(vocab, context, 1, prime_text)) if codec.constraint(vocab, context, 0, "") is not None else None
        con = timed(lambda: sample_ids(model, prime, 1, length, SamplingOptions(), 0, constraint=make()), repeat) if make else None
    rows = [row(f"sampling: {name}, {length:,} {unit}, seconds", free, naive, "<= 1 s", min(free) <= 1.0, anchor_is=NAIVE)]
    if con:
        rows.append(row(f"sampling: {name}, {length:,} {unit} constrained, seconds (anchor: free)", con, min(free), "<= 1.5x free",
                        min(con) <= 1.5 * min(free), anchor_is="the same model's free sampling, this run"))
    for fmt, times in zip(formats, whole):
        rows.append(row(f"generate --model {name} --length {length} --formats {','.join(fmt)}: seconds after start-up", times, naive, "<= 2 s",
                        min(times) <= 2.0, anchor_is=NAIVE + " (sampling only)"))
    return rows


def bars_rows(name: str, bars: int, seeds: int, tmp: Path) -> list[dict]:
    """Issue #20's figure: a whole ``bars``-bar piece (sampled until its bars are written,
    restored and written as .krn) after start-up, over ``seeds`` seeds (pieces differ in length:
    the row gives the median, the slowest beside it)."""
    run = open_run(name)
    with few_threads(run.model):
        generate(run, tmp / "warm", bars=2, formats=("krn",))
        times = [timed(lambda: generate(run, tmp / "bars", bars=bars, seed=s, formats=("krn",)), 1)[0] for s in range(seeds)]
    median = sorted(times)[len(times) // 2]
    return [row(f"generate --model {name} --bars {bars} --formats krn: seconds after start-up (median of seeds 0-{seeds - 1})", [median], None,
                "<= 1 s", median <= 1.0, slowest=round(max(times), 3), params=count_parameters(run.model))]


def arch_rows(tokens: int, repeat: int, vocab: int = 221) -> list[dict]:
    """An LSTM of piano-notewise's shape against the tiny transformer preset with its KV cache."""
    torch.manual_seed(0)
    tiny = PRESETS["tiny"]
    lstm = build_model(ModelConfig("lstm", vocab, 256, 2, 0.0)).eval()
    tf = build_model(ModelConfig("transformer", vocab, tiny.d_model, tiny.layers, 0.0, tiny.heads, tiny.context)).eval()
    times = {}
    for m in (lstm, tf):
        with few_threads(m):
            times[id(m)] = timed(lambda: sample_ids(m, [0], 1, tokens, SamplingOptions(), 0), repeat)
    return [
        row(f"sampling: LSTM 2x256 ({count_parameters(lstm):,} params, numpy step), {tokens:,} tokens, seconds", times[id(lstm)], None, "reported", None),
        row(f"sampling: transformer tiny ({tiny.layers}x{tiny.d_model}, context {tiny.context}, {count_parameters(tf):,} params, KV cache), "
            f"{tokens:,} tokens, seconds (anchor: the LSTM)", times[id(tf)], min(times[id(lstm)]), "reported", None),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="write the rows here (default benchmarks/results/sample_speed.json)")
    ap.add_argument("--quick", action="store_true", help="one repeat; 1,000 tokens for the architecture rows")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="sample-speed-") as tmp:
        rows = model_rows("mozart-kern", 15000, repeat, Path(tmp)) + model_rows("piano-notewise", 4000, repeat, Path(tmp))
        rows += [r for name in ("mozart-kern", "kern-base") for r in bars_rows(name, 16, 3 if args.quick else 9, Path(tmp))]
    rows += arch_rows(1000 if args.quick else 4000, repeat)
    print(f"{'figure':<96} {'value':>7} {'first':>7} {'anchor':>7} {'ratio':>6} {'target':>13} met")
    for r in rows:
        anchor, ratio = "" if r["anchor"] is None else f"{r['anchor']:.2f}", "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        met = "" if r["met"] is None else "yes" if r["met"] else "NO"
        print(f"{r['figure']:<96} {r['value']:>7.2f} {r['first']:>7.2f} {anchor:>7} {ratio:>6} {r['target']:>13} {met}")
    machine = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
               "torch": torch.__version__, "threads": 1, "repeat": repeat, "quick": args.quick}
    out = args.json or Path(__file__).parent / "results" / "sample_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
