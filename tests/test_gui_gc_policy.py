"""The window's garbage collection policy (gui.gc_policy): cyclic garbage (replaced
matplotlib figures) is freed even while the user never pauses."""

import gc
import weakref

import pytest

from gui import gc_policy
from gui.gc_policy import GuiThreadCollector


class Node:
    """One half of a reference cycle."""


def gen2_cycle():
    """A reference cycle that has reached the oldest generation, then been dropped;
    returns a weak reference to it."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    gc.collect(1)  # survivors of the young generations move to the oldest
    return weakref.ref(a)


@pytest.fixture
def collector():
    collector = GuiThreadCollector()
    collector.take_over()
    yield collector
    collector.give_back()


@pytest.mark.parametrize(
    "idle,seconds_since_full",
    [
        (True, gc_policy.BUSY_FULL_COLLECT_SECONDS + 1),  # a moment between two gestures
        (False, gc_policy.LONGEST_WITHOUT_FULL_SECONDS + 1),  # no pause at all
    ],
)
def test_a_busy_window_still_frees_its_cyclic_garbage(collector, idle, seconds_since_full):
    cycle = gen2_cycle()
    for _ in range(gc.get_threshold()[2]):
        gc.collect(1)  # Python's own count: a full collection is due
    collector._full_at -= seconds_since_full
    collector.event_seen()  # the user is busy: an event just now
    assert cycle() is not None
    collector.collect(idle=idle)
    assert cycle() is None


def test_a_full_collection_waits_while_the_user_is_busy_and_one_came_lately(collector):
    cycle = gen2_cycle()
    for _ in range(gc.get_threshold()[2]):
        gc.collect(1)
    collector.event_seen()
    collector.collect(idle=False)
    assert cycle() is not None  # not on every event: it costs tens of milliseconds
    collector._full_at -= gc_policy.LONGEST_WITHOUT_FULL_SECONDS + 1
    collector.collect(idle=False)
    assert cycle() is None


@pytest.mark.gui
@pytest.mark.skipif(not __import__("os").environ.get("DISPLAY"), reason="no DISPLAY: run under xvfb-run")
def test_a_figure_the_map_replaced_is_emptied_at_once(tmp_path):
    from gui import keys as k
    from gui.layout import MAP_MODE_LABELS
    from gui.window import GuiApp, GuiOptions
    from gui_fakes import FakeBackend

    app = GuiApp(
        GuiOptions(
            models_dir=str(tmp_path / "zoo"),
            favourites_dir=str(tmp_path / "favs"),
            settings_path=str(tmp_path / "settings.json"),
            seed=0,
        ),
        backend=FakeBackend(),
    ).open()
    try:
        panel = app.panels["map"]
        assert app.run_until(lambda s: panel.current is not None and panel.current.codes is not None)
        replaced = panel.current
        assert replaced.figure.axes
        app.post(k.MAP_MODE, MAP_MODE_LABELS["brightness"])
        assert app.run_until(lambda s: panel.current is not replaced and panel.current.key[1:] == ("brightness",))
        assert replaced.figure.axes == [] and replaced.agg.renderer is None
        assert panel.current.figure.axes  # the new one is whole
    finally:
        app.close()
