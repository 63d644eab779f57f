"""The fast sampling paths (the LSTM's numpy step, numpy draws, the kern constraint's cached
masks) give what the plain torch paths give: the same logits, the same filters, valid kern."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cadenza.codecs import get_codec
from cadenza.evaluation.validity import kern_validity
from cadenza.generation import SamplingOptions, filter_logits, generate, sample_ids
from cadenza.generation.decode import _openblas, one_blas_thread
from cadenza.generation.filters import choose_masked_np, choose_np, filter_logits_np
from cadenza.models import ModelConfig, build_model
from cadenza.models.pretrained import resolve
from cadenza.training import load_run


def _lstm(vocab: int = 40, size: int = 48, layers: int = 3) -> torch.nn.Module:
    torch.manual_seed(3)
    return build_model(ModelConfig("lstm", vocab, size, layers, 0.0)).eval()


def _random_state(model, n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    shape = (model.cfg.num_layers, n, model.cfg.rnn_size)
    return torch.randn(shape, generator=g), torch.randn(shape, generator=g)


def test_numpy_step_gives_the_logits_and_state_of_nn_lstm():
    model = _lstm()
    state = _random_state(model, 3, 0)
    tokens = torch.tensor([0, 17, 39])
    with torch.no_grad():
        ref, (h, c) = model(tokens[:, None], state)
    step = model.fast_step(state)
    got = step(tokens.numpy())
    assert np.abs(got - ref[:, 0].numpy()).max() < 1e-5
    h2, c2 = step.state()
    assert np.allclose(h2, h.numpy(), atol=1e-5) and np.allclose(c2, c.numpy(), atol=1e-5)


def test_numpy_steps_follow_the_bundled_model_over_a_long_sequence():
    model, config = load_run(resolve("mozart-kern"))
    ids = torch.randint(0, len(config["vocab"]), (2, 300), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref, _ = model(ids)
        first, state = model(ids[:, :1])
    step = model.fast_step(state)
    got = np.stack([first[:, 0].numpy()] + [step(ids[:, t].numpy()) for t in range(1, 300)], 1)
    # float32 rounding only: the largest logits are ~15
    assert np.abs(got - ref.numpy()).max() < 1e-4


def test_no_numpy_step_where_dropout_is_on():
    model = _lstm().train()
    assert model.fast_step(model.init_state(1)) is None


def test_same_seed_same_samples_and_batch_rows_differ():
    model = _lstm()
    for opt in (SamplingOptions(), SamplingOptions(temperature=0.7, top_k=5, top_p=0.9), SamplingOptions(random_freq=0.3, trunc=3)):
        a = sample_ids(model, [1, 2, 3], 3, 200, opt, seed=4)
        b = sample_ids(model, [1, 2, 3], 3, 200, opt, seed=4)
        c = sample_ids(model, [1, 2, 3], 3, 200, opt, seed=5)
        assert a == b and a != c
        assert a[0] != a[1] != a[2]
        assert all(0 <= t < 40 for row in a for t in row)


class _TorchOnly(torch.nn.Module):
    """The same model without its numpy step: sample_ids then runs the plain torch loop."""

    def __init__(self, model):
        super().__init__()
        self.m = model

    def init_state(self, n):
        return self.m.init_state(n)

    def forward(self, idx, state=None):
        return self.m(idx, state)


@pytest.mark.parametrize("opt", [SamplingOptions(), SamplingOptions(temperature=0.7, top_k=9, top_p=0.9, min_p=0.01),
                                 SamplingOptions(random_freq=0.4, trunc=4)])
def test_numpy_loop_draws_the_torch_loops_tokens(opt):
    model = _lstm()
    fast = sample_ids(model, [1, 2, 3], 3, 300, opt, seed=11)
    assert fast == sample_ids(_TorchOnly(model), [1, 2, 3], 3, 300, opt, seed=11)


def test_constrained_numpy_loop_draws_and_counts_as_the_torch_loop():
    model, config = load_run(resolve("mozart-kern"))
    codec = get_codec(config["codec"], config["codec_options"])
    vocab, context = config["vocab"], config.get("context", {})
    prime_text = codec.default_prime(vocab)
    prime = [vocab.index(c) for c in prime_text]
    got = {}
    for name, m in (("numpy", model), ("torch", _TorchOnly(model))):
        con = codec.constraint(vocab, context, 2, prime_text)
        got[name] = (sample_ids(m, prime, 2, 400, SamplingOptions(temperature=1.2), 7, constraint=con), con.forced)
    assert got["numpy"] == got["torch"]
    assert sum(got["numpy"][1]) > 0  # the checker did change some steps


def test_top_k_of_one_and_trunc_of_one_are_greedy_on_the_numpy_path():
    model = _lstm()
    state = model.init_state(1)
    with torch.no_grad():
        logits, state = model(torch.tensor([[5]]), state)
        seq, last = [], logits[:, -1]
        for _ in range(50):  # greedy in torch, step by step
            nxt = last.argmax(-1)
            seq.append(int(nxt))
            logits, state = model(nxt[:, None], state)
            last = logits[:, -1]
    assert sample_ids(model, [5], 1, 50, SamplingOptions(top_k=1), seed=0)[0] == seq
    assert sample_ids(model, [5], 1, 50, SamplingOptions(trunc=1, random_freq=1.0), seed=1)[0] == seq


@pytest.mark.parametrize("opt", [SamplingOptions(temperature=0.6), SamplingOptions(top_k=7), SamplingOptions(top_p=0.8),
                                 SamplingOptions(min_p=0.1), SamplingOptions(temperature=1.4, top_k=20, top_p=0.95, min_p=0.02)])
def test_numpy_filters_keep_the_tokens_torch_keeps(opt):
    logits = torch.randn(6, 90, generator=torch.Generator().manual_seed(2)) * 3
    ref = filter_logits(logits, opt)
    got = filter_logits_np(logits.numpy(), opt)
    assert (np.isinf(got) == torch.isinf(ref).numpy()).all()
    kept = ~np.isinf(got)
    assert np.allclose(got[kept], ref.numpy()[kept], atol=1e-6)


def test_gumbel_draws_follow_the_distribution():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((1, 30)).astype(np.float32) * 2
    draws = choose_np(np.repeat(logits, 20000, 0), SamplingOptions(), rng.gumbel(size=(20000, 30)), rng.random(20000))
    p = np.exp(logits[0] - logits.max()) / np.exp(logits[0] - logits.max()).sum()
    assert np.abs(np.bincount(draws, minlength=30) / 20000 - p).max() < 0.015
    hot = SamplingOptions(temperature=0.5)
    draws = choose_np(np.repeat(logits, 20000, 0), hot, rng.gumbel(size=(20000, 30)), rng.random(20000))
    p = np.exp(2 * (logits[0] - logits.max())) / np.exp(2 * (logits[0] - logits.max())).sum()
    assert np.abs(np.bincount(draws, minlength=30) / 20000 - p).max() < 0.015


def test_masked_draw_keeps_the_free_draw_where_it_is_allowed():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 25)).astype(np.float32)
    mask = rng.random((5, 25)) < 0.4
    mask[:, 3] = True
    rows = np.arange(5)
    for opt in (SamplingOptions(), SamplingOptions(temperature=0.7)):  # tail cuts move with the mask
        changed = 0
        for _ in range(100):
            free, chosen = choose_masked_np(logits, mask, opt, rng.gumbel(size=(5, 25)), rng.random(5))
            assert mask[rows, chosen].all()
            ok = mask[rows, free]
            assert (chosen[ok] == free[ok]).all()  # masking only removes the free draw's rivals
            changed += int((~ok).sum())
        assert 0 < changed < 500


def test_constrained_numpy_sampling_is_valid_kern_and_reproducible(tmp_path):
    a = generate("mozart-kern", tmp_path / "a", n=2, length=1500, seed=3, formats=("krn",))
    b = generate("mozart-kern", tmp_path / "b", n=2, length=1500, seed=3, formats=("krn",))
    assert [s.files["krn"].read_bytes() for s in a] == [s.files["krn"].read_bytes() for s in b]
    assert a[0].text != a[1].text
    for s in a:
        assert s.stats["constrained"] and isinstance(s.stats["forced_steps"], int)
        v = kern_validity(s.files["krn"].read_text())
        assert v["parsed"], v.get("error")
        assert v["bars"] >= 4 and v["bars_ok"] == v["bars"], v["bad_bars"]


def test_the_numpy_loop_puts_openblas_on_one_thread_and_back():
    found = _openblas()
    if not found:
        pytest.skip("no OpenBLAS loaded in this process")
    before = [get() for _, get in found]
    with one_blas_thread():
        assert [get() for _, get in found] == [1] * len(found)
    assert [get() for _, get in found] == before
