"""`python -m processor` is the `cordial-bridge` command."""

from __future__ import annotations

from processor.cli import main

if __name__ == "__main__":
    main()
