"""The safe YAML door: plain data with marks in, everything else refused with a place."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core import yamldoc
from kiosk.core.yamldoc import (
    MAX_FILE_BYTES,
    Mapping,
    Problem,
    Scalar,
    Sequence,
    YamlError,
    parse_document,
    read_document,
    to_plain,
)


def parse(text: str) -> Any:
    return parse_document(text.encode("utf-8"), "doc.yaml")


def refusal(raw: bytes) -> Problem:
    with pytest.raises(YamlError) as caught:
        parse_document(raw, "doc.yaml")
    assert str(caught.value) == str(caught.value.problem)
    return caught.value.problem


# --------------------------------------------------------------------------- values and marks

def test_marks_are_one_based_line_and_column() -> None:
    document = parse(
        "name: Heel raises\n"
        "steps:\n"
        "  - one\n"
        "  - {exercise: two, sets: 3}\n"
    )
    assert isinstance(document, Mapping)
    assert (document.line, document.col) == (1, 1)
    name_key, name_value = document.entries["name"]
    assert (name_key.line, name_key.col, name_key.value) == (1, 1, "name")
    assert (name_value.line, name_value.col, name_value.value) == (1, 7, "Heel raises")
    steps_key, steps = document.entries["steps"]
    assert (steps_key.line, steps_key.col) == (2, 1)
    assert isinstance(steps, Sequence) and (steps.line, steps.col) == (3, 3)
    first, second = steps.items
    assert isinstance(first, Scalar) and (first.line, first.col, first.value) == (3, 5, "one")
    assert isinstance(second, Mapping) and (second.line, second.col) == (4, 5)
    exercise_key, exercise = second.entries["exercise"]
    assert (exercise_key.line, exercise_key.col) == (4, 6)
    assert (exercise.line, exercise.col) == (4, 16)
    assert (second.entries["sets"][1].line, second.entries["sets"][1].col) == (4, 27)


def test_mapping_keeps_file_order() -> None:
    document = parse("zebra: 1\napple: 2\nmango: 3\n")
    assert isinstance(document, Mapping)
    assert list(document.entries) == ["zebra", "apple", "mango"]


@pytest.mark.parametrize("text, expected", [
    ('"5"', "5"), ("'5'", "5"), ('"true"', "true"), ("'null'", "null"), ('"1.5"', "1.5"),
    ("|\n  5\n", "5\n"), (">\n  yes\n", "yes\n"),
    ("! 5", "5"),  # the non-specific tag means "a string" (safe_load would give 5)
])
def test_quoted_and_block_scalars_stay_strings(text: str, expected: str) -> None:
    assert to_plain(parse(f"value: {text}\n"))["value"] == expected


@pytest.mark.parametrize("text, expected", [
    ("true", True), ("false", False), ("True", True), ("no", False),
    ("42", 42), ("-7", -7), ("0x10", 16), ("3.5", 3.5), ("-0.25", -0.25),
    ("~", None), ("null", None), ("", None), ("text", "text"), ("50%", "50%"),
])
def test_plain_scalars_resolve_like_safe_load(text: str, expected: Any) -> None:
    value = to_plain(parse(f"value: {text}\n"))["value"]
    assert value == expected and type(value) is type(expected)
    assert value == yaml.safe_load(f"value: {text}\n")["value"]


def test_infinity_resolves_to_a_float() -> None:
    assert to_plain(parse("value: .inf\n"))["value"] == math.inf


def test_keys_that_are_numbers_or_words_become_text() -> None:
    assert to_plain(parse("1: a\n2.5: b\ntrue: c\n~: d\n")) == {"1": "a", "2.5": "b", "true": "c", "": "d"}


def test_a_number_key_and_its_quoted_twin_are_duplicates() -> None:
    problem = refusal(b'1: a\n"1": b\n')
    assert (problem.line, problem.col) == (2, 1)
    assert problem.message == "duplicate key '1' (first at line 1)"


@pytest.mark.parametrize("text, col", [("? [a, b]\n: 1\n", 3), ("2024-01-01: x\n", 1)])
def test_keys_must_be_plain_text(text: str, col: int) -> None:
    problem = refusal(text.encode())
    assert (problem.line, problem.col, problem.message) == (1, col, "a key must be plain text")


def test_byte_order_mark_is_tolerated() -> None:
    document = parse_document(b"\xef\xbb\xbfname: x\nsets: 2\n", "doc.yaml")
    assert to_plain(document) == {"name": "x", "sets": 2}
    assert (document.line, document.col) == (1, 1)


def test_a_bare_document_marker_is_an_empty_value_not_a_crash() -> None:
    assert to_plain(parse("---\n")) is None


def test_dump_keeps_order_and_reads_back() -> None:
    data = {"zebra": 1, "name": "Café", "steps": ["a", {"exercise": "b", "sets": 2}]}
    text = yamldoc.dump(data)
    assert text.index("zebra") < text.index("name") and "Café" in text
    assert to_plain(parse(text)) == data


# --------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("text, line, col, message", [
    ("a: !!python/object/apply:os.system [ls]\n", 1, 4, "YAML tags (!!python/object/apply:os.system) are not allowed"),
    ("a: !!str 5\n", 1, 4, "YAML tags (!!str) are not allowed"),
    ("a: !custom x\n", 1, 4, "YAML tags (!custom) are not allowed"),
    ("a: &x 1\n", 1, 4, "anchors (&x) are not allowed; write the value out"),
    ("a: 1\nb: *x\n", 2, 4, "aliases (*x) are not allowed; write the value out"),
    ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first at line 1)"),
    ("a: 1\n---\nb: 2\n", 2, 1, "only one YAML document per file (remove the extra `---`)"),
    ("<<: {a: 1}\n", 1, 1, "cannot read the value '<<'"),
    ("when: 2024-13-45\n", 1, 7, "cannot read the value '2024-13-45'"),
    ("", 1, 1, "file is empty"),
    ("# just a comment\n\n# and another\n", 1, 1, "file is empty"),
])
def test_refusals_carry_a_problem_with_the_place(text: str, line: int, col: int, message: str) -> None:
    problem = refusal(text.encode("utf-8"))
    assert problem == Problem("doc.yaml", line, col, message)
    assert str(problem) == f"doc.yaml:{line}:{col}: {message}"


PARSERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])


@pytest.mark.parametrize("parser", PARSERS, ids=lambda loader: loader.__name__)
@pytest.mark.parametrize("text, line, col, words", [
    ("a: [1, 2\nb: 3\n", 2, 2, "',' or ']'"),
    ("a: 1\n  b: 2\n", 2, 4, "mapping values are not allowed"),
    ("a: b: c\n", 1, 5, "mapping values are not allowed"),
    ("a: 'open\n", 2, 1, "unexpected end of stream"),
    ("- a\nb: 1\n", 2, 1, ""),  # the two parsers word this one differently
])
def test_syntax_errors_point_at_the_same_place_with_either_parser(
        monkeypatch: pytest.MonkeyPatch, parser: Any, text: str, line: int, col: int, words: str) -> None:
    monkeypatch.setattr(yamldoc, "_Parser", parser)
    problem = refusal(text.encode())
    assert (problem.line, problem.col) == (line, col)
    assert problem.message.startswith("YAML syntax error: ") and words in problem.message


@pytest.mark.parametrize("raw, line, col", [
    (b"name: caf\xe9\n", 1, 10),
    (b"a: 1\nname: \xff\xfe\n", 2, 7),
    ("a: 1\nname: Café \u2013 ".encode("utf-8") + b"\x80\n", 2, 14),
    (b"\xef\xbb\xbfname: \xc3\n", 1, 7),
])
def test_text_that_is_not_utf8_points_at_the_bad_byte(raw: bytes, line: int, col: int) -> None:
    problem = refusal(raw)
    assert (problem.line, problem.col) == (line, col)
    assert problem.message.startswith("text is not UTF-8 (byte 0x")


def test_alias_bomb_is_refused_without_expanding() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    problem = refusal("\n".join(lines).encode())
    assert (problem.line, problem.col, problem.message) == (1, 4, "anchors (&a) are not allowed; write the value out")


def test_parse_document_refuses_more_than_one_mebibyte() -> None:
    problem = refusal(b"#" * (20 * 1024 * 1024))
    assert (problem.line, problem.col) == (1, 1)
    assert "1 MiB" in problem.message


def test_exactly_one_mebibyte_is_still_read() -> None:
    raw = b"# " + b"x" * (MAX_FILE_BYTES - 3) + b"\n"
    assert len(raw) == MAX_FILE_BYTES
    assert refusal(raw).message == "file is empty"


# --------------------------------------------------------------------------- read_document

def test_read_document_names_the_display_path(tmp_path: Path) -> None:
    path = tmp_path / "feet.yaml"
    path.write_text("a: 1\nb: &x 2\n", encoding="utf-8")
    with pytest.raises(YamlError) as caught:
        read_document(path, "exercises/feet.yaml")
    assert str(caught.value) == "exercises/feet.yaml:2:4: anchors (&x) are not allowed; write the value out"


def test_read_document_reads_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "feet.yaml"
    path.write_bytes("exercises:\n  - name: Café\n".encode("utf-8"))
    assert to_plain(read_document(path)) == {"exercises": [{"name": "Café"}]}


def test_read_document_refuses_a_big_file_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(20 * 1024 * 1024)
    with pytest.raises(YamlError) as caught:
        read_document(path)
    problem = caught.value.problem
    assert problem == Problem(str(path), 1, 1, "file is 20,971,520 bytes; the limit is 1,048,576 (1 MiB)")


def test_read_document_stops_reading_an_endless_file() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    with pytest.raises(YamlError) as caught:
        read_document("/dev/zero")
    assert "1 MiB" in caught.value.problem.message


@pytest.mark.parametrize("make", [lambda p: p / "missing.yaml", lambda p: p])
def test_read_document_turns_os_errors_into_problems(tmp_path: Path, make: Any) -> None:
    path = make(tmp_path)
    with pytest.raises(YamlError) as caught:
        read_document(path, "shown.yaml")
    problem = caught.value.problem
    assert (problem.path, problem.line, problem.col) == ("shown.yaml", 1, 1)
    assert problem.message.startswith("cannot read file: ")


def test_problem_text_marks_warnings() -> None:
    assert str(Problem("f.yaml", 3, 5, "picture missing", "warning")) == "f.yaml:3:5: warning: picture missing"
    assert str(Problem("f.yaml", 3, 5, "bad")) == "f.yaml:3:5: bad"


# --------------------------------------------------------------------------- round trip

def _round_trips(text: str) -> bool:
    """PyYAML itself cannot carry every string (a raw U+0085 is read back as a line break)."""
    return all(yaml.safe_load(yaml.safe_dump(sample, allow_unicode=allow_unicode)) == sample
               for allow_unicode in (False, True) for sample in (text, {text: [text]}))


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20).filter(_round_trips)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(data=json_like, allow_unicode=st.booleans(), flow=st.sampled_from([False, True, None]))
def test_safe_dump_round_trips_through_parse_document(data: Any, allow_unicode: bool, flow: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=allow_unicode, default_flow_style=flow, sort_keys=False)
    plain = to_plain(parse_document(text.encode("utf-8"), "doc.yaml"))
    assert plain == data
    assert plain == yaml.safe_load(text)
