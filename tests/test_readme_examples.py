"""The README's own example library, built from the README itself, does what the README says.

A person writes their first files by copying the README: the example must validate with
no problem at all, and plan to the length its own description gives.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Dict, List

import yaml

from kiosk.cli import main as kiosk_main

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20}


def fenced_yaml_after(heading: str) -> str:
    """The first ```yaml block after the line that starts with `heading`."""
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    block = re.search(r"```yaml\n(.*?)```", text[start:], re.S)
    assert block is not None, f"no yaml block after {heading!r}"
    return block.group(1)


def run(capsys, *argv: str) -> Dict[str, object]:
    code = kiosk_main(list(argv))
    out, err = capsys.readouterr()
    return {"code": code, "out": out, "err": err}


def the_example(tmp_path: Path) -> Path:
    """~/my-exercises/seated.yaml as the README gives it, with the picture it names put in place."""
    folder = tmp_path / "my-exercises"
    folder.mkdir()
    text = fenced_yaml_after("A complete example, `~/my-exercises/seated.yaml`:")
    (folder / "seated.yaml").write_text(text, encoding="utf-8")
    for exercise in yaml.safe_load(text)["exercises"]:
        if "image" in exercise:  # "under media/ (see below)": a picture of one's own beside the files
            target = folder / "media" / exercise["image"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / "media" / "pictures" / "toe-spreads.png", target)
    return folder


def test_the_readme_example_validates_with_no_problem_at_all(tmp_path: Path, capsys) -> None:
    folder = the_example(tmp_path)
    result = run(capsys, "--data-dir", str(tmp_path / "data"), "--config", str(tmp_path / "none.yaml"),
                 "--exercises", str(folder), "validate", str(folder))
    assert result["code"] == 0, result
    assert result["err"] == "" and "warning" not in str(result["out"]), result


def test_each_routine_of_the_readme_example_plans_to_the_length_its_description_says(tmp_path: Path,
                                                                                     capsys) -> None:
    folder = the_example(tmp_path)
    routines: List[dict] = yaml.safe_load((folder / "seated.yaml").read_text(encoding="utf-8"))["routines"]
    assert routines
    for routine in routines:
        said = re.match(r"(\w+) (?:quiet |easy |gentle )?minutes?", routine["description"].lower())
        assert said is not None and said.group(1) in NUMBERS, routine["description"]
        result = run(capsys, "--data-dir", str(tmp_path / "data"), "--config", str(tmp_path / "none.yaml"),
                     "--exercises", str(folder), "plan", routine["id"], "--json")
        assert result["code"] == 0, result
        plan = json.loads(str(result["out"]))
        assert round(plan["total_s"] / 60) == NUMBERS[said.group(1)], (routine["description"], plan["total_s"])


def test_every_routine_of_the_readme_example_says_begin_as_each_work_period_starts(tmp_path: Path,
                                                                                  capsys) -> None:
    """The README says "Begin." is said when the work starts; its example leaves room for it."""
    folder = the_example(tmp_path)
    for routine in yaml.safe_load((folder / "seated.yaml").read_text(encoding="utf-8"))["routines"]:
        result = run(capsys, "--data-dir", str(tmp_path / "data"), "--config", str(tmp_path / "none.yaml"),
                     "--exercises", str(folder), "plan", routine["id"], "--json")
        plan = json.loads(str(result["out"]))
        works = [segment for segment in plan["segments"] if segment["kind"] == "work"]
        assert works
        for segment in works:
            assert {"at_s": segment["start_s"], "kind": "start", "text": "Begin."} in segment["cues"], segment


def test_the_home_assistant_guides_examples_are_what_the_kiosk_and_home_assistant_read(tmp_path: Path) -> None:
    """Its `mqtt:` section loads with no problem; its card and automations are valid YAML that
    name the entity ids the discovery payloads suggest for `client_id: living-room`."""
    from kiosk.config import load_settings
    from kiosk.core.household import Device, Topics, discovery_messages

    guide = (REPO / "docs" / "home-assistant.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", guide, re.S)
    [section] = [block for block in blocks if block.lstrip().startswith("mqtt:")]
    (tmp_path / "mqtt-password").write_text("secret\n")
    config = tmp_path / "config.yaml"
    config.write_text(section, encoding="utf-8")
    settings, problems = load_settings(config)
    assert problems == () and settings.mqtt.client_id == "living-room"
    assert settings.mqtt.password_file == str(tmp_path / "mqtt-password")
    suggested = {json.loads(payload)["default_entity_id"]
                 for _, payload in discovery_messages(Topics("b", "living-room"), Device("living-room", "x", "1"), [])}
    named = set()
    for block in blocks:
        if block.lstrip().startswith("mqtt:") or block.lstrip().startswith("logins:"):
            continue
        named |= set(re.findall(r"\b(?:sensor|binary_sensor|button|select|switch|number)\.exercise_kiosk_[a-z_]+",
                                yaml.dump(yaml.safe_load(block))))
    assert named and named <= suggested, named - suggested
