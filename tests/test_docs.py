"""The documentation a newcomer finds: the README's links lead somewhere, every page is in the
site's navigation, and the command reference is made from the parsers (so it lists every verb
and every option the code has). CI builds the site itself with ``mkdocs build --strict``."""

import re
import sys
from pathlib import Path

import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_every_relative_link_of_the_readme_and_the_pages_leads_to_a_file():
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)", page.read_text()):
            if "://" not in target:
                assert (page.parent / target).is_file(), f"{page.relative_to(ROOT)} links to {target}"


def test_every_page_is_in_the_navigation():
    navigation = (ROOT / "mkdocs.yml").read_text()
    assert {path.name for path in DOCS.glob("*.md")} == set(re.findall(r":\s*([\w-]+\.md)$", navigation, re.M))


def test_the_command_reference_has_every_verb_and_option_of_the_parsers():
    sys.path.insert(0, str(DOCS / "hooks"))
    from cli_reference import PLACEHOLDER, cli_reference

    assert PLACEHOLDER in (DOCS / "cli.md").read_text()
    reference = cli_reference()
    parser = app.build_parser()
    verbs = next(action for action in parser._actions if action.dest == "verb")
    assert re.findall(r"^### (\S+)$", reference, re.M) == list(verbs.choices)
    for verb, verb_parser in verbs.choices.items():
        for action in verb_parser._actions:
            for option in action.option_strings:
                assert option in reference, f"{verb} {option}"
