"""The page warns of a collapsed model (one sound everywhere), in a real Chromium on the
shipped ae_big_sigmoid (every training code within 0.001), and not of a model that spreads."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from test_web_browser import browser, pytestmark, wait_for  # noqa: F401
from web_server import serving, zoo_of


def test_the_page_warns_of_a_collapsed_model_and_only_of_it(browser, tmp_path):  # noqa: F811
    zoo = zoo_of(tmp_path / "zoo", "ae_big_sigmoid", "ae_small_relu")
    with serving(["--models", str(zoo)], tmp_path) as server:
        assert {m["name"]: m["collapsed"] for m in server.models()["models"]} == {"ae_big_sigmoid": True, "ae_small_relu": False}
        browser.get(server.url)
        for name, warned in (("ae_big_sigmoid", True), ("ae_small_relu", False)):
            wait_for(browser, f"return document.querySelector('#model option[value={name}]');")
            Select(browser.find_element(By.ID, "model")).select_by_value(name)  # as a user picks
            text = wait_for(
                browser,
                "const d = document.getElementById('description').textContent;"
                f"return document.getElementById('model').value === '{name}' && d;",
            )
            assert ("Collapsed: every training sound encodes to one point" in text) is warned
