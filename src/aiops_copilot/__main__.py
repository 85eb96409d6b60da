"""``python -m aiops_copilot`` runs the CLI (the tests use this to run the real program)."""

from aiops_copilot.launch import main

main()
