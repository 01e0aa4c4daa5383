"""``bea``: derive, print, generate and check modified flows of optimizers."""

from __future__ import annotations

import click

from .check_cmd import check, drift
from .codegen_cmd import codegen
from .derive_cmd import catalogue, derive_command, schemes


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bea")
def main():
    """Backward error analysis of optimizers: the modified flow the iterates follow."""


main.add_command(schemes)
main.add_command(derive_command)
main.add_command(catalogue)
main.add_command(codegen)
main.add_command(check)
main.add_command(drift)
