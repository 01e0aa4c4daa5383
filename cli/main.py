"""``bea``: derive, print, generate and check modified flows of optimizers.

Commands are imported when they run (:class:`LazyGroup`), so ``bea derive``, ``bea
schemes`` and ``bea --help`` never import the numerical stack (jax, diffrax, equinox,
matplotlib) that ``check`` and ``drift`` need.

Ctrl-C anywhere ends with one line and exit status 130: while this module imports click
(caught below), while a command is imported or runs (:meth:`LazyGroup.invoke`), and also
when a library swallows the ``KeyboardInterrupt`` (mpmath wraps its import of gmpy2 in a
bare ``except:``): :meth:`LazyGroup.main` records every SIGINT (:func:`_on_sigint`), and
a run that was interrupted ends with 130 whatever it did next. Outputs are written whole
or not at all (:mod:`bea._files`), so an interrupted run leaves them as they were.
"""

from __future__ import annotations

import sys

try:
    import importlib
    import signal
    import threading

    import click
except KeyboardInterrupt:  # Ctrl-C while the command line itself is being imported
    sys.stderr.write("bea: interrupted\n")
    sys.exit(130)

_interrupted = False
"""Whether SIGINT arrived during the current :meth:`LazyGroup.main`."""


def _on_sigint(signum, frame):
    """Python's default SIGINT handler (raise ``KeyboardInterrupt``), recording the signal."""
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt

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
        command = getattr(importlib.import_module(module, __package__), attr)
        if _interrupted:  # Ctrl-C arrived while importing, and an import swallowed it
            raise KeyboardInterrupt
        return command

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("bea: interrupted", err=True)
            ctx.exit(130)

    def main(self, *args, **kwargs):
        """Click's ``main`` with SIGINT recorded: an interrupted run exits 130 even where
        the ``KeyboardInterrupt`` was swallowed or turned into another exit."""
        global _interrupted
        _interrupted = False
        watch = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, _on_sigint) if watch else None
        try:
            result = super().main(*args, **kwargs)
        except SystemExit as exc:
            if _interrupted and exc.code != 130:
                click.echo("bea: interrupted", err=True)
                sys.exit(130)
            raise
        finally:
            if watch and previous is not None:
                signal.signal(signal.SIGINT, previous)
        if _interrupted:
            click.echo("bea: interrupted", err=True)
            sys.exit(130)
        return result


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
