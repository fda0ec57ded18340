"""Back/forward history per model: clicks, drags as one step, reopened favourites."""

import pytest

from gui.history import MAX_STEPS, PointHistory, SessionHistory


def test_back_and_forward_walk_the_clicked_points():
    history = SessionHistory()
    for point in [(0, 0), (1, 0), (2, 0)]:
        assert history.click("vae_c", point)
    assert history.back("vae_c") == (1.0, 0.0)
    assert history.back("vae_c") == (0.0, 0.0)
    assert history.back("vae_c") is None
    assert history.forward("vae_c") == (1.0, 0.0)
    assert history.forward("vae_c") == (2.0, 0.0)
    assert history.forward("vae_c") is None


def test_a_drag_is_one_step_to_where_it_was_let_go():
    history = SessionHistory()
    history.click("vae_c", (0, 0))
    for x in range(1, 20):
        history.drag("vae_c", (x / 10, 0))
    assert history.release("vae_c", (2, 0.5))
    assert history.of("vae_c").points == [(0.0, 0.0), (2.0, 0.5)]
    assert history.back("vae_c") == (0.0, 0.0)


def test_a_drag_ends_where_it_last_was_when_no_end_point_comes():
    history = SessionHistory()
    history.drag("gan", (0.3, 0.3))
    history.drag("gan", (0.4, 0.4))
    assert history.release("gan")
    assert history.of("gan").points == [(0.4, 0.4)]
    assert not history.release("gan")  # nothing more to end


def test_going_back_during_a_drag_first_ends_it():
    history = SessionHistory()
    history.click("vae_c", (0, 0))
    history.drag("vae_c", (1, 1))
    assert history.back("vae_c") == (0.0, 0.0)
    assert history.forward("vae_c") == (1.0, 1.0)


def test_each_model_has_its_own_history():
    history = SessionHistory()
    history.click("vae_c", (0, 0))
    history.click("gan", (0.5, 0.5))
    history.click("vae_c", (1, 1))
    assert history.back("vae_c") == (0.0, 0.0)
    assert history.back("gan") is None
    assert history.of("gan").current == (0.5, 0.5)


def test_reopening_a_favourite_is_a_step_in_its_model():
    history = SessionHistory()
    history.click("vae_c", (0, 0))
    assert history.reopen("vae_c", (-1.2, 0.5))
    assert history.back("vae_c") == (0.0, 0.0)
    assert history.forward("vae_c") == (-1.2, 0.5)


def test_somewhere_new_after_going_back_drops_the_forward_steps():
    history = SessionHistory()
    for point in [(0, 0), (1, 0), (2, 0)]:
        history.click("vae_c", point)
    history.back("vae_c")
    history.back("vae_c")
    history.click("vae_c", (5, 5))
    assert history.of("vae_c").points == [(0.0, 0.0), (5.0, 5.0)]
    assert history.forward("vae_c") is None


def test_the_current_point_again_is_not_a_step():
    history = SessionHistory()
    assert history.click("vae_c", (1, 1))
    assert not history.click("vae_c", (1.0, 1.0))
    assert history.back("vae_c") is None


def test_the_oldest_steps_are_forgotten_past_the_limit():
    steps = PointHistory()
    for i in range(MAX_STEPS + 10):
        steps.visit((i, 0))
    assert len(steps.points) == MAX_STEPS and steps.points[0] == (10.0, 0.0)
    assert steps.current == (MAX_STEPS + 9.0, 0.0)


def test_a_point_that_is_not_finite_is_refused():
    with pytest.raises(ValueError, match="must be finite"):
        SessionHistory().click("vae_c", (float("nan"), 0))


def test_a_step_keeps_its_family_and_the_same_point_with_another_family_is_a_step():
    history = SessionHistory()
    assert history.click("ddsp_cvae", (0, 0), "kick")
    assert not history.click("ddsp_cvae", (0, 0), "kick")
    assert history.click("ddsp_cvae", (0, 0), "clap")
    history.amend("ddsp_cvae", "clap:0.5,tom:0.5")
    assert history.family("ddsp_cvae") == "clap:0.5,tom:0.5"
    assert history.back("ddsp_cvae") == (0.0, 0.0) and history.family("ddsp_cvae") == "kick"
    assert history.forward("ddsp_cvae") == (0.0, 0.0) and history.family("ddsp_cvae") == "clap:0.5,tom:0.5"
    assert history.family("vae_c") is None  # a model without steps


def test_the_oldest_steps_go_with_their_families():
    history = PointHistory()
    for i in range(MAX_STEPS + 3):
        history.visit((i, 0), f"f{i}")
    assert len(history.families) == len(history.points) == MAX_STEPS
    assert history.families[0] == "f3" and history.points[0] == (3.0, 0.0)
