"""Reading Hydrogen's ``drumkit.xml``: which instrument, and which velocity layer, each file is.

Three layouts exist in the wild and all are read:

- oldest (Hydrogen 0.9.3): ``instrument/filename``, one sample per instrument;
- old (0.9.4 to 0.9.7): ``instrument/layer/filename`` with ``min``/``max`` velocities;
- new (1.0 and later): ``instrument/instrumentComponent/layer/filename``, in the
  ``http://www.hydrogen-music.org/drumkit`` namespace.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from preprocessing.errors import PreprocessingError

KIT_FILE = "drumkit.xml"


class KitFileError(PreprocessingError):
    """A drumkit.xml that cannot be read; labels then come from file names."""


@dataclass(frozen=True)
class KitSample:
    """One use of a sample file by an instrument of a kit.

    Attributes
    ----------
    instrument : str
        The instrument's name as written in the kit ("" when it has none).
    layer : int or None
        1-based velocity layer, softest first, when the instrument has several layers.
    layers : int
        How many layers the instrument has.
    velocity : tuple of float or None
        The layer's (min, max) velocity, when the kit gives them.
    """

    instrument: str
    layer: int | None = None
    layers: int = 1
    velocity: tuple | None = None


@dataclass(frozen=True)
class Kit:
    """A Hydrogen kit: its name, folder, and the instruments that use each sample file."""

    name: str
    folder: Path
    samples: dict = field(default_factory=dict)  # casefolded relative posix path -> [KitSample]
    by_name: dict = field(default_factory=dict)  # casefolded file name -> [KitSample]

    def lookup(self, path):
        """The uses of the sample file at ``path`` (a path inside the kit folder), maybe [].

        Matching ignores case, because kits made on macOS or Windows often spell a file
        name differently from the file on disk; a bare file name matches in any sub-folder.
        """
        try:
            relative = Path(path).relative_to(self.folder).as_posix().casefold()
        except ValueError:
            relative = Path(path).name.casefold()
        uses = self.samples.get(relative)
        if uses is None:
            uses = self.by_name.get(Path(path).name.casefold(), [])
        return list(uses)


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _child(element, name):
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text(element, name):
    child = _child(element, name)
    return (child.text or "").strip() if child is not None else ""


def _float(text):
    try:
        return float(text)
    except ValueError:
        return None


def _layers(instrument):
    """(filename, min, max) of an instrument in any of the three layouts."""
    found = []
    containers = [instrument] + [c for c in instrument if _local(c.tag) == "instrumentComponent"]
    for container in containers:
        for layer in container:
            if _local(layer.tag) == "layer":
                filename = _text(layer, "filename")
                if filename:
                    found.append((filename, _float(_text(layer, "min")), _float(_text(layer, "max"))))
    if not found and _text(instrument, "filename"):
        found.append((_text(instrument, "filename"), None, None))
    return found


def _key(filename):
    """A kit's file reference as a casefolded relative posix path (Windows separators too).

    An absolute path from the author's machine cannot point into this folder: only its
    file name is kept.
    """
    windows = "\\" in filename or bool(PureWindowsPath(filename).drive)
    pure = PureWindowsPath(filename) if windows else PurePosixPath(filename)
    if pure.anchor:
        return pure.name.casefold()
    return PurePosixPath(*pure.parts).as_posix().casefold()


def parse_kit(path):
    """Read a ``drumkit.xml``.

    Parameters
    ----------
    path : str or os.PathLike
        The drumkit.xml file; sample file names in it are relative to its folder.

    Returns
    -------
    Kit

    Raises
    ------
    KitFileError
        The file cannot be read or is not a Hydrogen kit.
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise KitFileError(f"{path}: not valid XML ({error}); labels come from file names") from None
    except OSError as error:
        raise KitFileError(f"{path}: cannot be read ({error.strerror}); labels come from file names") from None
    if _local(root.tag) != "drumkit_info":
        raise KitFileError(f"{path}: not a Hydrogen drumkit (root element <{_local(root.tag)}>); labels come from file names")
    folder = path.parent
    name = _text(root, "name") or folder.name
    samples, by_name = {}, {}
    instrument_list = _child(root, "instrumentList")
    instruments = [i for i in instrument_list if _local(i.tag) == "instrument"] if instrument_list is not None else []
    for instrument in instruments:
        instrument_name = _text(instrument, "name")
        layers = _layers(instrument)
        # Softest first: layer 1 is the lowest velocity range.
        order = sorted(range(len(layers)), key=lambda i: (layers[i][1] is None, layers[i][1] or 0.0, layers[i][2] or 0.0))
        for number, index in enumerate(order, start=1):
            filename, low, high = layers[index]
            velocity = (low, high) if low is not None and high is not None else None
            use = KitSample(
                instrument=instrument_name,
                layer=number if len(layers) > 1 else None,
                layers=len(layers),
                velocity=velocity,
            )
            key = _key(filename)
            samples.setdefault(key, []).append(use)
            by_name.setdefault(PurePosixPath(key).name, []).append(use)
    return Kit(name=name, folder=folder, samples=samples, by_name=by_name)
