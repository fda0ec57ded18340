"""List the registry's models and their state in the zoo folder: trained or not (and why),
parameters, size on disk, the data they were trained on and for how many epochs.
Reads the model cards only, so it answers at once (no TensorFlow)."""

import os
from pathlib import Path

from commands.options import add_zoo_argument


def add_arguments(parser):
    add_zoo_argument(parser)


def _size(size_bytes):
    if size_bytes <= 0:
        return "-"
    if size_bytes < 2**20:
        return f"{size_bytes / 2**10:.0f} KiB"
    return f"{size_bytes / 2**20:.1f} MiB"


def table_rows(statuses):
    """Rows of strings for the table (header first)."""
    rows = [("name", "trained", "parameters", "size", "data", "epochs")]
    for s in statuses:
        trained = (f"yes, but {s.note}" if s.note else "yes") if s.trained else f"no: {s.reason}"
        if s.imported and s.trained:
            trained = f"yes (imported: {s.imported})"
        rows.append(
            (
                s.name,
                trained,
                f"{s.parameters:,}" if s.parameters is not None else "-",
                _size(s.size_bytes),
                Path(s.data).name if s.data else "-",
                str(s.epochs) if s.epochs is not None else "-",
            )
        )
    return rows


def run(args):
    from commands import CommandFailed
    from models.zoo import list_models

    try:
        os.listdir(args.models)
    except (FileNotFoundError, NotADirectoryError):
        raise CommandFailed(f"{args.models}: no such folder (the zoo folder holds one folder per model)") from None
    except OSError as error:  # a zoo folder this user may not read: one line, not 15
        raise CommandFailed(f"{args.models}: cannot read ({error.strerror or error})") from None
    statuses = list_models(args.models, imported=True)  # a model folder that cannot be read is its own reason
    rows = table_rows(statuses)
    # The reason can be long (a path): it goes last-but-not-wrapped, so measure the others.
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    widths[1] = min(widths[1], 48)
    for row in rows:
        cells = [
            row[0].ljust(widths[0]),
            row[1].ljust(widths[1]),
            row[2].rjust(widths[2]),
            row[3].rjust(widths[3]),
            row[4].ljust(widths[4]),
            row[5].rjust(widths[5]),
        ]
        print("  ".join(cells).rstrip())
    trained = sum(s.trained for s in statuses)
    total = sum(s.size_bytes for s in statuses)
    print(f"{trained} of {len(statuses)} trained in {args.models}/ ({_size(total)})")
    return 0
