"""The one YAML loader for everything a user writes: front matter, catalogue sources, rule
packs and configuration files.

It is PyYAML's SafeLoader without aliases (`*name`): nine levels of anchors in 300 bytes
expand to billions of nodes wherever the data is walked (50 s, then MemoryError), and none
of these files needs them. Text is made encodable (a lone surrogate from a `"\\ud83d"` escape
crashed report writing; a valid pair becomes its character), and a value PyYAML cannot build
(a 5,000-digit integer, the date 2025-13-45) or nesting deeper than Python's stack becomes a
`yaml.YAMLError` like any other, for callers to report with the file and line.
"""
from __future__ import annotations

from typing import Any

import yaml


def encodable(text: str) -> str:
    """`text` with surrogate pairs joined and lone surrogates replaced (U+FFFD)."""
    if text.isascii():
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class Loader(yaml.SafeLoader):
    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
        return super().compose_node(parent, index)

    def construct_object(self, node, deep=False):  # type: ignore[override]
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"cannot read this value ({exc})", node.start_mark) from None


def _text(loader: Loader, node: yaml.ScalarNode) -> str:
    return encodable(loader.construct_scalar(node))


Loader.add_constructor("tag:yaml.org,2002:str", _text)


def _one_line(error: yaml.YAMLError, text: str) -> yaml.YAMLError:
    """A control character is a `ReaderError`, which has no `problem` and says where it is in
    lines of its own (` in "<unicode string>", position 19`): as every other YAML error, a
    problem of one line and a mark that gives its line."""
    if isinstance(error, yaml.reader.ReaderError):
        position = min(max(error.position, 0), len(text))
        line = text.count("\n", 0, position)
        mark = yaml.Mark("<unicode string>", position, line, position - (text.rfind("\n", 0, position) + 1), None, None)
        character = error.character if isinstance(error.character, int) else ord(error.character[:1] or "?")
        return yaml.MarkedYAMLError(None, None, f"unacceptable character #x{character:04x}: {error.reason}", mark)
    if isinstance(error, yaml.MarkedYAMLError) and not error.problem:
        error.problem = error.context or "invalid YAML"
    return error


def _parsed(parse, text: str) -> Any:
    """`parse` (yaml.compose or yaml.load) of `text` with this loader, its errors made one-line."""
    try:
        return parse(text, Loader=Loader)
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
    except yaml.YAMLError as error:
        raise _one_line(error, text) from None


def compose(text: str) -> yaml.Node | None:
    """The node tree of `text` (for loaders that keep line numbers)."""
    return _parsed(yaml.compose, text)


def load(text: str) -> Any:
    return _parsed(yaml.load, text)
