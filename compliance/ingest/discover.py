"""Find the reposts under the paths a user names."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from compliance.ingest.read import DEFAULT_MAX_BYTES  # noqa: F401 (the package exports it from here)
SUPPORTED_SUFFIXES = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


@dataclass
class Discovery:
    """The files to scan, each with the path the report shows, and what was passed over."""

    files: list[tuple[Path, str]] = field(default_factory=list)  # (file, report path)
    skipped: int = 0  # files of other types
    unreadable: list[tuple[Path, str, str]] = field(default_factory=list)  # (folder, report path, why)
    links_skipped: list[str] = field(default_factory=list)  # links out of the scanned folders, not followed
    # The real path of each file found in a folder (by its path as named, `os.fspath`): the walk
    # resolved every folder and link already, and the state keys files by it (`RealPaths.know`).
    real_paths: dict[str, str] = field(default_factory=dict)


def writable(name: str) -> str:
    """A file name as reports can write it: bytes that are not UTF-8 (a name with `\\xff`,
    which Python reads as lone surrogates) become U+FFFD."""
    return name if name.isascii() else name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def project_path(real: str, root: str) -> str:
    """A resolved path as files are named everywhere: from the project root, with forward
    slashes; a path outside the root stays absolute (as ruff names such files), which keeps
    it unique and the same from any working folder."""
    relative = os.path.relpath(real, root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        relative = real
    return Path(relative).as_posix()


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

    def know(self, real_paths: dict[str, str]) -> None:
        """Real paths worked out elsewhere (`Discovery.real_paths`), taken as they are."""
        for named, real in real_paths.items():
            self._files.setdefault(named, real)

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

    def location(self, file: Path, project_root: Path) -> str:
        """The file's real path relative to `project_root` (resolved), with forward slashes,
        as git and CI name it; worked out once per folder."""
        folder, name = os.path.split(self(file))
        relative = self._relative.get((folder, project_root))
        if relative is None:
            relative = self._relative[folder, project_root] = project_path(folder, os.fspath(project_root))
        return writable(name if relative == "." else f"{relative.rstrip('/')}/{name}")


class _Names:
    """Report paths: a file's folder, resolved, relative to the project root, then its name.
    Each folder is resolved once; a file's own link is not followed, so a link is reported
    where the user sees it (its target is the state's key, `RealPaths`)."""

    def __init__(self, project_root: Path):
        self.root = os.path.realpath(project_root)
        self._prefixes: dict[str, str] = {}

    def prefix(self, folder: str) -> str:
        prefix = self._prefixes.get(folder)
        if prefix is None:
            relative = project_path(os.path.realpath(folder), self.root)
            prefix = self._prefixes[folder] = "" if relative == "." else relative.rstrip("/") + "/"
        return prefix

    def of(self, file: Path) -> str:
        folder, name = os.path.split(os.path.abspath(file))
        return self.prefix(folder) + name


def _supported(name: str) -> bool:
    """Whether a file of this name is scanned: `Path(name).suffix`, without making a Path."""
    dot = name.rfind(".")
    return 0 < dot < len(name) - 1 and name[dot:].lower() in SUPPORTED_SUFFIXES


def _inside(real: str, folders: list[str]) -> bool:
    return any(real == folder or real.startswith(folder + os.sep) for folder in folders)


def _entries(folder: str) -> tuple[list[str], list[str], list[str]]:
    """A folder's visible sub-folders, files and links (hidden names left out), from one listing:
    the listing tells links apart without a system call per file."""
    folders, files, links = [], [], []
    with os.scandir(folder) as listing:
        for entry in listing:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_symlink():
                    links.append(entry.name)
                elif entry.is_dir(follow_symlinks=False):
                    folders.append(entry.name)
                else:
                    files.append(entry.name)
            except OSError:
                files.append(entry.name)  # reported as unreadable when read
    return folders, files, links


def discover(roots: list[Path], project_root: Path | None = None, excluded: list[Path] | None = None,
             follow_links: bool = False) -> Discovery:
    """Walk files and folders (recursively, skipping hidden ones) in a stable order.

    Every file is named by its path from `project_root` (default: the working folder), so
    the report, the baseline and the state name it the same way from wherever the scan runs,
    and two scanned folders holding the same file name stay apart. A file named twice (a
    folder and a file in it) is scanned once. Files under the `excluded` folders (the source
    catalogue) are not reposts and are passed over, even when named one by one (a pre-commit
    hook names every staged file).

    Links found in a scanned folder are followed only where they lead inside the scanned
    folders: a link to `/etc/passwd` or a secrets file would publish its text in the reports.
    The others are listed in `links_skipped` (`follow_links` follows them all). A file named
    on the command line is read wherever it leads: the user named it.
    """
    found = Discovery()
    names = _Names(project_root or Path.cwd())
    fenced = [os.path.realpath(path) for path in excluded or []]
    inside = [os.path.realpath(root) for root in roots if root.is_dir()]
    seen: set[str] = set()
    walked: set[str] = set()

    def add(file: Path, name: str) -> None:
        name = writable(name)
        if name not in seen:
            seen.add(name)
            found.files.append((file, name))

    def other(name: str) -> None:
        name = writable(name)
        if name not in seen:
            seen.add(name)
            found.skipped += 1

    for root in roots:
        if root.is_file():
            if fenced and _inside(os.path.realpath(root), fenced):
                continue
            name = names.of(root)
            add(root, name) if _supported(root.name) else other(name)
            continue
        pending = [(os.fspath(root), names.prefix(os.fspath(root)))]  # below the root, named as the user sees them
        while pending:
            folder, prefix = pending.pop()
            real = os.path.realpath(folder)
            if real in walked or (fenced and _inside(real, fenced)):
                continue  # walked already (named twice, or reached by a link), or the catalogue
            walked.add(real)
            try:
                folders, files, links = _entries(folder)
            except OSError as error:  # a folder the scan cannot enter must not pass the gate unnoticed
                name = names.of(Path(folder))
                if name not in seen:
                    seen.add(name)
                    found.unreadable.append((Path(folder), name, error.strerror or str(error)))
                continue
            targets = {}
            for name in links:
                target = os.path.realpath(os.path.join(folder, name))
                if not (follow_links or _inside(target, inside)):
                    found.links_skipped.append(writable(prefix + name))
                elif os.path.isdir(target):
                    folders.append(name)
                else:
                    files.append(name)
                    targets[name] = target
            pending.extend((os.path.join(folder, name), f"{prefix}{name}/") for name in folders)
            base = Path(folder)
            for name in files:
                if _supported(name):  # told from the name before a Path is made: 10,000 Paths take 50 ms
                    file = base / name
                    add(file, prefix + name)
                    found.real_paths[os.fspath(file)] = targets.get(name) or os.path.join(real, name)
                else:
                    other(prefix + name)
    found.files.sort(key=lambda pair: pair[1])
    found.links_skipped.sort()
    return found
