"""evaluate: not available yet."""
from commands import not_available_yet


def add_arguments(parser):
    pass


def run(args):
    not_available_yet("evaluate")
