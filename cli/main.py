"""``bea``: derive, print, generate and check modified flows of optimizers.

Commands are imported when they run (:class:`LazyGroup`), so ``bea derive``, ``bea
schemes`` and ``bea --help`` never import the numerical stack (jax, diffrax, equinox,
matplotlib) that ``check`` and ``drift`` need. Ctrl-C anywhere ends with one line and
exit status 130.
"""

from __future__ import annotations

import importlib

import click

COMMANDS = {
    "schemes": (".derive_cmd:schemes", "List the schemes and their options."),
    "derive": (".derive_cmd:derive_command", "Derive the modified flow (and modified loss) of a scheme or rule."),
    "catalogue": (".derive_cmd:catalogue", "Regenerate the catalogue of derived results."),
    "codegen": (".codegen_cmd:codegen", "Generate a JAX module with the modified field (and modified loss)."),
    "check": (".check_cmd:check", "Observed orders: one-cycle error of each truncated flow vs the iterates."),
    "drift": (".check_cmd:drift", "Symbolic vs simulated drift: iterates vs gradient flow vs modified flows."),
}
"""Command name → (``module:attribute`` relative to this package, one-line help shown by ``bea
--help``). Relative, because the folder ``cli/`` installs as the package ``bea_cli``."""


class LazyGroup(click.Group):
    """A click group whose commands (:data:`COMMANDS`) are imported on first use."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[name][0].partition(":")
        return getattr(importlib.import_module(module, __package__), attr)

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("bea: interrupted", err=True)
            ctx.exit(130)


def _version(ctx, _param, value):
    """``--version``: ``bea.__version__``, imported only when asked for."""
    if value and not ctx.resilient_parsing:
        from bea import __version__

        click.echo(f"bea, version {__version__}")
        ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version and exit.")
def main():
    """Backward error analysis of optimizers: the modified flow the iterates follow."""
