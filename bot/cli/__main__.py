"""`python -m bot.cli`: the same as the `bihuan` command."""

from bot.cli import main

main()
