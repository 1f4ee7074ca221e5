"""Dates and times inside credit lines, so that a credit is read as naming a publisher only.

Pages print their publication time in words that look like a credit ("Originally published
July 15, 2018 at 3:56 am", "First published on May 31, 2019 / 10:50 AM"); `strip_dates`
removes such expressions, with the words that introduce them ("on", "Updated ...").

Why not dateparser (installed with trafilatura): its `search_dates` reads publisher names as
dates ("March of Dimes" -> "March of", "May Department Stores" -> "May", "Sunday Times",
"USA TODAY", "NOW magazine"), cuts dates into pieces ("Nov. 20, 2024" -> "Nov" + "20, 2024";
"10:50 a.m. EDT" -> "10:50 a"), costs about 2.6 ms a call after a 0.3 s warm-up, and is not a
declared dependency. A small grammar of date words is predictable instead: a run of date atoms
(month, weekday, day, year, time, ISO or numeric date, "2 hours ago") is a date when it holds
what makes one (a time, a day or year with a month or weekday); a month, weekday or year alone
is a date only where no name can be meant ("on Monday", "in May", "Reuters, 2019"), never
inside a name ("May Department Stores", "Baltimore Sun", "Mars 2020").
"""
from __future__ import annotations

import re

_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_WEEKDAY = r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
_AMPM = r"[ap]\.?\s?m\b\.?"
_ZONE = (r"(?:\s*(?:UTC|GMT|BST|IST|CET|CEST|EET|EEST|WET|MSK|HKT|SGT|JST|KST|AEST|AEDT|ACST|AWST|NZST|NZDT|PKT|WIB"
         r"|E[SD]?T|C[SD]?T|M[SD]?T|P[SD]?T|AK[SD]T|H[SD]T)\b)?")
_NUMBER_WORDS = r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|few|several)"
_UNITS = r"(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mos?|months?|y|yrs?|years?)"
_ATOM = re.compile(
    rf"(?P<iso>\b\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?(?:Z|[+-]\d{{2}}:?\d{{2}})?)?(?!\d))"
    rf"|(?P<numeric>\b\d{{1,2}}[/.]\d{{1,2}}[/.](?:\d{{4}}|\d{{2}})\b)"
    rf"|(?P<time>\b\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*{_AMPM})?{_ZONE}|\b\d{{1,2}}(?:\.\d{{2}})?\s*{_AMPM}{_ZONE}"
    rf"|\b\d{{4}}\s*(?:GMT|UTC)\b"
    rf"|\b(?:[01]?\d|2[0-3])\.[0-5]\d\s+(?-i:UTC|GMT|BST|[ECMP][SD]T|CES?T)\b)"  # the Guardian's "13.31 EST"
    rf"|(?P<relative>\b{_NUMBER_WORDS}\s*{_UNITS}\s+ago\b|(?-i:\b(?:yesterday|today|tonight|just now)\b))"
    rf"|(?P<year>\b(?:19|20)\d{{2}}\b)"
    rf"|(?P<month>\b{_MONTH}\b\.?(?!-\w))"
    rf"|(?P<weekday>\b{_WEEKDAY}\b\.?(?!-\w))"
    rf"|(?P<day>\b\d{{1,2}}(?:st|nd|rd|th)?\b(?![.:/]\d))",
    re.IGNORECASE,
)
# What may stand between two atoms of one date: "July 15, 2018 at 3:56 am", "May 31, 2019 / 10:50 AM".
_GAP = re.compile(r"(?:[\s,/|·•:–—-]|\b(?:at|on|of|the)\b)*", re.IGNORECASE)
# Words that introduce a date; they go with it.
_LEAD = re.compile(
    r"(?:\b(?:(?:last|first|originally)\s+)?(?:updated|published|posted|modified|edited|revised)\b\s*(?:on|at)?\s*:?\s*"
    r"|\b(?:on|at|in|since|as\s+of|dated)\s+)+$",
    re.IGNORECASE,
)
_STRONG = {"iso", "numeric", "time", "relative"}
# A name word right before (or after) a lone weekday, month or year makes it the name's
# ("Baltimore Sun, Nov. 19", "Mars 2020"); a full weekday name before a date is the date's.
_NAME_BEFORE = re.compile(r"[A-Za-z][\w'’.&-]*\s+$")
_NAME_AFTER = re.compile(r"\s+[A-Z]")
_ONLY_GLUE = re.compile(
    r"(?:[\s,;/|·•:.–—-]|\b(?:at|on|in|of|and|the|updated|published|posted|modified|edited|revised|last|first|originally)\b)*",
    re.IGNORECASE,
)

_Atom = tuple[int, int, str]  # start, end, kind


def _runs(text: str) -> list[list[_Atom]]:
    """Atoms that stand together, joined only by what may separate the parts of one date."""
    runs: list[list[_Atom]] = []
    for found in _ATOM.finditer(text):
        atom = (found.start(), found.end(), found.lastgroup or "")
        if runs and _GAP.fullmatch(text, runs[-1][-1][1], atom[0]):
            runs[-1].append(atom)
        else:
            runs.append([atom])
    return runs


def _is_date(kinds: list[str]) -> bool:
    found = set(kinds)
    return bool(found & _STRONG) or bool({"month", "weekday"} & found and {"day", "year"} & found)


def _name_part(text: str, atom: _Atom, neighbour: str | None) -> bool:
    """Whether a lone weekday, month or year at a run's edge belongs to a name beside it."""
    start, end, kind = atom
    if kind == "weekday":
        return "." not in text[start:end] and end - start <= 3  # "Sun", not "Sun." or "Sunday"
    if kind == "month":
        return neighbour not in ("day", "year")
    return kind == "year" and neighbour not in ("month", "day", "time")


def _trim(text: str, run: list[_Atom]) -> list[_Atom]:
    while run and _NAME_BEFORE.search(text, 0, run[0][0]) and not _LEAD.search(text, 0, run[0][0]) \
            and _name_part(text, run[0], run[1][2] if len(run) > 1 else None):
        run = run[1:]
    while run and _NAME_AFTER.match(text, run[-1][1]) and not only_glue(text[run[-1][1]:].split(None, 1)[0]) \
            and _name_part(text, run[-1], run[-2][2] if len(run) > 1 else None):
        run = run[:-1]
    return run


def strip_dates(text: str) -> str:
    """`text` without its date and time expressions; what is left of a credit is the name."""
    if not _ATOM.search(text):
        return text
    cuts: list[tuple[int, int]] = []
    for run in _runs(text):
        run = _trim(text, run)
        kinds = [kind for _, _, kind in run]
        if not kinds or set(kinds) == {"day"}:
            continue  # a number alone is no date ("Fox 5")
        start, end = run[0][0], run[-1][1]
        lead = _LEAD.search(text, 0, start)
        if not _is_date(kinds):
            # A weekday, month or year alone is a date where no name can be meant: "on Monday",
            # "in May", or standing apart ("Reuters, 2019"); not "May Department Stores".
            before, after = text[:start].rstrip(), text[end:].lstrip()
            apart = (not before or before[-1] in ",;|/–—-:") and (not after or after[0] in ",;|/–—-.")
            if not lead and not apart:
                continue
        cuts.append((lead.start() if lead else start, end))
    if not cuts:
        return text
    kept, position = [], 0
    for start, end in cuts:
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return " ".join("".join(kept).split())


def only_glue(text: str) -> bool:
    """Whether `text` is nothing but what surrounds a date ("at", "Updated", punctuation)."""
    return bool(_ONLY_GLUE.fullmatch(text))
