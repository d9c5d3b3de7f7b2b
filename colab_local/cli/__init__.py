"""``jupyter colab …``: the subcommands, each importing only what it uses."""
