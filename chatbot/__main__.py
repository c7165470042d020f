"""``python -m chatbot`` runs the CLI."""

from chatbot.cli import main

main()
