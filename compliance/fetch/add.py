"""`compliance sources add URL`: fetch a page and save it into a catalogue folder.

The file is Markdown with the catalogue's front matter (id, publisher, url, title, author,
published) and the extracted text, so that later scans match against it without the web.
An existing file is never overwritten.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from compliance.errors import ComplianceError
from compliance.fetch.extract import extract_source
from compliance.fetch.safety import FetchError
from compliance.fetch.settings import FetchSettings
from compliance.fetch.verify import open_fetcher
from compliance.model import Source


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
    if source_id:
        source.id = source_id
    path = catalogue / f"{source.id}.md"
    catalogue.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as out:  # "x": never overwrite a source someone may have edited
            out.write(source_markdown(source))
    except FileExistsError:
        raise ComplianceError("already in the catalogue; not overwritten (pass --id for another name)", str(path)) from None
    except OSError as exc:
        raise ComplianceError(f"cannot write: {exc.strerror or exc}", str(path)) from None
    return path, source

