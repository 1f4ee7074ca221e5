"""`compliance sources add URL`: fetch a page and save it into a catalogue folder.

The file is Markdown with the catalogue's front matter (id, publisher, url, title, author,
published) and the extracted text, so that later scans match against it without the web.
An existing file is never overwritten, and nothing is written outside the catalogue folder:
the id is the file's name, so it must be a plain one, and a symbolic link planted where the
file goes is not followed.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from compliance.errors import ComplianceError
from compliance.fetch.extract import extract_source
from compliance.fetch.safety import FetchError
from compliance.fetch.settings import FetchSettings
from compliance.fetch.verify import open_fetcher
from compliance.model import Source


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")  # no separator, no "..", no hidden file
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def check_source_id(source_id: str, flag: str = "--id") -> None:
    """A one-line error unless `source_id` can only name a file in the catalogue folder itself."""
    if not _PLAIN_NAME.fullmatch(source_id):
        raise ComplianceError(f"{flag} must be a plain file name of ASCII letters, digits, '-', '_' and '.', "
                              f"not starting with a dot (not {source_id!r})")


def source_markdown(source: Source) -> str:
    fields = {"id": source.id, "publisher": source.publisher, "url": source.url, "title": source.title,
              "author": source.author, "published": source.published}
    if source.aliases:
        fields["aliases"] = list(source.aliases)
    front = yaml.safe_dump({k: v for k, v in fields.items() if v}, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n\n{source.text.strip()}\n"


def add_source(url: str, catalogue: Path, settings: FetchSettings, publisher: str | None = None,
               source_id: str | None = None) -> tuple[Path, Source]:
    """Fetch `url` (through the cache) and write it as `<catalogue>/<id>.md`; ComplianceError on failure."""
    if source_id is not None:
        check_source_id(source_id)  # before fetching: a bad name is not worth a request
    if catalogue.exists() and not catalogue.is_dir():
        raise ComplianceError("the catalogue must be a folder to add a source to", str(catalogue))
    fetcher = open_fetcher(settings)
    try:
        source = extract_source(fetcher.get(url))
    except FetchError as error:
        raise ComplianceError(f"cannot add the page: {error.reason}", url) from None
    finally:
        fetcher.close()
    if publisher:
        source.aliases = tuple(a for a in (source.publisher, *source.aliases) if a != publisher)
        source.publisher = publisher
    if source_id is not None:
        source.id = source_id
    check_source_id(source.id, "the id made from the URL")  # always plain today; checked so it stays so
    path = catalogue / f"{source.id}.md"
    try:
        catalogue.mkdir(parents=True, exist_ok=True)
        if os.path.realpath(path.parent) != os.path.realpath(catalogue):
            raise ComplianceError("not in the catalogue folder; not written", str(path))
        # O_EXCL: never overwrite a source someone may have edited; O_NOFOLLOW (and O_EXCL
        # already): never write through a symbolic link planted in the file's place.
        descriptor = os.open(path, _CREATE, 0o666)
    except FileExistsError:
        if path.is_symlink():
            raise ComplianceError("a symbolic link is in the way; not followed, not overwritten", str(path)) from None
        raise ComplianceError("already in the catalogue; not overwritten (pass --id for another name)", str(path)) from None
    except OSError as exc:
        raise ComplianceError(f"cannot write: {exc.strerror or exc}", str(path)) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(source_markdown(source))
    except OSError as exc:
        raise ComplianceError(f"cannot write: {exc.strerror or exc}", str(path)) from None
    return path, source

