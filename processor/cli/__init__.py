"""The `cordial-bridge` command: a click group with one thin module per verb.

Verbs parse options, load settings, call one library function and map its result to an exit
code: 0 success, 1 failure, 2 usage or config error.
"""

from __future__ import annotations

import importlib

import click

from processor import __version__

# (module under processor.cli, attribute) for every verb; imported lazily so that a verb's
# heavy dependencies (confluent-kafka, uvicorn) load only when it runs.
_VERBS: dict[str, tuple[str, str]] = {
    "run": ("run", "run"),
    "translate": ("translate", "translate"),
    "dlq": ("dlq", "dlq"),
    "check-auth": ("check_auth", "check_auth"),
    "topics": ("topics", "topics"),
    "emulate": ("emulate", "emulate"),
    "demo": ("demo", "demo"),
    "cordial-integration": ("cordial_integration", "cordial_integration"),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _VERBS.get(cmd_name)
        if target is None:
            return None
        module = importlib.import_module(f"processor.cli.{target[0]}")
        command = getattr(module, target[1])
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cordial-bridge")
def cli() -> None:
    """Self-hosted, bidirectional Segment <-> Cordial stream processor on Apache Kafka."""


def main() -> None:
    cli(prog_name="cordial-bridge")
