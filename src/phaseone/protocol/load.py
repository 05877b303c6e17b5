"""Load a protocol from YAML, turning every error into file:line: field: message.

YAML is composed into nodes first so that each field path can be traced back to the
line it was written on. Draft files may hold `{todo: "..."}` markers where a value
could not be inferred (for example after a registry import); those are reported as
problems of their own, and errors caused only by a marker are not repeated.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from phaseone.errors import Problem, ProtocolError
from phaseone.protocol.model import Protocol

Loc = tuple[str | int, ...]


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a protocol file; raise ProtocolError naming line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = Problem("", f"cannot read file: {exc.strerror}", file=str(path))
        raise ProtocolError([problem]) from None
    return parse_protocol(text, source=str(path))


def parse_protocol(text: str, source: str = "<protocol>") -> Protocol:
    data, lines = read_yaml_with_lines(text, source)
    todos = list(find_todos(data))
    if not isinstance(data, dict):
        raise ProtocolError(
            [Problem("", "expected a mapping of protocol fields at the top", source, 1)]
        )
    problems = [
        Problem(_format(loc), f"TODO: {note}", source, _line_of(loc, lines)) for loc, note in todos
    ]
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = _data_loc(err["loc"], data)
            if err["type"] == "union_tag_invalid":  # point at the tag field itself
                loc = (*loc, str(err.get("ctx", {}).get("discriminator", "")).strip("'"))
            if any(loc[: len(t)] == t for t, _ in todos):
                continue  # caused by a TODO marker, already reported
            if err["type"] == "too_short" and any(t[: len(loc)] == loc for t, _ in todos):
                continue  # its items failed only because they hold TODO markers
            problems.append(
                Problem(_format(loc), _message(err, loc, data), source, _line_of(loc, lines))
            )
        raise ProtocolError(problems) from None
    except ProtocolError as exc:  # cross-field rules (model.py)
        problems.extend(
            Problem(p.path, p.message, source, _line_of(_parse_path(p.path), lines))
            for p in exc.problems
        )
        raise ProtocolError(problems) from None
    if problems:
        raise ProtocolError(problems)
    return protocol


def with_lines(problems: Sequence[Problem], path: str | Path) -> list[Problem]:
    """Point problems found after loading (e.g. by an engine) at their lines in the file."""
    try:
        _, lines = read_yaml_with_lines(Path(path).read_text(encoding="utf-8"), str(path))
    except (OSError, ProtocolError):
        lines = {}
    return [
        Problem(p.path, p.message, str(path), _line_of(_parse_path(p.path), lines))
        for p in problems
    ]


# --- YAML with line numbers -------------------------------------------------------------


def read_yaml_with_lines(text: str, source: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML; return the data and a map from each field path to its 1-based line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or "malformed YAML"
        raise ProtocolError([Problem("", f"not valid YAML: {reason}", source, line)]) from None
    except yaml.YAMLError as exc:
        raise ProtocolError([Problem("", f"not valid YAML: {exc}", source)]) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _index(node, (), lines)
    return data, lines


def _index(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _index(value_node, (*loc, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*loc, i), lines)


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    """The line of the field, or of its nearest ancestor present in the file."""
    for end in range(len(loc), -1, -1):
        key = tuple(str(p) if isinstance(p, str) else p for p in loc[:end])
        if key in lines:
            return lines[key]
    return None


def find_todos(data: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Every `{todo: "..."}` marker in a draft, with its path."""
    if isinstance(data, dict):
        if set(data) == {"todo"}:
            yield loc, str(data["todo"])
            return
        for key, value in data.items():
            yield from find_todos(value, (*loc, str(key)))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from find_todos(item, (*loc, i))


# --- pydantic error locations and messages ---------------------------------------------


def _data_loc(loc: Sequence[str | int], data: Any) -> Loc:
    """Drop the tags pydantic inserts for unions, keeping the path as written in the file."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            node = node[part]
            out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            out.append(part)
        elif last or not isinstance(node, (dict, list)):
            out.append(part)
            node = None
        # otherwise: a union tag such as 'boin' or 'function-before[...]'; skip it
    return tuple(out)


def _format(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _parse_path(path: str) -> Loc:
    out: list[str | int] = []
    for chunk in path.replace("]", "").split("."):
        name, *indexes = chunk.split("[")
        if name:
            out.append(name)
        out.extend(int(i) for i in indexes)
    return tuple(out)


def _message(err: ErrorDetails, loc: Loc, data: Any) -> str:
    kind = err["type"]
    got = err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1], data)
        name = str(loc[-1]) if loc else "?"
        hint = difflib.get_close_matches(name, allowed, n=1)
        text = f"unknown field {name!r}"
        if hint:
            text += f" (did you mean {hint[0]!r}?)"
        return text + (f"; expected one of: {', '.join(allowed)}" if allowed else "")
    if kind in ("value_error", "assertion_error"):
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown value {ctx.get('tag')!r}; expected one of: {ctx.get('expected_tags')}"
    if kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", ""))
        return f"got {got!r}; expected {expected}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping of fields, got {_describe(got)}"
    return f"{_lower_first(err['msg'])}; got {_describe(got)}"


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _fields_at(loc: Loc, data: Any) -> list[str]:
    """Field names of the model found at this path of a Protocol, for suggestions."""
    current: Any = Protocol
    node = data
    for part in loc:
        node = _child(node, part)
        current = _unwrap(current, part, node)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _unwrap(annotation: Any, part: str | int, node: Any) -> Any:
    """Step one path element into a type: a model's field, a tuple's item, a dict's value.

    `node` is the data found at that path; it picks the member of a tagged union.
    """
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return _resolve(field.annotation, node) if field is not None else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unwrap(args[0], part, node)
    if origin is tuple and args:
        return _resolve(args[0], node) if isinstance(part, int) else None
    if origin is dict and len(args) == 2:
        return _resolve(args[1], node)
    return None


def _resolve(annotation: Any, node: Any) -> Any:
    """Strip Annotated and Optional; choose the union member whose literal tags match."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _resolve(args[0], node)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        for member in members:
            if _tags_match(member, node):
                return member
        return members[0] if len(members) == 1 else None
    return annotation


def _tags_match(member: Any, node: Any) -> bool:
    if not (isinstance(member, type) and issubclass(member, BaseModel)):
        return False
    if not isinstance(node, dict):
        return False
    for name, field in member.model_fields.items():
        is_tag = typing.get_origin(field.annotation) is typing.Literal
        if is_tag and name in node and node[name] not in typing.get_args(field.annotation):
            return False
    return True
