"""Subcommands that live in modules of their own (see ``qabook.cli.COMMAND_MODULES``)."""
