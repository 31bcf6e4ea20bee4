"""The one safe door for YAML: bytes -> a tree of values that remember their line.

We build the tree from parser events ourselves instead of calling a constructor, so
that nothing in a file can run code (no tags), nothing can expand (no anchors or
aliases, so no alias bombs), duplicate keys are caught, and every value keeps the
`line:col` that an error message must point at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import yaml

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 10_000
"""Values in one file: about 40 times the biggest shipped file. A 1 MiB file of tiny
items would otherwise take seconds and hundreds of MB to read and report on a Pi."""

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a file, printed as `path:line:col: message`."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"
    field: str = ""
    """The field (a setting's name) the problem is about, where the reader knows it; not part of str()."""

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}:{self.col}: {prefix}{self.message}"


class YamlError(Exception):
    """A file could not be read at all; carries the problem that says where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Node:
    """A value from the file and where it stood (1-based line and column)."""

    line: int
    col: int


@dataclass
class Scalar(Node):
    value: Any = None
    raw: str = ""
    """The text as written: `6:45` is the number 405 to YAML 1.1, but a time to a person."""


@dataclass
class Sequence(Node):
    items: List["AnyNode"] = field(default_factory=list)


@dataclass
class Mapping(Node):
    entries: Dict[str, Tuple[Scalar, "AnyNode"]] = field(default_factory=dict)
    """Key text -> (key node, value node), in file order."""


AnyNode = Union[Scalar, Sequence, Mapping]


def read_document(path: Union[str, Path], display: Optional[str] = None) -> AnyNode:
    """Read one YAML file into a marked tree, or raise YamlError naming the place."""
    shown = display or str(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise YamlError(Problem(shown, 1, 1,
                                    f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (1 MiB)"))
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise YamlError(Problem(shown, 1, 1, f"cannot read file: {error.strerror or error}")) from None
    return parse_document(raw, shown)


def parse_document(raw: bytes, shown: str) -> AnyNode:
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(Problem(shown, 1, 1, f"file is over the limit of {MAX_FILE_BYTES:,} bytes (1 MiB)"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        col = len(before[line_start:].decode("utf-8-sig" if line_start == 0 else "utf-8")) + 1
        raise YamlError(Problem(shown, line, col,
                                f"text is not UTF-8 (byte 0x{raw[error.start]:02x}); save the file as UTF-8")) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        document = _Builder(shown).build(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = error.problem or error.context or "invalid YAML"
        raise YamlError(Problem(shown, line, col, f"YAML syntax error: {what}")) from None
    except yaml.YAMLError as error:
        raise YamlError(Problem(shown, 1, 1, f"YAML syntax error: {error}")) from None
    if document is None:
        raise YamlError(Problem(shown, 1, 1, "file is empty"))
    return document


class _Builder:
    """Turns the parser's event stream into Nodes, refusing what is not plain data."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def fail(self, mark: Any, message: str) -> YamlError:
        return YamlError(Problem(self.shown, mark.line + 1, mark.column + 1, message))

    def build(self, text: str) -> Optional[AnyNode]:
        events = yaml.parse(text, Loader=_Parser)
        document: Optional[AnyNode] = None
        stack: List[Union[Sequence, Mapping]] = []
        pending_keys: List[Optional[Scalar]] = []
        documents = 0
        nodes = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self.fail(event.start_mark, "only one YAML document per file (remove the extra `---`)")
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                continue
            if isinstance(event, yaml.AliasEvent):
                raise self.fail(event.start_mark, f"aliases (*{event.anchor}) are not allowed; write the value out")
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                finished = stack.pop()
                pending_keys.pop()
                document = self._attach(stack, pending_keys, finished, document)
                continue
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise self.fail(event.start_mark, f"anchors (&{anchor}) are not allowed; write the value out")
            tag = getattr(event, "tag", None)
            if tag is not None and tag != "!":
                shown_tag = tag.replace("tag:yaml.org,2002:", "!!")
                raise self.fail(event.start_mark, f"YAML tags ({shown_tag}) are not allowed")
            line, col = event.start_mark.line + 1, event.start_mark.column + 1
            nodes += 1
            if nodes > MAX_NODES:
                raise self.fail(event.start_mark, f"more than {MAX_NODES:,} values in one file; "
                                                  "split it into smaller files")
            if isinstance(event, yaml.MappingStartEvent):
                stack.append(Mapping(line, col))
                pending_keys.append(None)
            elif isinstance(event, yaml.SequenceStartEvent):
                stack.append(Sequence(line, col))
                pending_keys.append(None)
            elif isinstance(event, yaml.ScalarEvent):
                scalar = Scalar(line, col, self._scalar_value(event), event.value)
                document = self._attach(stack, pending_keys, scalar, document)
        return document

    def _scalar_value(self, event: Any) -> Any:
        if event.tag == "!" or event.style in ("'", '"', "|", ">"):
            return event.value
        tag = _resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return _constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            raise self.fail(event.start_mark, f"cannot read the value {event.value!r}") from None

    def _attach(self, stack: List[Union[Sequence, Mapping]], pending_keys: List[Optional[Scalar]],
                node: AnyNode, document: Optional[AnyNode]) -> Optional[AnyNode]:
        if not stack:
            return node
        parent = stack[-1]
        if isinstance(parent, Sequence):
            parent.items.append(node)
            return document
        key = pending_keys[-1]
        if key is None:
            if not isinstance(node, Scalar) or isinstance(node.value, (list, dict)):
                raise YamlError(Problem(self.shown, node.line, node.col, "a key must be plain text"))
            if node.value is None or isinstance(node.value, (bool, int, float)):
                node.value = "" if node.value is None else str(node.value).lower() if isinstance(node.value, bool) else str(node.value)
            if not isinstance(node.value, str):
                raise YamlError(Problem(self.shown, node.line, node.col, "a key must be plain text"))
            if node.value in parent.entries:
                first = parent.entries[node.value][0]
                raise YamlError(Problem(self.shown, node.line, node.col,
                                        f"duplicate key {node.value!r} (first at line {first.line})"))
            pending_keys[-1] = node
        else:
            parent.entries[key.value] = (key, node)
            pending_keys[-1] = None
        return document


def to_plain(node: AnyNode) -> Any:
    """Drop the marks: the plain Python value of a node."""
    if isinstance(node, Scalar):
        return node.value
    if isinstance(node, Sequence):
        return [to_plain(item) for item in node.items]
    return {key: to_plain(value) for key, (_, value) in node.entries.items()}


def dump(data: Any) -> str:
    """Plain data -> YAML text, keeping key order, for files we write ourselves."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
