"""``python -m spola`` runs the command line."""

from spola.cli.app import main

main()
