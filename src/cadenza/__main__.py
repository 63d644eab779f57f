"""``python -m cadenza`` (and ``torchrun ... -m cadenza train ...``) runs the command line."""

from cadenza.cli import app

app()
