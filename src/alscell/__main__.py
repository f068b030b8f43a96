"""``python -m alscell`` runs the command-line interface."""

from alscell.cli import main

main()
