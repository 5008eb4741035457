"""The command line answers ``--help`` and argument errors without loading torch, diffusers or transformers
(their imports take seconds); a command imports them when it runs."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "diffusers", "transformers", "peft", "accelerate", "scipy", "matplotlib")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_help_and_argument_errors_load_no_heavy_library():
    loaded = _modules_after(
        "import contextlib, io\n"
        "from diception.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    assert main(['--help']) == 0 and main(['predict', '--help']) == 0\n"
        "    assert main(['predict', 'x.png', '--task', 'nope']) == 2\n"
        "    assert main(['eval', '--help']) == 0 and main(['train', '--help']) == 0\n"
    )
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_importing_the_package_and_its_tasks_loads_no_heavy_library():
    loaded = _modules_after("import diception, diception.tasks, diception.data.manifest, diception.jobs")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
