"""Drum kits to take to a DAW or drum machine: Hydrogen's ``.h2drumkit`` and a plain folder.

A kit is a list of :class:`KitSound` (one instrument each: a family, the model and point it
came from, and one or more velocity layers), rendered to files in memory by
:func:`kit_files` (:mod:`audio.kit.contents`). :func:`write_h2drumkit` writes Hydrogen 1.2's
archive (a gzipped tar of one folder holding ``drumkit.xml`` and the WAVs;
:mod:`audio.kit.archive`); :func:`write_kit_folder` writes the same WAVs plus ``kit.json``
(model, point and seed of each sample), a readable ``README.txt`` listing and
``drumkit.xml``, so the folder is a Hydrogen kit folder too (:mod:`audio.kit.folder`). The
web page's kits are the same files in memory (:func:`h2drumkit_bytes`, :func:`kit_zip_bytes`).

- :mod:`audio.kit.naming`: instruments named by family, file and kit names made safe;
- :mod:`audio.kit.contents`: instruments, velocity layers, samples and the kit's files;
- :mod:`audio.kit.hydrogen`: Hydrogen's ``drumkit.xml``;
- :mod:`audio.kit.archive`: the ``.h2drumkit`` and zip archives, and reading one back;
- :mod:`audio.kit.folder`: the kit folder, swapped in whole, and what a killed export left.

Nothing existing is replaced unless asked: the archive goes through
:func:`safeio.atomic_write`; the folder is staged beside its place and swapped in whole.
"""

from audio.kit.archive import extract_h2drumkit, h2drumkit_bytes, kit_zip_bytes, remove_leftover_archives, write_h2drumkit
from audio.kit.contents import (
    KIT_JSON,
    KIT_LISTING,
    KIT_PEAK_DB,
    KIT_RATE,
    KIT_SUBTYPE,
    MAX_LAYERS,
    ExtraLayers,
    KitFiles,
    KitLayer,
    KitSound,
    favourite_sounds,
    kit_files,
    kit_listing,
    kit_sample,
    read_favourite_audio,
    velocity_layers,
)
from audio.kit.folder import kit_own_files, recover_kit_folder, refuse_existing_folder, write_kit_folder
from audio.kit.hydrogen import DRUMKIT_XML, FIRST_NOTE, LAST_NOTE, MAX_INSTRUMENTS, drumkit_xml
from audio.kit.naming import FALLBACK_FAMILY, FamilyNamer, recorded_family, safe_kit_name, safe_part

__all__ = [
    "DRUMKIT_XML",
    "FALLBACK_FAMILY",
    "FIRST_NOTE",
    "KIT_JSON",
    "KIT_LISTING",
    "KIT_PEAK_DB",
    "KIT_RATE",
    "KIT_SUBTYPE",
    "LAST_NOTE",
    "MAX_INSTRUMENTS",
    "MAX_LAYERS",
    "ExtraLayers",
    "FamilyNamer",
    "KitFiles",
    "KitLayer",
    "KitSound",
    "drumkit_xml",
    "extract_h2drumkit",
    "favourite_sounds",
    "h2drumkit_bytes",
    "kit_files",
    "kit_listing",
    "kit_own_files",
    "kit_sample",
    "kit_zip_bytes",
    "read_favourite_audio",
    "recorded_family",
    "recover_kit_folder",
    "refuse_existing_folder",
    "remove_leftover_archives",
    "safe_kit_name",
    "safe_part",
    "velocity_layers",
    "write_h2drumkit",
    "write_kit_folder",
]
