"""The training loop and the transformer: overfitting, the KV cache, exact resume, DDP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from cadenza import CadenzaError
from cadenza.models import ModelConfig, build_model
from cadenza.models.transformer import window_start
from cadenza.training import TrainConfig, load_run, train

TINY_GPT = dict(arch="transformer", rnn_size=32, num_layers=2, n_head=2, seq_length=32, batch_size=8, eval_every=10, eval_batches=2, threads=1, seed=5)


def _log(run: Path) -> list[dict]:
    return [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines() if l]


def test_window_rule():
    assert [window_start(t, 4) for t in range(9)] == [0, 0, 0, 0, 2, 2, 4, 4, 6]
    assert window_start(0, 1) == 0 and window_start(5, 1) == 5


@pytest.mark.parametrize("context", [8, 9, 16])
def test_kv_cache_equals_recomputation(context):
    """Reading token by token with the cache, in chunks, or the whole sequence at once gives the
    logits of recomputing each token's window from scratch, past the context too."""
    torch.manual_seed(0)
    m = build_model(ModelConfig("transformer", 40, 32, 2, 0.0, 2, context)).eval()
    ids = torch.randint(0, 40, (3, 5 * context + 3))
    T = ids.shape[1]
    with torch.no_grad():
        whole, _ = m(ids)
        state, steps = None, []
        for t in range(T):
            logits, state = m(ids[:, t : t + 1], state)
            steps.append(logits)
        stepwise = torch.cat(steps, 1)
        state, chunks = None, []
        for a in range(0, T, 5):
            logits, state = m(ids[:, a : a + 5], state)
            chunks.append(logits)
        chunked = torch.cat(chunks, 1)
        ref = torch.cat([m(ids[:, window_start(t, context) : t + 1])[0][:, -1:] for t in range(T)], 1)
    for got in (whole, stepwise, chunked):
        assert torch.allclose(got, ref, atol=1e-5)


def test_kv_cache_sampling_gives_the_tokens_of_recomputation():
    from cadenza.generation.decode import sample_ids
    from cadenza.generation.filters import SamplingOptions, choose

    torch.manual_seed(1)
    m = build_model(ModelConfig("transformer", 30, 32, 2, 0.0, 2, 12)).eval()
    opt = SamplingOptions(temperature=1.3)
    got = sample_ids(m, [1, 2, 3], 2, 60, opt, seed=9)
    # reference: recompute every window from scratch with the same generator
    gen = torch.Generator().manual_seed(9)
    seqs = [[1, 2, 3] for _ in range(2)]
    with torch.no_grad():
        for _ in range(60):
            t = len(seqs[0]) - 1
            x = torch.tensor([s[window_start(t, 12) :] for s in seqs])
            nxt = choose(m(x)[0][:, -1], opt, gen)
            for s, v in zip(seqs, nxt.tolist()):
                s.append(v)
    assert got == [s[3:] for s in seqs]


def test_tiny_transformer_overfits_a_small_corpus(tmp_path):
    from cadenza.data.prepare import prepare

    src = tmp_path / "src"
    src.mkdir()
    from music21 import corpus

    for p in corpus.getComposer("palestrina")[:1]:
        shutil.copy(p, src)
    ds = tmp_path / "ds"
    prepare([str(src)], ds, "kern", workers=1, seed=1, val_fraction=0.0, test_fraction=0.0)
    run = tmp_path / "gpt"
    cfg = {**TINY_GPT, "rnn_size": 128, "n_head": 4, "seq_length": 64, "batch_size": 16, "max_steps": 300, "eval_every": 50, "dropout": 0.0, "schedule": "char-rnn", "learning_rate_decay": 1.0}
    res = train(ds, run, TrainConfig(**cfg))
    log = _log(run)
    assert res.step == 300
    # one 3,000-character movement, learnt by heart: from ln(vocab) ~ 3.6 nats to well under one
    assert log[-1]["train_loss"] < 0.8 and log[-1]["train_loss"] < 0.5 * log[0]["train_loss"], log
    model, config = load_run(run)
    assert config["model"]["block_size"] == 64  # the context it trained on is the context it samples with
    assert model.context == 64


def test_killed_and_resumed_run_repeats_the_uninterrupted_losses(tmp_path, palestrina_dataset):
    args = ["--arch", "transformer", "--d-model", "32", "--layers", "2", "--heads", "2", "--context", "32", "--batch-size", "8",
            "--eval-every", "4", "--threads", "1", "--seed", "3", "--dropout", "0.1"]
    straight = tmp_path / "straight"
    train(palestrina_dataset, straight, TrainConfig(**{**TINY_GPT, "seed": 3, "eval_every": 4, "dropout": 0.1, "max_steps": 40}))
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "cadenza", "train", str(palestrina_dataset), "-o", str(run), *args]
    proc = subprocess.Popen(cmd + ["--max-steps", "40"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    state = run / "last.state.json"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["step"] >= 12:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = json.loads(state.read_text())["step"]
    assert 12 <= saved < 40, saved
    res = subprocess.run(cmd + ["--max-steps", "40"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"resumed from step {saved}" in res.stdout
    a, b = _log(straight), _log(run)
    assert [h["step"] for h in a] == [h["step"] for h in b]
    assert [h["train_loss"] for h in b] == pytest.approx([h["train_loss"] for h in a], rel=1e-6)
    wa, wb = load_file(str(straight / "last.safetensors")), load_file(str(run / "last.safetensors"))
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)
    assert len(list((run / "checkpoints").iterdir())) <= 2  # old step folders are cleaned up


def test_resume_with_other_options_is_refused_unless_forced(tmp_path, palestrina_dataset):
    run = tmp_path / "r"
    train(palestrina_dataset, run, TrainConfig(**{**TINY_GPT, "max_steps": 4}))
    with pytest.raises(CadenzaError, match="batch_size 8 -> 16.*--force-resume"):
        train(palestrina_dataset, run, TrainConfig(**{**TINY_GPT, "max_steps": 8, "batch_size": 16}))
    res = train(palestrina_dataset, run, TrainConfig(**{**TINY_GPT, "max_steps": 8, "batch_size": 16}), force_resume=True)
    assert res.resumed_from == 4 and res.step == 8
    with pytest.raises(CadenzaError, match="different model"):
        train(palestrina_dataset, run, TrainConfig(**{**TINY_GPT, "max_steps": 8, "rnn_size": 64}))


def test_bad_transformer_shape_is_refused_before_writing_anything(tmp_path, palestrina_dataset):
    with pytest.raises(CadenzaError, match="not divisible"):
        train(palestrina_dataset, tmp_path / "bad", TrainConfig(**{**TINY_GPT, "rnn_size": 30, "n_head": 4}))
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_two_process_ddp_matches_one_process_with_the_same_global_batch(tmp_path, palestrina_dataset):
    """torchrun with 2 gloo processes (batch 4 each) = 1 process accumulating 2 micro-batches of 4."""
    args = ["--arch", "transformer", "--d-model", "32", "--layers", "2", "--heads", "2", "--context", "32", "--batch-size", "4",
            "--eval-every", "5", "--max-steps", "10", "--threads", "1", "--seed", "7", "--dropout", "0"]
    ddp = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "cadenza", "train",
                          str(palestrina_dataset), "-o", str(ddp), *args], capture_output=True, text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    single = tmp_path / "single"
    train(palestrina_dataset, single, TrainConfig(**{**TINY_GPT, "batch_size": 4, "grad_accum": 2, "eval_every": 5, "eval_batches": 20, "max_steps": 10, "seed": 7, "dropout": 0.0}))
    assert [h["train_loss"] for h in _log(ddp)] == pytest.approx([h["train_loss"] for h in _log(single)], rel=1e-5)
    a, b = load_file(str(ddp / "last.safetensors")), load_file(str(single / "last.safetensors"))
    assert all(torch.allclose(a[k], b[k], atol=2e-5) for k in a)
    la, lb = _log(ddp), _log(single)
    assert [h["val_loss"] for h in la] == pytest.approx([h["val_loss"] for h in lb], rel=1e-5)
    assert json.loads((ddp / "config.json").read_text())["processes"] == 2


def test_transformer_samples_with_every_control(tmp_path, palestrina_dataset):
    """The KV-cached transformer under the kern constraint, beam search and a form."""
    from cadenza.generation import SamplingOptions, generate

    run = tmp_path / "gpt"
    train(palestrina_dataset, run, TrainConfig(**{**TINY_GPT, "max_steps": 30}))
    beams = generate(run, tmp_path / "beam", n=2, length=150, seed=1, beam=3)
    form = generate(run, tmp_path / "form", n=1, seed=2, form="AAB", phrase_bars=1, options=SamplingOptions(temperature=0.9))
    for s in beams + form:
        assert s.stats["parsed"], s.stats
    phrases = form[0].stats["phrases"]
    assert [p["phrase"] for p in phrases] == ["A", "A", "B"] and phrases[1]["made"] == "repeat"


def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(tmp_path, palestrina_dataset):
    run = tmp_path / "interrupted"
    cmd = [sys.executable, "-m", "cadenza", "train", str(palestrina_dataset), "-o", str(run), "--rnn-size", "32", "--num-layers", "2",
           "--seq-length", "40", "--batch-size", "8", "--eval-every", "5", "--max-steps", "100000", "--threads", "1"]
    # pytest-xdist workers ignore SIGINT and children inherit that: give the trainer the default
    # disposition, as a terminal would, so Python turns Ctrl-C into KeyboardInterrupt
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    state = run / "last.state.json"
    deadline = time.time() + 120
    # after the first checkpoint and its loss plot: a Ctrl-C while matplotlib is first imported
    # once ended the process by the signal (exit -2) after the checkpoint and the message (closing note)
    while time.time() < deadline and not (state.exists() and (run / "loss.png").exists()):
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "run the same command again to resume" in err
    step = json.loads(state.read_text())["step"]
    assert f"interrupted at step {step}" in err
    load_run(run, "last")


def test_stateful_streams_follow_on_and_train(tmp_path, palestrina_dataset):
    """--stateful reads char-rnn's batches: each row's next window starts where its last ended,
    a new pass is flagged when the streams wrap; training with it runs and resumes."""
    from cadenza.training.data import Stream

    ids = np.arange(1000) % 50
    s = Stream(None, ids=ids)
    x0, y0, fresh0 = s.streams(4, 10, 0)
    x1, _, fresh1 = s.streams(4, 10, 1)
    assert fresh0 and not fresh1
    assert x0.shape == (4, 10) and (x1[:, 0] == y0[:, -1]).all()  # row r goes straight on
    per = 999 // 4
    assert [int(v) for v in x0[:, 0]] == [int(ids[r * per]) for r in range(4)]
    _, _, wrapped = s.streams(4, 10, per // 10)
    assert wrapped
    other, _, _ = s.streams(4, 10, 0, rank=1, world=2)  # another process reads the next 4 of 8 streams
    per8 = 999 // 8
    assert [int(v) for v in other[:, 0]] == [int(ids[(4 + r) * per8]) for r in range(4)]
    run = tmp_path / "stateful"
    cfg = TrainConfig(rnn_size=24, num_layers=1, seq_length=32, batch_size=4, max_steps=12, eval_every=6, eval_batches=1, stateful=True)
    res = train(palestrina_dataset, run, cfg)
    assert res.step == 12 and res.best_val_loss is not None
    with pytest.raises(CadenzaError, match="transformer has none"):
        TrainConfig(stateful=True, arch="transformer").resolved()


def test_an_lstm_reads_streams_by_default_and_resumes_exactly(tmp_path, palestrina_dataset):
    """Issue #20: the LSTM's default is char-rnn's carried-state streams (a transformer has no
    state); the state starts afresh at each checkpoint, so a run stopped at one and resumed
    repeats the uninterrupted run's losses and weights exactly."""
    assert TrainConfig().resolved().stateful and not TrainConfig(stateful=False).resolved().stateful
    assert not TrainConfig(**TINY_GPT).resolved().stateful and not TrainConfig(init_from="mozart-kern").resolved().stateful  # fine-tuning keeps its windows
    cfg = dict(rnn_size=24, num_layers=2, seq_length=32, batch_size=4, eval_every=6, threads=1, dropout=0.1, seed=4)
    train(palestrina_dataset, tmp_path / "straight", TrainConfig(**cfg, max_steps=24))
    train(palestrina_dataset, tmp_path / "split", TrainConfig(**cfg, max_steps=12))
    res = train(palestrina_dataset, tmp_path / "split", TrainConfig(**cfg, max_steps=24))
    assert res.resumed_from == 12 and json.loads((tmp_path / "split" / "config.json").read_text())["train"]["stateful"] is True
    a, b = _log(tmp_path / "straight"), _log(tmp_path / "split")
    assert [(h["step"], h["train_loss"], h["val_loss"]) for h in a] == [(h["step"], h["train_loss"], h["val_loss"]) for h in b]
    wa, wb = load_file(str(tmp_path / "straight" / "last.safetensors")), load_file(str(tmp_path / "split" / "last.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_text_too_short_for_the_streams_trains_on_windows_unless_streams_are_asked(tmp_path, palestrina_dataset):
    n = len(np.load(palestrina_dataset / "train.ids.npy"))
    cfg = dict(rnn_size=16, num_layers=1, seq_length=32, batch_size=n // 32 + 1, max_steps=1, eval_every=1, eval_batches=1, threads=1)
    train(palestrina_dataset, tmp_path / "auto", TrainConfig(**cfg))
    assert json.loads((tmp_path / "auto" / "config.json").read_text())["train"]["stateful"] is False
    with pytest.raises(CadenzaError, match=f"the training split has {n} tokens, too few for {n // 32 + 1} streams of --seq-length 32"):
        train(palestrina_dataset, tmp_path / "asked", TrainConfig(**cfg, stateful=True))


def test_warm_start_carries_rows_by_token_and_new_tokens_start_fresh(tiny_run):
    from cadenza.codecs.fim import sentinels, with_sentinels
    from cadenza.training.warm_start import warm_start

    source, config = load_run(tiny_run)
    vocab = with_sentinels(config["vocab"][::-1], "char")  # another order, and four tokens the source never saw
    mcfg = ModelConfig.from_dict({**config["model"], "vocab_size": len(vocab)})
    torch.manual_seed(0)
    model = build_model(mcfg)
    fresh = model.embed.weight.detach().clone()
    started = warm_start(model, mcfg.to_dict(), vocab, "kern", str(tiny_run))
    assert started.carried == len(config["vocab"]) and started.new_tokens == tuple(sentinels("char"))
    for i, tok in enumerate(vocab):
        if tok in config["vocab"]:
            j = config["vocab"].index(tok)
            assert torch.equal(model.embed.weight[i], source.embed.weight[j]) and torch.equal(model.head.bias[i], source.head.bias[j])
        else:
            assert torch.equal(model.embed.weight[i], fresh[i])
    assert torch.equal(model.lstm.weight_hh_l1, source.lstm.weight_hh_l1)


def test_fine_tuning_starts_where_the_source_left_off(tmp_path, palestrina_dataset, tiny_run):
    """The first validation of a fine-tuned run is the source's level, far below a fresh start's;
    the source's shape is taken when the size options are left out; resuming keeps the record."""
    run = tmp_path / "ft"
    res = subprocess.run([sys.executable, "-m", "cadenza", "train", str(palestrina_dataset), "-o", str(run), "--init-from", str(tiny_run), "--fim-rate", "0.5",
                          "--max-steps", "2", "--eval-every", "2", "--threads", "1"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "fine-tuned from" in res.stdout and "4 new" in res.stdout
    config = json.loads((run / "config.json").read_text())
    assert (config["model"]["rnn_size"], config["model"]["num_layers"]) == (48, 2)
    scratch = train(palestrina_dataset, tmp_path / "scratch", TrainConfig(rnn_size=48, num_layers=2, seq_length=50, batch_size=50, fim_rate=0.5, max_steps=2, eval_every=2, threads=1))
    assert _log(run)[0]["val_loss"] < scratch.best_val_loss - 0.5
    resumed = train(palestrina_dataset, run, TrainConfig(**{**config["train"], "max_steps": 4}))
    assert resumed.resumed_from == 2 and json.loads((run / "config.json").read_text())["warm_start"]["source"] == str(tiny_run)


def test_a_fine_tune_that_only_gets_worse_keeps_its_sources_weights(tmp_path, palestrina_dataset, tiny_run):
    """The source, read on the new validation text before the first step, is the checkpoint to
    beat: a learning rate that wrecks the model leaves best.safetensors as the source's."""
    from cadenza.training import fine_tune_config

    res = train(palestrina_dataset, tmp_path / "worse", fine_tune_config(str(tiny_run), learning_rate=5.0, schedule="char-rnn", seq_length=50,
                                                                         batch_size=16, max_steps=4, eval_every=2, eval_batches=2, threads=1))
    assert all(h["val_loss"] > res.best_val_loss for h in _log(tmp_path / "worse"))  # every evaluation after a step was worse than the start
    source, kept = load_file(str(tiny_run / "best.safetensors")), load_file(str(tmp_path / "worse" / "best.safetensors"))
    assert source.keys() == kept.keys() and all(torch.equal(source[k], kept[k]) for k in source)


def test_fine_tune_config_takes_the_sources_size_in_python(tiny_run):
    from cadenza.training import fine_tune_config

    cfg = fine_tune_config(str(tiny_run), learning_rate=1e-3, max_steps=3)
    assert (cfg.rnn_size, cfg.num_layers, cfg.arch, cfg.learning_rate, cfg.init_from) == (48, 2, "lstm", 1e-3, str(tiny_run))
    assert fine_tune_config("bach-notewise").rnn_size == 192


def test_fine_tuning_refuses_another_shape_or_codec(tmp_path, palestrina_dataset, tiny_run):
    with pytest.raises(CadenzaError, match="rnn_size 48.*rnn_size 64.*leave the size options out"):
        train(palestrina_dataset, tmp_path / "a", TrainConfig(rnn_size=64, num_layers=2, max_steps=2, init_from=str(tiny_run)))
    with pytest.raises(CadenzaError, match="a notewise model; this dataset is kern"):
        train(palestrina_dataset, tmp_path / "b", TrainConfig(rnn_size=256, num_layers=2, max_steps=2, init_from="bach-notewise"))
    with pytest.raises(CadenzaError, match="--init-from"):
        train(palestrina_dataset, tmp_path / "c", TrainConfig(max_steps=2, init_from=str(tmp_path / "nowhere")))


def test_stateful_training_interleaves_fim_steps_without_breaking_the_streams(tmp_path, palestrina_dataset, monkeypatch):
    """--stateful --fim-rate R: a share R of the steps are batches of fill-in-the-middle windows;
    the other steps read the streams' windows in order, none skipped, also across a resume."""
    from cadenza.codecs.fim import can_infill
    from cadenza.training.data import Stream
    from cadenza.training.loop import fim_micro_step

    cfg = TrainConfig(rnn_size=24, num_layers=1, seq_length=32, batch_size=4, max_steps=20, eval_every=10, eval_batches=1, stateful=True, fim_rate=0.5)
    share = np.mean([fim_micro_step(cfg, s, 0) for s in range(2000)])
    assert 0.45 < share < 0.55 and not fim_micro_step(TrainConfig(fim_rate=0.5), 3, 0)
    read, fim = [], []
    streams, batch = Stream.streams, Stream.batch
    monkeypatch.setattr(Stream, "streams", lambda self, b, q, k, *a: (read.append((len(self), k)), streams(self, b, q, k, *a))[1])
    monkeypatch.setattr(Stream, "batch", lambda self, b, q, gen, all_fim=False: (fim.append(all_fim), batch(self, b, q, gen, all_fim))[1])
    run = tmp_path / "stateful-fim"
    train(palestrina_dataset, run, cfg)
    longest = max(n for n, _ in read)  # the training split (validation reads its own streams)
    trained = lambda: [k for n, k in read if n == longest]  # noqa: E731
    plain = sum(not fim_micro_step(cfg, s, 0) for s in range(20))
    assert trained() == list(range(plain)) and fim == [True] * (20 - plain) and 0 < plain < 20
    train(palestrina_dataset, run, TrainConfig(**{**cfg.__dict__, "max_steps": 30}))
    assert trained() == list(range(sum(not fim_micro_step(cfg, s, 0) for s in range(30))))  # the resumed run reads on where it stopped
    assert can_infill(json.loads((run / "config.json").read_text())["vocab"], "char")


def test_one_way_to_put_options_together_preset_source_then_flags(tiny_run):
    """`cadenza train`, `adapt` and fine_tune_config share config_for: the shape of a preset or a
    source, the options given on top, None meaning "not given"."""
    from cadenza.models.config import PRESETS
    from cadenza.training import config_for

    p = next(iter(PRESETS.values()))
    name = next(iter(PRESETS))
    cfg = config_for(name, None, rnn_size=None, dropout=0.3, batch_size=7)
    assert (cfg.arch, cfg.rnn_size, cfg.num_layers, cfg.n_head, cfg.seq_length, cfg.dropout, cfg.batch_size) == ("transformer", p.d_model, p.layers, p.heads, p.context, 0.3, 7)
    cfg = config_for(None, str(tiny_run), seq_length=None, learning_rate=5e-4)
    assert (cfg.arch, cfg.rnn_size, cfg.num_layers, cfg.seq_length, cfg.learning_rate, cfg.init_from) == ("lstm", 48, 2, TrainConfig().seq_length, 5e-4, str(tiny_run))
    assert config_for(arch="lstm", rnn_size=None) == TrainConfig()
    with pytest.raises(CadenzaError, match="unknown --preset 'huge'"):
        config_for("huge")
