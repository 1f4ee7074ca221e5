"""YAML that remembers lines, so that every rule-pack error can name file and line."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from compliance.errors import ComplianceError
from compliance.ingest import yamlsafe
from compliance.ingest.read import read_text

MAX_BYTES = 1024 * 1024  # rule packs and configurations are a few KB


class LinedDict(dict):
    line: int = 1
    key_lines: dict[str, int]


class LinedList(list):
    line: int = 1
    item_lines: list[int]


def _convert(node: yaml.Node, constructor: yaml.constructor.SafeConstructor, path: str) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = LinedDict()
        result.line, result.key_lines = line, {}
        for key_node, value_node in node.value:
            key = _convert(key_node, constructor, path)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise ComplianceError("mapping keys must be plain names", path, key_node.start_mark.line + 1)
            if key in result:
                raise ComplianceError(f"key '{key}' appears twice", path, key_node.start_mark.line + 1)
            result[key] = _convert(value_node, constructor, path)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        items = LinedList(_convert(item, constructor, path) for item in node.value)
        items.line = line
        items.item_lines = [item.start_mark.line + 1 for item in node.value]
        return items
    return constructor.construct_object(node, deep=True)


def load_lined_yaml(path: Path) -> Any:
    """Parse a YAML file into dicts and lists that carry their line numbers."""
    text = read_text(path, MAX_BYTES)  # a regular file, bounded: `extends: /dev/zero` read for ever
    try:
        node = yamlsafe.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc) or "invalid YAML"
        raise ComplianceError(f"invalid YAML: {problem}", str(path), mark.line + 1 if mark else None) from None
    if node is None:
        return None
    try:
        return _convert(node, yamlsafe.Loader(""), str(path))
    except RecursionError:
        raise ComplianceError("invalid YAML: nested too deeply", str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ComplianceError(f"invalid YAML: {getattr(exc, 'problem', exc)}", str(path), mark.line + 1 if mark else None) from None
