"""A small table of major news outlets: the names they go by and their web domains.

Publisher inference uses it to recognise a name ("AP" is the Associated Press) and to put
a name on a fetched page's domain; credits use it to know a short form ("AP", "AFP") as the
publisher's. It is a help, not a limit: unknown publishers are recognised by the patterns
alone, with more evidence demanded.

The wire dateline ("WASHINGTON (Reuters) -") is defined here once, for both: publisher
inference reads it as the agency's own words, and attribution-missing as its credit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Outlet:
    name: str
    aliases: tuple[str, ...]
    domains: tuple[str, ...]
    agency: bool = False  # a wire service: its dateline "(Reuters) -" marks wire copy


OUTLETS: tuple[Outlet, ...] = (
    Outlet("Reuters", ("Thomson Reuters",), ("reuters.com",), agency=True),
    Outlet("Associated Press", ("AP", "The Associated Press", "AP News"), ("apnews.com", "ap.org"), agency=True),
    Outlet("AFP", ("Agence France-Presse", "Agence France Presse"), ("afp.com",), agency=True),
    Outlet("Bloomberg", ("Bloomberg News",), ("bloomberg.com",), agency=True),
    Outlet("UPI", ("United Press International",), ("upi.com",), agency=True),
    Outlet("dpa", ("Deutsche Presse-Agentur",), ("dpa.com",), agency=True),
    Outlet("Xinhua", ("Xinhua News Agency",), ("xinhuanet.com", "news.cn"), agency=True),
    Outlet("Newsweek", (), ("newsweek.com",)),
    Outlet("CNN", ("CNN Business",), ("cnn.com",)),
    Outlet("BBC", ("BBC News",), ("bbc.com", "bbc.co.uk")),
    Outlet("The New York Times", ("New York Times", "NYT"), ("nytimes.com",)),
    Outlet("The Washington Post", ("Washington Post",), ("washingtonpost.com",)),
    Outlet("The Wall Street Journal", ("Wall Street Journal", "WSJ"), ("wsj.com",)),
    Outlet("The Guardian", ("Guardian",), ("theguardian.com",)),
    Outlet("Fox News", ("Fox News Digital",), ("foxnews.com",)),
    Outlet("Fox Business", (), ("foxbusiness.com",)),
    Outlet("NBC News", ("NBC",), ("nbcnews.com",)),
    Outlet("CBS News", ("CBS",), ("cbsnews.com",)),
    Outlet("ABC News", (), ("abcnews.go.com",)),
    Outlet("NPR", (), ("npr.org",)),
    Outlet("Politico", (), ("politico.com", "politico.eu")),
    Outlet("Axios", (), ("axios.com",)),
    Outlet("The Hill", (), ("thehill.com",)),
    Outlet("USA Today", (), ("usatoday.com",)),
    Outlet("Business Insider", ("Insider",), ("businessinsider.com", "insider.com")),
    Outlet("CNBC", (), ("cnbc.com",)),
    Outlet("Forbes", (), ("forbes.com",)),
    Outlet("Fortune", (), ("fortune.com",)),
    Outlet("The Telegraph", ("Telegraph",), ("telegraph.co.uk",)),
    Outlet("The Independent", ("Independent",), ("independent.co.uk",)),
    Outlet("Financial Times", ("FT",), ("ft.com",)),
    Outlet("The Economist", ("Economist",), ("economist.com",)),
    Outlet("Al Jazeera", (), ("aljazeera.com",)),
    Outlet("Yahoo News", ("Yahoo Finance",), ("yahoo.com",)),
    Outlet("VentureBeat", (), ("venturebeat.com",)),
    Outlet("TechCrunch", (), ("techcrunch.com",)),
    Outlet("The Verge", ("Verge",), ("theverge.com",)),
    Outlet("Wired", (), ("wired.com",)),
    Outlet("Le Monde", (), ("lemonde.fr",)),
    Outlet("Folha de S.Paulo", ("Folha",), ("folha.uol.com.br",)),
    Outlet("La Nación", ("La Nacion",), ("lanacion.com.ar",)),
)


def outlet_for_domain(domain: str) -> Outlet | None:
    """The outlet whose site `domain` (a registrable domain such as nytimes.com) is."""
    for outlet in OUTLETS:
        if any(domain == d or domain.endswith("." + d) or d.endswith("." + domain) for d in outlet.domains):
            return outlet
    return None


_KNOWN_NAMES = sorted({n for o in OUTLETS for n in (o.name, *o.aliases)}, key=len, reverse=True)
_KNOWN = "(?:" + "|".join(re.escape(n) for n in _KNOWN_NAMES) + ")"
# A capitalised name of up to four words ("The Kyiv Independent", "Newsweek").
_GENERIC = r"(?:The\s+)?[A-Z][\w'’&.-]*(?:\s+[A-Z][\w'’&.-]*){0,3}"
# A publisher's name as running text writes it: a known outlet, or a capitalised name.
PUBLISHER_NAME = rf"(?P<name>{_KNOWN}(?![\w-])|{_GENERIC})"
# "WASHINGTON (Reuters) -", "KYIV, Ukraine, Sept 7 (AP) —", "Paris (AFP) -", "(CNN) —" at the
# start of a paragraph: a place in capitals (or, before a dash, up to four capitalised words:
# not "England (Group A): ..."), its region, a date, then the publisher in parentheses and a
# dash. A citation ("according to Reuters", "Reuters reported") is never one.
_PLACE = (r"(?:[A-Z][A-Z.'’-]*(?:\s+[A-Z][A-Z.'’-]*)*"
          r"|[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|da|del|la|el|al)){0,3}(?=[^()]{0,60}\([^()]{1,60}\)\s*[-–—]))"
          r"(?:,\s*[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*)*")
DOMAIN = r"[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,}"  # "LONDON (ascom.com) —"
WIRE_DATELINE = re.compile(
    rf"^(?:{_PLACE}(?:,?\s+[A-Z][a-z]{{2,8}}\.?\s+\d{{1,2}})?,?\s*)?"
    rf"\((?P<name>{_KNOWN}(?![\w-])|{_GENERIC}|{DOMAIN})\)\s*[-–—:]"
    # "(CNN) President Donald Trump ...": a known outlet or an acronym opening the paragraph, no dash
    rf"|^\((?P<bare>{_KNOWN}(?![\w-])|[A-Z]{{2,6}})\)\s*(?=[A-Z\"“‘'])"
)


def named_in(hit: re.Match[str]) -> str:
    """The publisher a `WIRE_DATELINE` (or a `PUBLISHER_NAME` pattern's) match names."""
    groups = hit.groupdict()
    return (groups.get("name") or groups.get("bare") or "").strip(" .,'’")
