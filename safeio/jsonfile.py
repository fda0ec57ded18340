"""Reading a JSON file the project or a user wrote, with bounds on its size and depth.

A card, a metrics cache, ``families.json`` or a favourite's sidecar may be damaged or
hostile: 1.5 GB long, or nested 200,000 levels deep. :func:`read_json` reads at most
``max_bytes`` (decided from the file's size before reading), refuses nesting deeper than
``max_depth``, and turns every failure into :class:`UnreadableJson`, whose ``str()`` is one
line naming the file and the reason, so the caller marks that one file unusable and goes on.
"""

import json
import os
from pathlib import Path

from safeio.regular import NotARegularFile, open_regular

#: Bounds that every file the project writes stays far inside (a card is a few kB).
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64


class UnreadableJson(ValueError):
    """A JSON file that cannot be used; ``str()`` is ``"PATH: reason"``.

    ``not_a_file`` is True when something other than a regular file has the name (a FIFO,
    a device, a folder): the reason then says what it is, and callers pass it on as it is
    rather than calling the file damaged.
    """

    def __init__(self, message, *, not_a_file=False):
        super().__init__(message)
        self.not_a_file = not_a_file


def _depth_within(value, limit):
    """True when ``value`` nests no deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


def parse_json(text, *, max_depth=MAX_JSON_DEPTH):
    """Parse ``text`` (str or bytes) to a value, refusing nesting deeper than ``max_depth``.

    Raises
    ------
    ValueError
        The reason alone, a short sentence ("nested deeper than 64 levels",
        "not JSON (Expecting value at line 1)").
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"nested deeper than {max_depth} levels") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg} at line {error.lineno})") from None
    if not _depth_within(value, max_depth):
        raise ValueError(f"nested deeper than {max_depth} levels")
    return value


def read_json(path, *, max_bytes=MAX_JSON_BYTES, max_depth=MAX_JSON_DEPTH):
    """Read and parse the JSON file ``path`` within bounds.

    Parameters
    ----------
    path : str or Path
    max_bytes : int
        Larger files are refused before any of them is read.
    max_depth : int
        Deeper nesting (objects and arrays) is refused.

    Returns
    -------
    object
        The parsed value.

    Raises
    ------
    UnreadableJson
        ``"PATH: reason"``: missing, unreadable (permission), not a regular file (a FIFO,
        a device, a folder: ``not_a_file`` set), too large, not UTF-8, not JSON, or nested
        too deeply.
    """
    path = Path(path)
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise UnreadableJson(f"{path}: too large ({size:,} bytes; at most {max_bytes:,})")
            data = handle.read(max_bytes + 1)
    except UnreadableJson:
        raise
    except NotARegularFile as error:
        raise UnreadableJson(str(error), not_a_file=True) from None
    except OSError as error:
        raise UnreadableJson(f"{path}: cannot read ({error.strerror or error})") from None
    if len(data) > max_bytes:  # a file that grew, or one whose size the system does not know
        raise UnreadableJson(f"{path}: too large (more than {max_bytes:,} bytes)")
    try:
        return parse_json(data, max_depth=max_depth)
    except ValueError as error:
        raise UnreadableJson(f"{path}: {error}") from None
