"""Path globs of rule packs (`paths:`) and waivers, matched against a file's project path.

Patterns follow .gitignore (pathspec's GitIgnoreSpec): `*` stays within a folder, `**` spans
folders, a folder matches everything under it. A pattern without a leading `/` matches at
any depth (`nasa-*`, `partners/acme/*` match under any scanned folder, as they did when paths
were named from the scanned folder); a leading `/` anchors it to the project root.

    waivers:
      - paths: ["partners/acme/"]       # reposts/partners/acme/a.md, archive/partners/acme/b.md
      - paths: ["/reposts/2024-*.md"]  # reposts/2024-01.md, not archive/reposts/2024-01.md
"""
from __future__ import annotations

from functools import lru_cache

import pathspec


@lru_cache(maxsize=256)
def compiled(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    floating = [p if p.startswith(("/", "**/")) or not p.strip() else "**/" + p for p in patterns]
    return pathspec.GitIgnoreSpec.from_lines(floating)


def matches(patterns: tuple[str, ...], path: str) -> bool:
    """Whether the project path (forward slashes, from the project root) matches any pattern."""
    return compiled(patterns).match_file(path)
