"""Saving a sound with its variations: the window's Save when Vary is on.

Pure library code for the window (no PySimpleGUI): each variation is decoded by
:mod:`models.variation` and saved as a favourite whose sidecar records it
(``settings["variation"]``), so reopening any of them decodes exactly those samples again.
"""

from models.variation import decode_variation, plan_variations


def save_with_variations(favourites, model, name, point, count, seed, *, settings=None, family=None, **save_options):
    """Save the sound at ``point`` and ``count - 1`` variations of it as favourites.

    Parameters
    ----------
    favourites : audio.export.FavouritesFolder
    model
        Has ``decode``, ``latent_range()`` and ``sample_rate``.
    name : str
        The model's registry name.
    point : tuple of float
        The pad point, or a wide latent's whole vector (D numbers): each variation then moves
        every axis, the sidecar's point is its pad axes' and ``settings["latent"]`` the vector.
    count : int
        Files to write: the sound itself first, then its variations 1 .. count-1.
    seed : int
    settings : dict, optional
        The window's other settings, saved with each (the variation is added).
    family : str, optional
        The family text (:func:`gui.family.decode_family`) of a model that takes one:
        decoded with, and recorded in each sidecar as ``settings["family"]``.
    **save_options
        ``out_rate``, ``subtype``, ``normalize``, ``level`` for :meth:`FavouritesFolder.save`
        (each variation is brought to the level on its own; its index names its file).

    Returns
    -------
    list of Path
        The WAVs written, in variation order.
    """
    paths = []
    wide = len(point) > 2
    pad_point = tuple(point[axis] for axis in model.pad_axes) if wide else point
    for variation in plan_variations(model, point, count, seed):
        audio = decode_variation(model, point, variation, family=family)
        recall_settings = dict(settings or {}, variation=variation.to_dict(point))
        if wide:  # what it was varied from, as S records a wide latent
            recall_settings["latent"] = [float(v) for v in point]
        if family is not None and model.takes_family:
            recall_settings["family"] = family
        paths.append(favourites.save(audio, model.sample_rate, model=name, point=pad_point, settings=recall_settings, **save_options))
    return paths
