"""Find the reposts under the paths a user names."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
SUPPORTED_SUFFIXES = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


@dataclass
class Discovery:
    """The files to scan, each with the path the report shows, and what was passed over."""

    files: list[tuple[Path, str]] = field(default_factory=list)  # (file, report path)
    skipped: int = 0  # files of other types
    unreadable: list[tuple[Path, str, str]] = field(default_factory=list)  # (folder, report path, why)


class RealPaths:
    """Files' real paths (`Path.resolve`), each worked out once. Resolving walks every folder of
    a path with a system call each: a folder of reposts is resolved once, and a file on its
    own only when it is a link."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}
        self._files: dict[str, str] = {}  # by the path as named: hashing a str is cheap, a Path's parts are not
        self._relative: dict[tuple[str, Path], str] = {}

    def __call__(self, file: Path) -> str:
        named = os.fspath(file)
        real = self._files.get(named)
        if real is None:
            folder, name = os.path.split(os.path.abspath(named))
            real = self._files[named] = self._real(folder, name, os.path.islink(os.path.join(folder, name)))
        return real

    def _real(self, folder: str, name: str, is_link: bool) -> str:
        real = os.path.join(self._real_folder(folder), name)
        return os.path.realpath(real) if is_link else real

    def _real_folder(self, absolute: str) -> str:
        if absolute not in self._folders:
            self._folders[absolute] = os.path.realpath(absolute)
        return self._folders[absolute]

    def resolve_ahead(self, files: list[Path]) -> None:
        """Work out the real paths of `files` now, reading each folder's entries once (which
        of them are links, from the folder's listing) instead of asking about each file: done
        before a scan's workers fork, it spares each of them a system call and some
        bookkeeping per file. Each folder is made absolute and resolved once, not each file's
        path: 10,000 files took 75-80 ms instead of 100-170, all of it before the workers start."""
        listings: dict[str, tuple[str, set[str]] | None] = {}
        for file in map(os.fspath, files):
            if file in self._files:
                continue
            folder, name = os.path.split(file)
            if folder not in listings:
                listings[folder] = self._listing(folder)
            listing = listings[folder]
            if listing is not None:
                real_folder, linked = listing
                self._files[file] = os.path.realpath(real_folder + name) if name in linked else real_folder + name

    def _listing(self, folder: str) -> tuple[str, set[str]] | None:
        """The folder's real path, ending in a separator, and which of its entries are links;
        None when it cannot be listed (its files are then resolved one by one, as asked)."""
        absolute = os.path.abspath(folder)
        try:
            with os.scandir(absolute) as entries:
                linked = {entry.name for entry in entries if entry.is_symlink()}
        except OSError:
            return None
        return os.path.join(self._real_folder(absolute), ""), linked

    def location(self, file: Path, working_folder: Path) -> str:
        """The file's real path relative to `working_folder` (resolved), with forward slashes,
        as git and CI name it; worked out once per folder."""
        folder, name = os.path.split(self(file))
        relative = self._relative.get((folder, working_folder))
        if relative is None:
            relative = self._relative[folder, working_folder] = Path(os.path.relpath(folder, working_folder)).as_posix()
        return name if relative == "." else f"{relative}/{name}"


def _report_path(file: Path) -> str:
    """A file named on its own: relative to the working folder (a file in a folder scanned is
    named relative to that folder).

    A pre-commit hook passes files one by one from the repository root, so they keep the
    paths a baseline or waiver of the whole repository knows them by.
    """
    try:
        return file.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return file.name


def _supported(name: str) -> bool:
    """Whether a file of this name is scanned: `Path(name).suffix`, without making a Path."""
    dot = name.rfind(".")
    return 0 < dot < len(name) - 1 and name[dot:].lower() in SUPPORTED_SUFFIXES


def discover(roots: list[Path]) -> Discovery:
    """Walk files and folders (recursively, skipping hidden ones) in a stable order.

    Paths in the report are relative to the folder scanned, so that a report does not change
    when the same folder is scanned from elsewhere.
    """
    found = Discovery()
    for root in roots:
        if root.is_file():
            if _supported(root.name):
                found.files.append((root, _report_path(root)))
            else:
                found.skipped += 1
            continue

        def unreadable(error: OSError, root: Path = root) -> None:
            # A folder the scan cannot enter must not pass the gate unnoticed.
            folder = Path(error.filename)
            name = folder.relative_to(root).as_posix() if folder != root else folder.name
            found.unreadable.append((folder, name or ".", error.strerror or str(error)))

        for folder, dirnames, filenames in os.walk(root, onerror=unreadable):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            relative = os.path.relpath(folder, root).replace(os.sep, "/")
            prefix = "" if relative == "." else relative + "/"
            base = Path(folder)
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                if _supported(name):  # told from the name before a Path is made: 10,000 Paths take 50 ms
                    found.files.append((base / name, prefix + name))
                else:
                    found.skipped += 1
    found.files.sort(key=lambda pair: pair[1])
    return found
