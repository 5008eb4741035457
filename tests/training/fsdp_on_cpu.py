"""``diception`` with accelerate's FSDP allowed on CPU processes, for the two-process FSDP test.

accelerate only turns its FSDP plugin on when the processes have GPUs; on CPUs it quietly runs DDP. PyTorch's
FSDP2 itself runs over gloo on CPUs, so this launcher flips accelerate's choice to FSDP when the plugin is
given and changes nothing else: sharding (``fully_shard`` per block), gradient clipping, the state-dict gather
and the sharded checkpoints are accelerate's and PyTorch's own code. Run as
``accelerate launch ... tests/training/fsdp_on_cpu.py train --config ...``.
"""

from __future__ import annotations

import sys

from accelerate.state import AcceleratorState, PartialState
from accelerate.utils import DistributedType

_init = AcceleratorState.__init__


def _init_allowing_fsdp_on_cpu(self, *args, fsdp_plugin=None, **kwargs) -> None:
    _init(self, *args, fsdp_plugin=fsdp_plugin, **kwargs)
    if fsdp_plugin is not None and self.distributed_type == DistributedType.MULTI_CPU:
        self.distributed_type = DistributedType.FSDP
        self.fsdp_plugin = fsdp_plugin
        PartialState._shared_state["distributed_type"] = DistributedType.FSDP  # later AcceleratorState() reads it


AcceleratorState.__init__ = _init_allowing_fsdp_on_cpu

if __name__ == "__main__":
    from diception.cli.main import main

    sys.exit(main(sys.argv[1:]))
