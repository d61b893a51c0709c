"""Run `cordial-bridge ...` under pyinstrument with async mode off, and save the session.

    python bench/profiled.py OUT.pyisession run --direction inbound --config FILE

Async mode off: a sample taken while the event loop waits shows up as the loop's own idle frame
(`select`/`run_forever`), not charged to the coroutine that awaits. So the tree shows where the
worker's CPU goes, which is what matters for throughput. The session is written however the
command ends (SIGTERM → graceful stop → SystemExit).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyinstrument import Profiler


def main() -> None:
    out = Path(sys.argv[1])
    sys.argv = ["cordial-bridge", *sys.argv[2:]]
    from processor.cli import main as cli

    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    try:
        cli()
    finally:
        session = profiler.stop()
        session.save(str(out))


if __name__ == "__main__":
    main()
