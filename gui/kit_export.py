"""The kit export, on the io thread: chosen favourites into a Hydrogen drum kit, each sound
named by the family the zoo's classifier hears, and the beat as a Hydrogen song beside it.

A kit or song already there is replaced only when the user said so (``events.KitExists``
asks first); favourites gone from the folder are left out and named in the result.
"""

from pathlib import Path

from gui import events
from gui.threads import JobGroup


class KitExport(JobGroup):
    """The kit export job.

    Parameters
    ----------
    backend : gui.backend.PackageBackend or a test double with its methods
    post : callable(record)
        Sends a result to the event loop (thread-safe).
    thread : gui.threads.JobWorker
        The io thread.
    models_dir : str
        Where the zoo's family classifier is read from.
    favourites_dir : str
    """

    def __init__(self, backend, post, thread, models_dir, favourites_dir):
        super().__init__(backend, post)
        self.thread = thread
        self.models_dir = models_dir
        self.favourites_dir = favourites_dir

    def export(self, effect):
        def job():
            from audio.kit import FamilyNamer, favourite_sounds, kit_files, write_h2drumkit
            from audio.song import song_path
            from evaluation.families import shipped_classifier
            from safeio import FileExistsRefused

            path = Path(effect.path)
            song = song_path(path) if effect.pattern is not None else None
            taken = [p.name for p in (path, song) if p is not None and p.exists()]
            if taken and not effect.overwrite:
                self.post(events.KitExists(str(path), effect.sources, tuple(taken)))
                return
            by_path = {str(e.path): e for e in self.backend.favourites(self.favourites_dir).entries()}
            entries = [by_path[source] for source in effect.sources if source in by_path]
            skipped = [f"{Path(s).name}: no longer in the favourites" for s in effect.sources if s not in by_path]
            namer = FamilyNamer(*shipped_classifier(self.models_dir))
            sounds = favourite_sounds(
                entries,
                layers=1,
                extra_layers=lambda _favourite, _count: ([], None),
                family_of=namer.family,
                report=skipped.append,
                progress=lambda done, total: self.post(events.KitProgress(done, total)),
            )
            if not sounds:
                self.post(events.JobFailed("kit", "none of the chosen favourites can go in a kit"))
                return
            kit = kit_files(path.stem, sounds, level=effect.level)
            try:
                write_h2drumkit(path, kit, overwrite=effect.overwrite)
                song_note = self._write_song(effect, kit, song)
            except FileExistsRefused:
                self.post(events.KitExists(str(path), effect.sources))
                return
            self.post(events.KitExported(str(path), len(sounds), tuple(skipped), None if song is None else str(song), song_note))

        self.thread.submit(self._guard("kit", job))

    @staticmethod
    def _write_song(effect, kit, song):
        """The beat as a Hydrogen song beside the kit (``song``; None: no beat); what it
        leaves out."""
        if song is None:
            return ""
        from audio.song import song_for_kit, write_song

        made = song_for_kit(effect.pattern, kit)
        write_song(song, made, overwrite=effect.overwrite)
        return made.note
