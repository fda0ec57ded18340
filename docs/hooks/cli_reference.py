"""MkDocs hook: the command reference (docs/cli.md) made from the parsers themselves.

``<!-- cli-reference -->`` in a page becomes every verb's ``--help`` text, from
:func:`app.build_parser`, when the docs are built: the reference cannot drift from the code.
Building the parsers imports no model library (each verb imports what it needs when it runs).
"""

import sys
from pathlib import Path

PLACEHOLDER = "<!-- cli-reference -->"
ROOT = Path(__file__).resolve().parents[2]
#: The width the help text is wrapped at (argparse reads it from COLUMNS).
WIDTH = 100


def cli_reference():
    """Markdown: one section per verb, its ``--help`` as argparse prints it."""
    import os

    sys.path.insert(0, str(ROOT))
    os.environ["COLUMNS"] = str(WIDTH)
    import app

    parser = app.build_parser()
    verbs = next(action for action in parser._actions if action.dest == "verb")  # argparse's subparsers
    sections = []
    for verb, verb_parser in verbs.choices.items():
        sections.append(f"### {verb}\n\n```text\n{verb_parser.format_help().rstrip()}\n```\n")
    return "\n".join(sections)


def on_page_markdown(markdown, page, config, files):
    if PLACEHOLDER not in markdown:
        return markdown
    return markdown.replace(PLACEHOLDER, cli_reference())
