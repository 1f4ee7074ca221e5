"""YAML front matter: `---` fenced mapping at the top of a Markdown (or catalogue) file."""
from __future__ import annotations

from typing import Any

import yaml

from compliance.errors import ComplianceError
from compliance.ingest import yamlsafe


def split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    """Return (metadata, body, number of lines the front matter took).

    The line count lets the body keep the line numbers it has in the file.
    Raises ComplianceError naming the file and line for YAML that does not parse.
    """
    if not (text.startswith("---\n") or text.startswith("---\r\n")):
        return {}, text, 0
    lines = text.splitlines(keepends=True)
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") in ("---", "..."):
            yaml_text = "".join(lines[1:index])
            body = "".join(lines[index + 1 :])
            return _parse_yaml_mapping(yaml_text, path, first_line=2), body, index + 1
    raise ComplianceError("front matter opened with '---' is never closed", path, 1)


def _parse_yaml_mapping(yaml_text: str, path: str, first_line: int) -> dict[str, Any]:
    try:
        data = yamlsafe.load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(exc, "problem", None) or str(exc) or "invalid YAML"
        raise ComplianceError(f"front matter: {problem}", path, line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ComplianceError("front matter must be a mapping of fields", path, first_line)
    return data
