"""Training one model on several processes (torchrun): who this process is, and what it shares.

`World` is read from the variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK,
LOCAL_WORLD_SIZE); without them a process is a world of one and nothing here communicates.
`Replicas` holds the process group of a run: it wraps the sides' forward in
DistributedDataParallel (gradients are averaged across processes during backward), or with
`parallel="fsdp"` shards every sub-model's weights over the processes (FSDP2 `fully_shard`),
and makes the few decisions every process must take together (skip a non-finite step, stop,
the logged loss). Checkpoints always hold the full, plain weights.
"""
from __future__ import annotations

import collections
import contextlib
import datetime
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from phaze.errors import ConfigError, PhazeError
from phaze.model.side_output import SideOutput
from phaze.sides import SIDES

# How long a process waits for the others in one collective before giving up: long enough for
# a slow save by rank 0 (the others wait in the next all-reduce), short enough that a hung peer
# is reported rather than waited on forever.
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=10)


class DistributedError(PhazeError):
    """Another training process failed or was stopped, so this one cannot go on."""


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> World:
        names = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")
        if "WORLD_SIZE" not in environ:
            return cls()
        described = ", ".join(f"{n}={environ.get(n)!r}" for n in names)
        try:
            size = int(environ["WORLD_SIZE"])
            rank, local_rank = int(environ.get("RANK", 0)), int(environ.get("LOCAL_RANK", 0))
            local_size = int(environ.get("LOCAL_WORLD_SIZE", size))
        except ValueError:
            raise ConfigError(f"torchrun's variables are not integers: {described}") from None
        if not (0 <= rank < size and 0 <= local_rank < local_size <= size):
            raise ConfigError(f"torchrun's variables do not fit together: {described}")
        return cls(rank, size, local_rank, local_size)

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes every file of the run; the others only train."""
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """A process's own GPU: cuda:LOCAL_RANK when the run asked for plain "cuda"."""
        if device.type == "cuda" and device.index is None and self.distributed:
            return torch.device("cuda", self.local_rank)
        return device

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % self.world_size:
            raise ConfigError(
                f"trainer option 'batch_size' = {batch_size} is invalid for {self.world_size} "
                f"processes: the batch (faces per side per step, over all processes) must be "
                f"a multiple of {self.world_size}")


class SidesForward(nn.Module):
    """The model's per-side forward as one module call ({side: inputs} → {side: outputs}),
    so DistributedDataParallel sees every forward and reduces the gradients it makes."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: dict[str, torch.Tensor]) -> dict[str, SideOutput]:
        return {side: self.model.side_forward(x, side) for side, x in inputs.items()}


class Replicas:
    """The processes training one model, or just this one (`World()`: no communication)."""

    def __init__(self, world: World, device: torch.device, parallel: str = "ddp") -> None:
        self.world = world
        self.parallel = parallel
        self._sharded_root: nn.Module | None = None
        self._owns_group = False
        self._talking = world.distributed
        # The last tensors handed to a collective, kept alive until the group is gone: gloo's
        # threads let go of their last work only when the group is destroyed, and if theirs
        # were the last reference to a tensor made in Python, they would need the GIL that the
        # destroying thread holds (a deadlock at exit).
        self._pinned: collections.deque[torch.Tensor] = collections.deque(maxlen=16)
        if world.distributed and not dist.is_initialized():
            if device.type == "cuda":
                torch.cuda.set_device(device)
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                    timeout=COLLECTIVE_TIMEOUT)
            self._owns_group = True
        # NCCL reduces CUDA tensors only; gloo takes CPU ones.
        self._device = device if device.type == "cuda" and world.distributed else \
            torch.device("cpu")

    # --- the model ------------------------------------------------------------------------
    @property
    def sharded(self) -> bool:
        return self.parallel == "fsdp" and self.world.distributed

    def shard(self, model: nn.Module) -> None:
        """FSDP2: split each sub-model's weights (then gradients and optimiser state) over the
        processes. Parameters become DTensor shards, so build the optimiser after this."""
        from torch.distributed.fsdp import fully_shard

        for submodel in model.submodels().values():
            fully_shard(submodel)
        self._sharded_root = fully_shard(SidesForward(model))

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module a step calls: the sides' forward, wrapped in DDP when there are peers.

        DDP broadcasts rank 0's weights and buffers now, so every process starts from the same
        model. A side that skips sub-models (split FC, G-Block or decoders) leaves their
        parameters out of its graph, which DDP must be told to look for.
        """
        if self._sharded_root is not None:
            return self._sharded_root
        sides = SidesForward(model)
        if not self.world.distributed:
            return sides
        routes = [model.route(side) for side in SIDES]
        device_ids = [self._device.index] if self._device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(
            sides, device_ids=device_ids, find_unused_parameters=routes[0] != routes[1])

    @staticmethod
    def accumulating(module: nn.Module) -> contextlib.AbstractContextManager:
        """Backward inside adds gradients locally; the next synced backward reduces them all.

        Only DDP: FSDP reduces a sub-model's gradients in that sub-model's own backward, and
        a side's decoder has no backward on the other side, so each side reduces its own.
        """
        if isinstance(module, nn.parallel.DistributedDataParallel):
            return module.no_sync()
        return contextlib.nullcontext()

    # --- full state from shards -------------------------------------------------------------
    def full_state(self, model: nn.Module, optimizer: torch.optim.Optimizer
                   ) -> tuple[dict[str, torch.Tensor], dict]:
        """(weights, optimiser state) as one process holds them, for a checkpoint.

        Sharded: every process must call this (the shards are gathered); rank 0 gets the
        full state on the CPU, the others empty dicts. The optimiser state is keyed by
        parameter index in the optimiser's order, as `Optimizer.state_dict()` is.
        """
        if not self.sharded:
            return model.state_dict(), optimizer.state_dict()
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions, get_model_state_dict, get_optimizer_state_dict)

        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        weights = get_model_state_dict(model, options=options)
        by_name = get_optimizer_state_dict(model, optimizer, options=options)
        if not by_name:
            return weights, {"state": {}, "param_groups": []}
        index = {name: i for i, name in enumerate(
            name for group in by_name["param_groups"] for name in group["params"])}
        return weights, {
            "state": {index[name]: values for name, values in by_name["state"].items()},
            "param_groups": [dict(group, params=[index[n] for n in group["params"]])
                             for group in by_name["param_groups"]]}

    def optimizer_loader(self, model: nn.Module, optimizer: torch.optim.Optimizer):
        """What loads a full (index-keyed) optimiser state into this run's optimiser."""
        if not self.sharded:
            return optimizer.load_state_dict
        from torch.distributed.checkpoint.state_dict import (
            StateDictOptions, set_optimizer_state_dict)

        names = {id(p): name for name, p in model.named_parameters()}
        order = [names[id(p)] for group in optimizer.param_groups for p in group["params"]]

        def load(state_dict: dict) -> None:
            if not state_dict["state"]:   # nothing saved (e.g. SGD): this run's groups stand
                return
            by_name = {"state": {order[i]: v for i, v in state_dict["state"].items()},
                       "param_groups": [dict(g, params=[order[i] for i in g["params"]])
                                        for g in state_dict["param_groups"]]}
            set_optimizer_state_dict(model, optimizer, by_name,
                                     options=StateDictOptions(full_state_dict=True))
        return load

    # --- decisions taken together --------------------------------------------------------
    def all_true(self, flag: torch.Tensor | bool) -> bool:
        """True only when `flag` is true on every process (e.g. every loss is finite)."""
        if not self._talking:
            return bool(flag)
        value = torch.as_tensor(flag, dtype=torch.int32, device=self._device).reshape(1)
        self._all_reduce(value, dist.ReduceOp.MIN)
        return bool(value.item())

    def any_true(self, flag: bool) -> bool:
        return not self.all_true(not flag)

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Each value averaged over the processes (every process has the same keys)."""
        if not self._talking or not values:
            return values
        keys = sorted(values)
        stacked = torch.tensor([values[k] for k in keys], dtype=torch.float64,
                               device=self._device)
        self._all_reduce(stacked, dist.ReduceOp.SUM)
        return dict(zip(keys, (stacked / self.world.world_size).tolist()))

    def _all_reduce(self, tensor: torch.Tensor, op: dist.ReduceOp) -> None:
        self._pinned.append(tensor)
        try:
            dist.all_reduce(tensor, op=op)
        except (RuntimeError, dist.DistError) as error:
            raise self.lost(error) from error

    def lost(self, error: BaseException) -> DistributedError:
        """The error to stop with when a collective failed: a peer died or was stopped."""
        self._talking = False
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else \
            type(error).__name__
        return DistributedError(
            f"rank {self.world.rank}: lost contact with the other training processes "
            f"({first_line[:200]}); stopping without saving")

    def close(self) -> None:
        """Leave the process group. Drop the DDP wrapper first (TrainStep.close), so this, not
        the wrapper's garbage collection, is what destroys the group (see `_pinned`)."""
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self._owns_group = False
        self._pinned.clear()


@contextlib.contextmanager
def collectives_guard(replicas: Replicas) -> Iterator[None]:
    """Turn a failed collective inside the step (DDP's gradient all-reduce) into the one-line
    DistributedError; a single process has nothing to guard."""
    if not replicas.world.distributed:
        yield
        return
    try:
        yield
    except DistributedError:
        raise
    except (RuntimeError, dist.DistError) as error:
        if not _is_communication_error(error):
            raise
        raise replicas.lost(error) from error


def _is_communication_error(error: BaseException) -> bool:
    if isinstance(error, dist.DistError):
        return True
    text = str(error).lower()
    return any(word in text for word in ("gloo", "nccl", "connection", "peer", "socket",
                                         "timed out", "timeout"))
