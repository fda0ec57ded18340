"""The command-line verbs: one thin module per verb over the library packages.

Each module has ``add_arguments(parser)``, which imports nothing heavy, and
``run(args) -> int``, which does the work. ``app.py`` turns the two exceptions below into
exit statuses 2 and 1 with a one-line message.
"""

import sys

#: What other packages use (the layering test holds them to this list).
__all__ = ["CommandFailed", "UsageError", "one_line_errors"]


class UsageError(Exception):
    """The command line asks for something that cannot mean anything (exit status 2)."""


class CommandFailed(Exception):
    """The command was understood but nothing could be done (exit status 1)."""


def one_line_errors(parser):
    """argparse's own errors (a value that is not a number, a missing option, an unknown
    argument) as one line, exit status 2, like the verbs' other usage errors (argparse would
    print its usage first). ``app.py`` applies it to every parser."""

    def error(message):
        print(f"{parser.prog}: {message}", file=sys.stderr)
        sys.exit(2)

    parser.error = error
