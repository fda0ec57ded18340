"""A kit as one file: Hydrogen's ``.h2drumkit`` (a gzipped tar of one folder), written
atomically or made in memory for the page, the page's zip of the kit folder, and reading an
archive back with tarfile's ``data`` filter, so a hostile archive cannot write outside the
folder it is extracted to."""

import io
import os
import tarfile
from pathlib import Path

from audio.errors import AudioError
from audio.kit.contents import KIT_JSON, KIT_LISTING, KitFiles
from audio.kit.hydrogen import DRUMKIT_XML
from constants import KIT_SUFFIX
from safeio import atomic_write, remove_dead_temporaries, removed_line


def h2drumkit_bytes(kit: KitFiles) -> bytes:
    """Hydrogen's ``.h2drumkit`` archive of a kit, in memory: a gzipped tar of one folder (the
    kit's name) holding drumkit.xml and the WAVs (what :func:`write_h2drumkit` writes)."""
    buffer = io.BytesIO()
    # GNU format: names as plain UTF-8 bytes. Python's default (PAX) puts a non-ASCII name in
    # a UTF-8 header that Hydrogen's libarchive must convert to its locale, and h2cli runs in
    # the C locale: "Pathname can't be converted", and the kit is refused.
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.GNU_FORMAT, encoding="utf-8") as archive:
        folder_info = tarfile.TarInfo(kit.name)
        folder_info.type, folder_info.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(folder_info)
        for file_name, data in kit.files.items():
            if file_name in (KIT_JSON, KIT_LISTING):
                continue  # Hydrogen's archive holds its kit only; the folder export has them
            info = tarfile.TarInfo(f"{kit.name}/{file_name}")
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write_h2drumkit(path: str | os.PathLike, kit: KitFiles, *, overwrite: bool = False) -> Path:
    """Write a kit as Hydrogen's ``.h2drumkit`` archive, atomically.

    Parameters
    ----------
    path : str or Path
        The archive; its folder must exist.
    kit : KitFiles
    overwrite : bool
        Replace an existing file (the user's ``--force``).

    Raises
    ------
    FileExistsRefused
        ``path`` exists and ``overwrite`` is False; nothing was written.
    WriteFailed
        The file cannot be written; nothing was left behind.
    """
    data = h2drumkit_bytes(kit)
    return atomic_write(path, lambda file: file.write(data), overwrite=overwrite)


def kit_zip_bytes(kit: KitFiles) -> bytes:
    """The kit folder (:func:`write_kit_folder`'s files: WAVs, kit.json, README.txt and
    drumkit.xml) as a zip of one folder named after the kit, in memory.

    The WAVs are stored, not deflated: PCM barely shrinks, and the archive is made at once.
    """
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for file_name, data in kit.files.items():
            archive.writestr(zipfile.ZipInfo(f"{kit.name}/{file_name}", date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def remove_leftover_archives(folder: str | os.PathLike) -> str:
    """Remove the ``.NAME.h2drumkit.PID.RAND.tmp`` that killed exports left in ``folder``.

    A temporary whose writer is still running is kept (another export, right now).

    Returns
    -------
    str
        One line saying what was removed; "" when nothing was.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return ""
    removed = remove_dead_temporaries(folder, of=lambda name: name.lower().endswith(KIT_SUFFIX))
    return removed_line(folder, removed)


def extract_h2drumkit(path: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Extract a ``.h2drumkit`` into ``folder`` with tarfile's ``data`` filter.

    Returns
    -------
    Path
        The kit's folder inside ``folder``.

    Raises
    ------
    AudioError
        Not a readable archive, a member the filter refuses (absolute, ``..``, links out),
        or no ``drumkit.xml`` in it.
    """
    folder = Path(folder)
    try:
        with tarfile.open(path, "r:*") as archive:
            archive.extractall(folder, filter="data")
            names = archive.getnames()
    except (tarfile.TarError, OSError) as error:
        raise AudioError(f"{path}: not a readable Hydrogen kit ({error})") from error
    xml_names = [n for n in names if Path(n).name == DRUMKIT_XML]
    if not xml_names:
        raise AudioError(f"{path}: not a Hydrogen kit (no {DRUMKIT_XML} in it)")
    return folder / Path(xml_names[0]).parent
