"""A fetched page as a catalogue Source: article text and metadata, by trafilatura.

trafilatura drops navigation, footers, comment threads and the like, as a desk's scraper
would not, and reads the title, site name, author and date from the page's metadata.
"""
from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from compliance.checks.attribution import registrable_domain
from compliance.checks.outlets import outlet_for_domain
from compliance.fetch.cache import Page
from compliance.fetch.safety import FetchError
from compliance.model import Source

MIN_WORDS = 20  # less is a teaser, a consent wall or an error page, not an article


def source_id_for_url(url: str) -> str:
    """A stable, file-name-safe id: the site, the last part of the path, a short hash."""
    parts = urlsplit(url)
    site = re.sub(r"[^a-z0-9]+", "-", registrable_domain(url) or (parts.hostname or "web")).strip("-")
    slug = re.sub(r"[^a-z0-9]+", "-", parts.path.lower().rsplit("/", 1)[-1] or parts.path.lower()).strip("-")[:50].strip("-")
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    return "-".join(part for part in (site, slug, digest) if part)


def publisher_for_url(url: str) -> str:
    """A known outlet's name, or the site's domain (better than a guess at its capitalisation)."""
    domain = registrable_domain(url)
    outlet = outlet_for_domain(domain) if domain else None
    return outlet.name if outlet else (domain or urlsplit(url).hostname or url)


def _decode(page: Page) -> str:
    charset = re.search(r"charset=([\w-]+)", page.content_type)
    try:
        return page.body.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return page.body.decode("utf-8", errors="replace")


def extract_source(page: Page) -> Source:
    """The page's article as a Source whose origin is its URL; FetchError when there is none."""
    title = author = published = sitename = None
    if page.content_type.startswith("text/plain"):
        text = _decode(page)
    else:
        import trafilatura  # loads lxml and friends only when a page is actually read

        html = page.body if "charset" not in page.content_type else _decode(page)
        extracted = trafilatura.bare_extraction(html, url=page.final_url, with_metadata=True, include_comments=False,
                                                include_tables=False)
        if extracted is None:
            raise FetchError("extract", "no article text found on the page")
        text = extracted.text or ""
        title, author, published, sitename = extracted.title, extracted.author, extracted.date, extracted.sitename
    text = text.strip()
    if len(text.split()) < MIN_WORDS:
        raise FetchError("extract", f"no article text found on the page (only {len(text.split())} words)")
    domain = registrable_domain(page.final_url)
    outlet = outlet_for_domain(domain) if domain else None
    publisher = outlet.name if outlet else (sitename or publisher_for_url(page.final_url))
    aliases = tuple(dict.fromkeys(a for a in (*(outlet.aliases if outlet else ()), sitename, domain) if a and a != publisher))
    return Source(
        # The URL the repost credits, not where redirects ended: credit is judged against it.
        id=source_id_for_url(page.url), publisher=publisher, text=text, aliases=aliases, url=page.url,
        title=title, author=author, published=published, origin=page.url,
    )
