"""Splitting a job's records over machines (``--shard INDEX/COUNT``) and over the processes of an
``accelerate launch``: every record is done exactly once, by the shard its position in the dataset names."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import DiceptionInputError


@dataclass(frozen=True)
class Shard:
    """Records ``j`` with ``j % count == index`` (a SLURM array task, one machine), and within those, every
    ``processes``-th one from ``process`` (the processes of one ``accelerate launch``)."""

    index: int = 0
    count: int = 1
    process: int = 0
    processes: int = 1

    def holds(self, position: int) -> bool:
        """Whether the record at ``position`` (0-based, in the dataset's order) is this shard's."""
        return position % self.count == self.index and (position // self.count) % self.processes == self.process

    @property
    def is_main(self) -> bool:
        """The process that reports for this machine's shard."""
        return self.process == 0

    def __str__(self) -> str:
        machine = f"shard {self.index}/{self.count}" if self.count > 1 else ""
        process = f"process {self.process}/{self.processes}" if self.processes > 1 else ""
        return ", ".join(p for p in (machine, process) if p) or "all records"


def parse_shard(text: str | None) -> Shard:
    """``"INDEX/COUNT"`` (``0 <= INDEX < COUNT``) -> a :class:`Shard`; ``None`` -> every record."""
    if text is None:
        return Shard()
    index, sep, count = text.partition("/")
    try:
        shard = Shard(int(index), int(count))
    except ValueError:
        shard = None
    if not sep or shard is None or not 0 <= shard.index < shard.count:
        raise DiceptionInputError(f"--shard '{text}' must be INDEX/COUNT with 0 <= INDEX < COUNT, e.g. --shard 0/4")
    return shard


def launched_processes() -> tuple[int, int]:
    """``(this process, processes)`` of an ``accelerate launch`` / ``torchrun``; ``(0, 1)`` otherwise."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    state = process_state()
    return state.process_index, state.num_processes


def process_state():
    """accelerate's state of this process (set up once): gloo on CPUs when no GPU is present."""
    import torch
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def this_process_shard(text: str | None) -> Shard:
    """The ``--shard`` flag's shard, split further over the processes this command was launched with."""
    shard = parse_shard(text)
    process, processes = launched_processes()
    return Shard(shard.index, shard.count, process, processes)


def wait_for_all_processes() -> None:
    """Block until every process of a multi-process launch gets here (nothing to wait for otherwise)."""
    if launched_processes()[1] > 1:
        process_state().wait_for_everyone()
