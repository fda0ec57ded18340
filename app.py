"""ML Sample Generator: the command line.

This file only parses the command line and hands off. Each verb lives in a thin module
under ``commands/`` that declares its own options (``add_arguments``) and does its work
(``run``). A verb's heavy imports (TensorFlow, librosa) happen inside its ``run``, so
``python app.py`` puts the window on screen before TensorFlow is loaded.

Exit status: 0 on success, 2 for usage errors, 1 when nothing could be done.
"""

import argparse
import importlib
import sys

# verb -> (module under commands/, one-line help)
VERBS = {
    "gui": ("gui", "open the evaluation window (the default)"),
    "preprocess": ("preprocess", "turn drum one-shots into a training dataset folder"),
    "train": ("train", "train models on a preprocessed dataset"),
    "generate": ("generate", "decode latent points of a model to WAV files"),
    "encode": ("encode", "encode an audio file to a model's latent point"),
    "play": ("play", "play a latent point of a model, or a WAV file"),
    "evaluate": ("evaluate", "measure and compare models on a dataset"),
    "models": ("models", "list the models and their state"),
    "serve": ("serve", "serve the web app: a page that makes a drum sound for anyone"),
    "kit": ("kit", "make a drum kit (Hydrogen .h2drumkit or a folder) from points or favourites"),
    "bench": ("bench", "run the speed benchmarks and print ratios"),
    "import-model": ("import_model", "import a Keras or ONNX decoder (a latent of any size) into your zoo"),
}


def build_parser():
    from commands import one_line_errors

    parser = argparse.ArgumentParser(
        prog="app.py",
        description="Audition, compare and save sounds from generative drum-sample models.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (module_name, help_text) in VERBS.items():
        module = importlib.import_module(f"commands.{module_name}")
        verb_parser = sub.add_parser(verb, help=help_text, description=module.__doc__)
        module.add_arguments(verb_parser)
        verb_parser.set_defaults(module=module)
        one_line_errors(verb_parser)
    one_line_errors(parser)
    return parser


def main(argv=None):
    from commands import CommandFailed, UsageError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        args = parser.parse_args(["gui", *(argv or [])] if argv is not None else ["gui"])
    try:
        return int(args.module.run(args) or 0)
    except UsageError as error:
        print(f"app.py {args.verb}: {error}", file=sys.stderr)
        return 2
    except CommandFailed as error:
        print(f"app.py {args.verb}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"app.py {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
