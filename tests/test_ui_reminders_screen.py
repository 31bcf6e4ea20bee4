"""The Reminders screen, by touch: Settings, Reminders; add, +/- 5 minutes, days, a two-step Remove,
at most 8, the reminder volume; every change saved in the settings file; every text fits at
800x480, 480x800 and 1920x1080 with 0, 3 and 8 reminders."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, List, Tuple

import pytest
from kivy_harness import Kiosk, texts, visible  # noqa: I001  (first: it configures Kivy before Kivy loads)
from layout_rules import everything_wrong

from kiosk.config import Settings, load_settings
from kiosk.core.catalog import Library
from kiosk.core.reminders import MAX_REMINDERS, WEEKDAY_KEYS, Reminder
from kiosk.ui.screens.reminders import CONFIRM_S, EMPTY_TEXT, FULL_TEXT, MESSAGES_TEXT

WEEKDAYS = WEEKDAY_KEYS[:5]
THREE = (Reminder("18:30", WEEKDAYS), Reminder("19:00", ("mon", "wed", "fri"),
                                               "Time for your five minutes of feet and hips."),
         Reminder("20:15"))
EIGHT = tuple(Reminder(f"{12 + number}:{number * 5:02d}", ("sat", "sun") if number % 2 else WEEKDAYS,
                       "Feet and hips, five minutes: the mat is by the door." if number == 3 else "")
              for number in range(MAX_REMINDERS))
"""Times after the kiosk's 09:00 start, so none is due while a test runs."""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "config.yaml"


@pytest.fixture
def kiosk_with(shipped_library: Library, tmp_path: Path, config_path: Path) -> Iterator[Callable[..., Kiosk]]:
    made: List[Kiosk] = []

    def make(reminders: Tuple[Reminder, ...] = (), size: Tuple[int, int] = (800, 480)) -> Kiosk:
        driver = Kiosk(shipped_library, tmp_path / "data", settings=Settings(reminders=reminders), size=size,
                       config_path=config_path)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


def open_reminders(kiosk: Kiosk) -> None:
    """Home, Settings, Reminders: by taps, as a person gets there."""
    kiosk.tap(kiosk.widget("home", "settings_button"))
    kiosk.advance(2)
    assert kiosk.controller.screen == "settings"
    kiosk.tap(kiosk.widget("settings", "reminders_button"))
    kiosk.advance(2)
    assert kiosk.controller.screen == "reminders"


def saved(kiosk: Kiosk, config_path: Path) -> Tuple[Reminder, ...]:
    """The reminders as the settings file has them, once the background save is done."""
    kiosk.settle()
    settings, problems = load_settings(config_path)
    assert problems == ()
    return settings.reminders


def cards(kiosk: Kiosk) -> List:
    kiosk.frames(1)
    return kiosk.screen("reminders").rows()


def shown(kiosk: Kiosk) -> List[str]:
    kiosk.frames(1)
    return texts(kiosk.screen("reminders"))


def test_settings_says_how_many_and_opens_the_screen_that_adds_one(kiosk_with, config_path: Path) -> None:
    kiosk = kiosk_with()
    assert kiosk.widget("settings", "reminders_row").value == "None"
    open_reminders(kiosk)
    assert EMPTY_TEXT in shown(kiosk) and MESSAGES_TEXT in shown(kiosk)
    assert cards(kiosk) == []

    kiosk.tap(kiosk.widget("reminders", "add_button"))
    assert saved(kiosk, config_path) == (Reminder("18:30"),)
    [card] = cards(kiosk)
    assert card.ids.time_label.text == "18:30" and card.ids.summary.text == "Every day"
    assert all(button.chosen and button.selected for button in card.day_buttons.values())
    assert not visible(kiosk.widget("reminders", "empty_text"))

    kiosk.tap(kiosk.widget("reminders", "add_button"))  # an hour after the last one
    assert [reminder.time for reminder in saved(kiosk, config_path)] == ["18:30", "19:30"]
    assert [card.ids.time_label.text for card in cards(kiosk)] == ["18:30", "19:30"]

    kiosk.tap(kiosk.widget("reminders", "back_button"))
    kiosk.advance(2)
    assert kiosk.controller.screen == "settings"
    assert kiosk.widget("settings", "reminders_row").value == "2 set"


def test_a_new_reminder_is_scrolled_into_view(kiosk_with) -> None:
    kiosk = kiosk_with(THREE)
    open_reminders(kiosk)
    kiosk.tap(kiosk.widget("reminders", "add_button"))
    kiosk.frames(2)
    new, view = cards(kiosk)[-1], kiosk.widget("reminders", "scroller")
    assert new.ids.time_label.text == "21:15"
    bottom, top = new.to_window(new.x, new.y)[1], new.to_window(new.x, new.top)[1]
    assert view.to_window(view.x, view.y)[1] <= bottom and top <= view.to_window(view.x, view.top)[1]


def test_minus_and_plus_move_the_time_by_5_minutes_round_midnight(kiosk_with, config_path: Path) -> None:
    kiosk = kiosk_with((Reminder("18:30"), Reminder("23:55", ("sat",))))
    open_reminders(kiosk)
    late = cards(kiosk)[1]
    kiosk.tap(late.ids.time_up)
    assert late.ids.time_label.text == "00:00"
    assert saved(kiosk, config_path) == (Reminder("18:30"), Reminder("00:00", ("sat",)))
    kiosk.tap(late.ids.time_down)
    kiosk.tap(late.ids.time_down)
    assert late.ids.time_label.text == "23:50"
    assert saved(kiosk, config_path)[1] == Reminder("23:50", ("sat",))

    early = cards(kiosk)[0]
    kiosk.tap(early.ids.time_up)
    assert [reminder.time for reminder in saved(kiosk, config_path)] == ["18:35", "23:50"]
    assert early.ids.time_label.text == "18:35"


def test_a_tap_on_a_day_turns_it_on_or_off_in_the_file_and_the_summary(kiosk_with, config_path: Path) -> None:
    kiosk = kiosk_with((Reminder("18:30"),))
    open_reminders(kiosk)
    [card] = cards(kiosk)
    kiosk.tap(card.day_buttons["sat"])
    kiosk.tap(card.day_buttons["sun"])
    assert saved(kiosk, config_path) == (Reminder("18:30", WEEKDAYS),)
    assert card.ids.summary.text == "Weekdays"
    assert [key for key, button in card.day_buttons.items() if button.chosen] == list(WEEKDAYS)
    assert not card.day_buttons["sat"].selected and card.day_buttons["mon"].selected

    for key in ("tue", "thu"):
        kiosk.tap(card.day_buttons[key])
    assert saved(kiosk, config_path) == (Reminder("18:30", ("mon", "wed", "fri")),)
    assert card.ids.summary.text == "Mon, Wed, Fri"

    kiosk.tap(card.day_buttons["sun"])
    assert saved(kiosk, config_path) == (Reminder("18:30", ("mon", "wed", "fri", "sun")),)
    assert card.ids.summary.text == "Mon, Wed, Fri, Sun"


def test_a_reminder_with_no_day_left_says_it_never_plays_and_is_read_back_so(kiosk_with,
                                                                            config_path: Path) -> None:
    kiosk = kiosk_with((Reminder("18:30", ("mon", "wed")), Reminder("19:00")))
    open_reminders(kiosk)
    card = cards(kiosk)[0]
    for key in ("mon", "wed"):
        kiosk.tap(card.day_buttons[key])
    assert card.ids.summary.text == "No day: it never plays"
    assert not any(button.chosen for button in card.day_buttons.values())
    assert kiosk.controller.settings.reminders[0] == Reminder("18:30", ())
    # what the screen shows is what the kiosk reads at its next start: the file keeps it, with no day
    assert saved(kiosk, config_path) == (Reminder("18:30", ()), Reminder("19:00"))
    kiosk.tap(card.day_buttons["sun"])
    assert saved(kiosk, config_path) == (Reminder("18:30", ("sun",)), Reminder("19:00"))
    assert card.ids.summary.text == "Sun"


def test_remove_takes_a_second_tap_which_a_double_tap_is_not(kiosk_with, config_path: Path) -> None:
    kiosk = kiosk_with(THREE)
    open_reminders(kiosk)
    remove = cards(kiosk)[0].ids.remove_button
    kiosk.tap(remove)
    assert remove.text == "Remove?"
    kiosk.tap(remove)  # at once: the same tap twice (a double tap), not an answer
    assert remove.text == "Remove?" and len(cards(kiosk)) == 3
    kiosk.advance(CONFIRM_S + 1)
    assert remove.text == "Remove"  # nobody answered: it asks no more
    kiosk.tap(remove)
    kiosk.advance(1)
    assert len(cards(kiosk)) == 3
    assert kiosk.controller.settings.reminders == THREE

    other = cards(kiosk)[2]  # asking on one card, a tap elsewhere: the question goes
    kiosk.tap(other.ids.remove_button)
    assert other.ids.remove_button.text == "Remove?" and remove.text == "Remove"
    kiosk.tap(other.ids.time_up)
    assert other.ids.remove_button.text == "Remove"
    assert saved(kiosk, config_path)[2] == Reminder("20:20")

    remove = cards(kiosk)[1].ids.remove_button
    kiosk.tap(remove)
    kiosk.advance(1)
    kiosk.tap(remove)
    assert saved(kiosk, config_path) == (THREE[0], Reminder("20:20"))
    assert [card.ids.time_label.text for card in cards(kiosk)] == ["18:30", "20:20"]
    assert all(card.ids.remove_button.text == "Remove" for card in cards(kiosk))


def test_at_eight_add_gives_way_to_a_note_and_a_ninth_is_refused(kiosk_with, config_path: Path) -> None:
    kiosk = kiosk_with(EIGHT[:7])
    open_reminders(kiosk)
    add = kiosk.widget("reminders", "add_button")
    note = kiosk.widget("reminders", "full_note")
    assert visible(add) and not visible(note)
    kiosk.tap(add)
    assert len(saved(kiosk, config_path)) == MAX_REMINDERS
    assert len(cards(kiosk)) == MAX_REMINDERS
    assert not visible(add) and add.disabled
    assert visible(note) and note.text == FULL_TEXT

    kiosk.tap(add)  # where it was: nothing is added
    kiosk.screen("reminders").add()
    assert kiosk.controller.add_reminder() is False
    assert len(saved(kiosk, config_path)) == MAX_REMINDERS and len(cards(kiosk)) == MAX_REMINDERS

    remove = cards(kiosk)[0].ids.remove_button
    kiosk.tap(remove)
    kiosk.advance(1)
    kiosk.tap(remove)
    assert len(saved(kiosk, config_path)) == MAX_REMINDERS - 1
    assert visible(add) and not visible(note)


def test_the_reminder_volume_has_minus_and_plus(kiosk_with, config_path: Path) -> None:
    kiosk = kiosk_with()
    open_reminders(kiosk)
    row = kiosk.widget("reminders", "volume_row")
    assert row.value == "60%"
    kiosk.tap(kiosk.widget("reminders", "volume_up"))
    assert row.value == "70%"
    for _ in range(3):
        kiosk.tap(kiosk.widget("reminders", "volume_down"))
    assert row.value == "40%"
    kiosk.settle()
    assert load_settings(config_path)[0].reminder_volume == pytest.approx(0.4)


@pytest.mark.parametrize("reminders", [(), THREE, EIGHT], ids=["none", "three", "eight"])
@pytest.mark.parametrize("size", [(800, 480), (480, 800), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_text_fits_and_every_button_is_big_enough(kiosk_with, size: Tuple[int, int],
                                                        reminders: Tuple[Reminder, ...]) -> None:
    kiosk = kiosk_with(reminders, size)
    kiosk.controller.go("settings")
    kiosk.advance(1)
    assert everything_wrong(kiosk.root, kiosk.window, scale=kiosk.controller.scale) == []
    kiosk.controller.go("reminders")
    kiosk.advance(2)
    screen = kiosk.screen("reminders")
    problems = {}
    name = f"reminders/{size[0]}x{size[1]}-{len(reminders)}"
    kiosk.screenshot(name)
    places = [card.ids.days for card in screen.rows()] + [card.ids.time_down for card in screen.rows()]
    places += [screen.ids.add_button, screen.ids.volume_row]
    for place in places:  # each card in view in turn, then the end of the list
        kiosk.scroll_into_view(place)
        wrong = everything_wrong(kiosk.root, kiosk.window, scale=kiosk.controller.scale)
        if wrong:
            problems[str(place)] = wrong
    if reminders:
        kiosk.screenshot(f"{name}-end")
    assert problems == {}
    assert len(screen.rows()) == len(reminders)
    for card, reminder in zip(screen.rows(), reminders):
        assert card.ids.time_label.text == reminder.time
        assert card.ids.message.text == (f"Says: \u201c{reminder.message}\u201d" if reminder.message else "")
