"""The ``bea`` command-line application (click)."""
