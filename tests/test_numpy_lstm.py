"""A run opened for sampling reads an LSTM's weights straight into numpy: the same network as the
torch one (its logits to float32 rounding), and a damaged weights file is a one-line error."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from cadenza import CadenzaError
from cadenza.generation.run import open_run
from cadenza.models.numpy_lstm import NumpyLSTM
from cadenza.models.pretrained import resolve


def test_the_weights_read_into_numpy_are_the_torch_networks():
    run = open_run("mozart-kern")
    lstm = run.sampler
    assert isinstance(lstm, NumpyLSTM) and "torch" not in type(lstm).__module__
    prime = [run.vocab.index(c) for c in run.codec.default_prime(run.vocab)]
    logits, step = lstm.start(prime, 3)
    with torch.no_grad():
        ref, _ = run.model(torch.tensor([prime]), None)
    assert logits.shape == (3, len(run.vocab)) and (logits == logits[0]).all()
    assert np.abs(logits[0] - ref[0, -1].numpy()).max() < 1e-4
    h, c = step.state()
    size = run.config["model"]["rnn_size"]
    assert h.shape == c.shape == (run.config["model"]["num_layers"], 3, size)


def test_a_damaged_weights_file_is_a_one_line_error(tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(resolve("mozart-kern"), folder)
    weights = folder / "best.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])
    with pytest.raises(CadenzaError, match=r"best\.safetensors: cannot read the weights") as err:
        open_run(folder).sampler
    assert "\n" not in str(err.value)


def test_weights_of_another_shape_are_named(tmp_path):
    from safetensors.numpy import load_file, save_file

    folder = tmp_path / "run"
    shutil.copytree(resolve("mozart-kern"), folder)
    weights = load_file(str(folder / "best.safetensors"))
    del weights["head.bias"]
    save_file(weights, str(folder / "best.safetensors"))
    with pytest.raises(CadenzaError, match=r"best\.safetensors: weights do not match the model in config\.json \(KeyError: 'head\.bias'\)"):
        open_run(folder).sampler
