"""Several processes, one model: DistributedDataParallel switched on by torchrun's environment.

``torchrun --nproc_per_node N -m cadenza train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; without them training is one plain process. gloo on CPU, nccl on GPUs; several
nodes come from torchrun's own rendezvous flags. Only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from cadenza import CadenzaError


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto``: a CUDA GPU, else Apple's MPS, else the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise CadenzaError("--device cuda: no CUDA GPU is visible to PyTorch")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise CadenzaError("--device mps: Apple's Metal backend is not available")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise CadenzaError(f"--device must be auto, cpu, cuda or mps, not {name!r}")


def setup(device: str) -> Dist:
    """Join the process group torchrun describes (or run alone)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(device=pick_device(device))
    import torch.distributed as dist

    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return Dist(rank, world, local, dev)


def all_sum(values: list[float], d: Dist) -> list[float]:
    """Element-wise sum over all processes (the validation loss is one sum over every shard)."""
    if not d.active:
        return values
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64, device=d.device if d.device.type == "cuda" else "cpu")
    dist.all_reduce(t)
    return t.tolist()


def check_in_sync(model: torch.nn.Module, d: Dist) -> None:
    """Every process must hold the same weights; a silent divergence would waste the run."""
    if not d.active:
        return
    import torch.distributed as dist

    with torch.no_grad():
        mine = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1).to("cpu" if d.device.type != "cuda" else d.device)
    every = [torch.zeros_like(mine) for _ in range(d.world)]
    dist.all_gather(every, mine)
    values = [t.item() for t in every]
    if max(values) - min(values) > 1e-6 * max(1.0, abs(values[0])):
        raise CadenzaError(f"distributed training: the processes' weights diverged ({values})")


def broadcast_value(value: float, d: Dist) -> float:
    """Rank 0's value for everyone: its clock, so every process takes the same learning rate and
    stops at the same step when time runs out (none then waits for another forever)."""
    if not d.active:
        return value
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64, device=d.device if d.device.type == "cuda" else "cpu")
    dist.broadcast(t, 0)
    return float(t.item())


def barrier(d: Dist) -> None:
    if d.active:
        import torch.distributed as dist

        dist.barrier()


def teardown(d: Dist) -> None:
    if d.active:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
