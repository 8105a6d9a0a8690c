"""`python -m bench [NAME ...] [--options]`: run every benchmark module in bench/ (or the named ones).

A benchmark module defines `main(argv) -> int` (an exit code; it gets the --options) or `run() -> bool`
(True when its goals hold). The exit code is the worst of all of them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from types import ModuleType

import bench


def modules() -> list[str]:
    """Every bench/<name>.py that is a benchmark (private and dunder modules are not)."""
    return sorted(info.name for info in pkgutil.iter_modules(bench.__path__) if not info.name.startswith("_"))


def run_module(module: ModuleType, options: list[str]) -> int:
    """One benchmark's exit code, whichever entry point it has; SystemExit counts as a failure."""
    try:
        if hasattr(module, "main"):
            return int(module.main(options))
        if hasattr(module, "run"):
            return 0 if module.run() else 1
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return exc.code if isinstance(exc.code, int) and exc.code else 1
    except Exception:  # one broken benchmark must not hide the others' numbers
        traceback.print_exc()
        return 1
    print(f"bench: {module.__name__} has neither main(argv) nor run()", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    names = [arg for arg in argv if not arg.startswith("-")] or modules()
    options = [arg for arg in argv if arg.startswith("-")]
    unknown = sorted(set(names) - set(modules()))
    if unknown:
        print(
            f"bench: no benchmark named {', '.join(unknown)} (have: {', '.join(modules())})", file=sys.stderr
        )
        return 2
    worst = 0
    for name in names:
        print(f"=== bench.{name} ===", flush=True)
        worst = max(worst, run_module(importlib.import_module(f"bench.{name}"), options))
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
