#!/usr/bin/env python3
"""Generate labelled development sets for the mechanisms the dev set does not exercise.

Every set is laid out as ../shared/eval/dev is (`sources/*.md` with front matter,
`reposts/**` in .txt, .md and .html, `truth.json`), so `../shared/eval/score.py` reads it, and
its truth carries one more field per repost: `sources`, the ids of every source the repost
copies (primary first, possibly empty), beside `source`, the primary (the most copied).

Sets (each about a hundred reposts, all from ../shared/corpus/articles.jsonl):

- `roundups`: paragraphs of 2 or 3 articles by different publishers one after another, with
  attribution lines crediting all, some or none of them, sometimes someone else too;
- `debris`: a cut-short copy (3-7 paragraphs, 120-200 words, the last one sometimes cut off)
  of an article, wrapped in real site chrome (the text of a real publisher page that is not
  its article, diffed out of the page's visible text: menus, subscription prompts, share rows,
  other headlines; light, medium, or heavier than the copy), from the article's own page or
  another; credited by a byline, a dateline, a copyright line, a Source: line, someone else's
  Source: line, or not at all. Half the catalogue's copies of articles with a page are wrapped
  in that page's chrome, so a repost wrapped in the same page's chrome shares text with a
  catalogue entry it does not copy (`catalogued_page`);
- `distractors`: original writing (articles kept out of the catalogue) that quotes two or
  three 10-30-word passages of the catalogue article nearest in subject (tf-idf), and real
  pairs of same-event articles by different publishers that share quotes (the one kept out of
  the catalogue is the repost): no source, no attribution finding;
- `datelines`: credited copies carrying a date line that is not a credit ("Originally
  published July 15, 2018 at 3:56 am"), with uncredited and miscredited controls;
- `wirecredits`: copies credited only by a byline ("By X, Associated Press"), a dateline
  ("WASHINGTON (AP) —") or a copyright line, with uncredited and miscredited controls.

Articles that are near-copies of another are left out; a wire story (its text opens with a
"CITY (AP) —" or "(Reuters) -" dateline) is catalogued under the wire's name whoever ran it.
Copies drop such datelines unless a dateline is the credit meant, and credit lines inside the
articles themselves ("© Reuters", "(Reporting by ...)", photo credits) are dropped at load.

What a correct checker reports (the truth's `rules`), for the set of copied sources S and the
publishers the desk's credit lines name, C:

- `attribution-mismatch` when some name in C is the publisher of no source in S;
- `attribution-missing` when some source in S is not credited, unless every credit line
  credits someone else (then it is the mismatch alone, as in the dev set's wrong_attrib);
- `excerpt-limit` when some source in S is copied beyond its licence (`none`: any copy;
  `excerpt`: more than `max_excerpt` of its words; shares within 0.07 of the limit are never
  generated, with or without the chrome of a wrapped catalogue copy in the denominator);
- `disclaimer-missing` when the seed repost's desk disclaimer is absent or cut short;
- `caption-duplicated` never: no generated repost repeats a sentence.

Credits are lines the desk wrote (Source:/Sources:/Credit: lines, "Originally published by
X", a `source:` front matter field, bylines, datelines, copyright lines); chrome lines that
look like credits (copyright notices, "By ...", "Source", the page's own site name) are left
out of the chrome so that the truth does not hang on them. Dates never credit anyone.

The output is a function of the corpus and the seed alone: the same seed writes the same bytes.

    python benchmarks/devsets.py                        # -> build/devsets/<set>/
    python benchmarks/devsets.py -o /tmp/sets -s 7 -k roundups -k debris
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import html
import json
import math
import random
import re
import shutil
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
KINDS = ("roundups", "debris", "distractors", "datelines", "wirecredits")
# What each part of a truth `case` ("debris-heavy-own_page-wrapped_source-byline") says.
FACETS = {
    "roundups": ("sources", "credited", "credit lines"),
    "debris": ("chrome", "chrome from", "catalogue copy", "credit"),
    "distractors": ("kind",),
    "datelines": ("credit", "copy"),
    "wirecredits": ("credit", "wire"),
}
SIZES = {"roundups": 120, "debris": 120, "distractors": 90, "datelines": 90, "wirecredits": 96}
CATEGORIES = ("business", "world", "science", "tech", "politics", "culture", "health")
MARGIN = 0.07  # excerpt shares this close to a licence's limit are not generated
FALLBACK_DISCLAIMER = (
    "Disclaimer: The copyright of this article belongs to the original author. Reposting this "
    "article is solely for the purpose of information dissemination and does not constitute any "
    "investment advice. If there is any infringement, please contact us immediately. We will make "
    "corrections or deletions as necessary. Thank you."
)
WIRES = {"AP": "Associated Press", "Reuters": "Reuters", "CNN": "CNN"}
_DATELINE = re.compile(r"^(?P<place>(?:[A-Z][A-Za-z.'\-]*,? ?){0,4}?)\s*\((?P<wire>AP|Reuters|CNN)\)\s*[—–-]*\s*")
CITIES = ("WASHINGTON", "NEW YORK", "LONDON", "SAN FRANCISCO", "LOS ANGELES", "CHICAGO", "PARIS",
          "BRUSSELS", "TOKYO", "BERLIN", "HOUSTON", "ATLANTA", "SEATTLE", "BOSTON")
# Chrome lines whose reading would decide the truth: credits, copyright, bylines, code, links.
_CREDITISH = re.compile(
    r"©|\(c\)|copyright|all rights reserved|\bsources?\b|\bcredits?\b|courtesy|\bvia\b|originally|"
    r"first (?:published|appeared|posted|ran)|reprint|republish|posted by|written by|\breporting\b|"
    r"associated press|\breuters\b|\bafp\b|\(ap\)|\bap\b|\bcnn\b|newsletter from|^by\b|^\W*by\s",
    re.IGNORECASE)
# Credit lines inside an article's own text ("© Reuters", "(Reporting by ...)"): dropped at load,
# so that only the credits a set means to write are there.
_CREDIT_PARA = re.compile(r"^\W*(?:©|copyright\b)|posted (?:on .{0,60})?by |[(/](?:AP|Reuters|AFP|Getty Images)\)?\s*$|reporting by|editing by|all rights reserved|contributed to this report",
                          re.IGNORECASE)
_CODEISH = re.compile(r"[{}<>;=\\|]|/\*|\*/|\bfunction\b|\bvar\b|https?:|www\.|\.(?:com|org|net|co\.uk|php|html?)\b|@", re.IGNORECASE)
_DROP_TAGS = {"script", "style", "noscript", "template", "svg", "head", "iframe", "select", "option", "title", "meta", "link"}
_INLINE = {"a", "span", "time", "label", "b", "i", "em", "strong", "small", "sup", "sub", "u", "abbr", "img", "cite", "q", "font", "mark"}


def words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


def nwords(text: str) -> int:
    return len(words(text))


def norm(text: str) -> str:
    return " ".join(words(text))


def stable(*parts: object) -> int:
    """A hash that does not change between runs (unlike hash())."""
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


def slug(text: str, n: int = 6) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower())[:n]) or "post"


# --------------------------------------------------------------------------- the corpus

@dataclass
class Article:
    id: str
    publisher: str
    title: str
    url: str
    author: str | None
    date: str | None
    paras: list[str]
    wire: str | None = None  # "AP", "Reuters", "CNN" when the text opens with that dateline
    license: str = "full"
    max_excerpt: float | None = None
    chrome_text: tuple[list[str], list[str]] | None = None  # (before, after) in the catalogue copy

    @property
    def words(self) -> int:
        return sum(nwords(p) for p in self.paras)

    @property
    def catalogue_words(self) -> int:
        extra = sum(nwords(line) for part in (self.chrome_text or ([], [])) for line in part)
        return self.words + extra


@dataclass
class Chrome:
    """The text of a real page that is not its article, in page order."""
    page: str  # the article id of the page
    before: list[str]
    inside: list[str]
    after: list[str]

    @property
    def lines(self) -> list[str]:
        return self.before + self.inside + self.after


def _latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(c.isascii() for c in letters) / max(1, len(letters))


def clean_title(title: str, publisher: str) -> str:
    """The headline without the site's name after it ("... | The Beachbody Blog")."""
    title = " ".join(title.split())
    for sep in (" | ", " - ", " – ", " — "):
        if sep in title:
            head, tail = title.rsplit(sep, 1)
            if norm(publisher) and (norm(publisher) in norm(tail) or norm(tail) in norm(publisher)):
                return head
    return title


def load_articles(corpus: Path) -> list[Article]:
    out = []
    for line in (corpus / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        a = json.loads(line)
        publisher = (a.get("publisher") or "").strip()
        paras = [" ".join(p.split()) for p in a["text"].split("\n\n") if p.strip()]
        paras = [p for p in paras if not (nwords(p) <= 25 and _CREDIT_PARA.search(p))]
        if (not publisher or publisher.startswith("http") or any(c in publisher for c in "|,_()")
                or len(publisher) > 40 or _latin_share(a["text"]) < 0.95
                or nwords(a["text"]) < 250 or len(paras) < 5):
            continue
        art = Article(a["id"], publisher, clean_title(a.get("title") or "", publisher), a.get("url") or "",
                      a.get("author") or None, a.get("date") or None, paras)
        for p in paras[:3]:  # a wire story's dateline names its real publisher
            m = _DATELINE.match(p)
            if m and m.group("place").strip():
                art.wire = m.group("wire")
                art.publisher = WIRES[art.wire]
                break
            if m and m.group("wire") == "CNN":
                art.wire = "CNN"
                break
        out.append(art)
    return sorted(out, key=lambda a: a.id)


def _runs(a: list[str], b: list[str], n: int = 8) -> tuple[int, int]:
    """(shared n-grams, longest shared run of words) of two word lists."""
    grams = {tuple(a[i:i + n]) for i in range(len(a) - n + 1)}
    shared = [i for i in range(len(b) - n + 1) if tuple(b[i:i + n]) in grams]
    if not shared:
        return 0, 0
    longest = run = 0
    prev = None
    for i in shared:
        run = run + 1 if prev is not None and i == prev + 1 else 1
        longest = max(longest, run)
        prev = i
    return len(shared), longest + n - 1


def shared_pairs(toks: dict[str, list[str]], n: int = 8) -> dict[tuple[str, str], tuple[int, int]]:
    """{(a, b): (shared n-grams, longest shared run)} for the pairs of texts sharing any n-gram."""
    index: dict[tuple[str, ...], set[str]] = {}
    for key, t in toks.items():
        for i in range(len(t) - n + 1):
            index.setdefault(tuple(t[i:i + n]), set()).add(key)
    counts: Counter = Counter()
    for holders in index.values():
        if 1 < len(holders) < 10:
            ordered = sorted(holders)
            for i, x in enumerate(ordered):
                for y in ordered[i + 1:]:
                    counts[(x, y)] += 1
    return {pair: _runs(toks[pair[0]], toks[pair[1]], n) for pair in sorted(counts)}


def split_pools(articles: list[Article]) -> tuple[list[Article], list[Article], list[tuple[Article, Article]]]:
    """(catalogue, original writing, real same-event pairs (host, catalogue article)).

    Near-copies of one another keep one member; articles sharing only quotes with a catalogue
    article by another publisher (same event, own words) become real distractors; a third of
    the rest is kept out of the catalogue as original writing to quote from.
    """
    toks = {a.id: words(" ".join(a.paras)) for a in articles}
    overlaps = shared_pairs(toks)
    pairs = {pair: v for pair, v in overlaps.items() if v[0] >= 3}
    dropped = set()
    for (x, y), (shared, longest) in sorted(pairs.items()):
        if (shared >= 40 or longest >= 40) and x not in dropped and y not in dropped:
            dropped.add(y)
    by_id = {a.id: a for a in articles}
    hosts_real: list[tuple[Article, Article]] = []
    out_of_catalogue = set(dropped)
    for (x, y), (shared, longest) in sorted(pairs.items()):
        if x in dropped or y in dropped or by_id[x].publisher == by_id[y].publisher:
            continue
        host, kept = (by_id[y], by_id[x])
        if host.id in out_of_catalogue or kept.id in out_of_catalogue:
            if kept.id in out_of_catalogue and host.id not in out_of_catalogue:
                host, kept = kept, host
            else:
                continue
        out_of_catalogue.add(host.id)
        hosts_real.append((host, kept))
    rest = [a for a in articles if a.id not in out_of_catalogue]
    originals = [a for a in rest if a.wire is None and stable("original", a.id) % 3 == 0 and _plain_host(a)]
    original_ids = {a.id for a in originals}
    catalogue = [a for a in rest if a.id not in original_ids]
    # a real host must share no more than quotes with the whole catalogue
    hosts_real = [(h, k) for h, k in hosts_real if k.id in {c.id for c in catalogue} and _plain_host(h)
                  and all(overlaps.get(tuple(sorted((h.id, c.id))), (0, 0))[1] <= 35 for c in catalogue)]
    return catalogue, originals, hosts_real


_SELF_REFERENCE = re.compile(
    r"\((?:AP|Reuters|AFP|CNN)\)|associated press|reuters|\bafp\b|\bcnn\b|statement to|told (?:the )?[A-Z]|"
    r"contacted by|reached by|^\s*(?:source|credit|via|by)\b|copyright|©|originally published",
    re.IGNORECASE | re.MULTILINE)


def _plain_host(a: Article) -> bool:
    """Original writing that names no publisher as its origin, so that it needs no credit."""
    text = "\n".join(a.paras)
    return not _SELF_REFERENCE.search(text) and a.publisher.casefold() not in text.casefold()


def assign_licences(catalogue: list[Article]) -> None:
    for a in catalogue:
        h = stable("licence", a.id) % 100
        if h < 55:
            a.license, a.max_excerpt = "full", None
        elif h < 85:
            a.license, a.max_excerpt = "excerpt", (0.3 if h < 76 else 0.5)
        else:
            a.license, a.max_excerpt = "none", None


# --------------------------------------------------------------------------- chrome

def _page_lines(raw: bytes) -> tuple[list[str], str]:
    import lxml.html  # trafilatura's dependency: in every environment the CLI runs in

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    doc = lxml.html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*>", "", text))
    site = ""
    for meta in doc.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() in ("og:site_name", "application-name"):
            site = site or (meta.get("content") or "").strip()
    for el in list(doc.iter()):
        if isinstance(el.tag, str) and el.tag.lower() in _DROP_TAGS and el.getparent() is not None:
            el.drop_tree()
    lines: list[str] = []
    cur: list[str] = []

    def flush() -> None:
        text = " ".join("".join(cur).split())
        if text:
            lines.append(text)
        cur.clear()

    def walk(el) -> None:
        if not isinstance(el.tag, str):  # comments, processing instructions
            if el.tail:
                cur.append(el.tail)
            return
        block = el.tag.lower() not in _INLINE
        if block or el.tag.lower() == "br":
            flush()
        if el.text:
            cur.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush()
        if el.tail:
            cur.append(el.tail)

    walk(doc)
    flush()
    return lines, site


def extract_chrome(corpus: Path, articles: dict[str, Article], names: list[str]) -> dict[str, Chrome]:
    """Per page: its visible text lines that are not its article's text (diffed), cleaned."""
    out = {}
    all_texts = " ".join(norm(" ".join(a.paras)) for a in articles.values())
    for line in (corpus / "pages.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        page = json.loads(line)
        art = articles.get(page["article"])
        if art is None:
            continue
        lines, site = _page_lines(gzip.decompress((corpus / page["file"]).read_bytes()))
        body = norm(" ".join(art.paras))
        is_article = [bool(norm(x)) and norm(x) in body for x in lines]
        anchors = [i for i, x in enumerate(lines) if is_article[i] and nwords(x) >= 6]
        if len(anchors) < 3:
            continue
        start, end = anchors[0], anchors[-1]
        domain = re.sub(r"^www\.", "", re.sub(r"^https?://", "", page.get("url") or art.url).split("/")[0])
        own = {art.publisher, page.get("publisher") or "", site, domain.split(".")[0] if domain else ""}
        own |= {part.strip() for part in re.split(r"\s[|\-–—]\s", site) if part.strip()}
        banned = [norm(n) for n in sorted(own | set(names)) if n and len(norm(n)) >= 3]
        title = norm(art.title)
        seen: set[str] = set()

        def keep(text: str, i: int) -> bool:
            key = norm(text)
            if not key or is_article[i] or key in seen or not re.search(r"[A-Za-z]{2}", text):
                return False
            if nwords(text) > 30 or _CREDITISH.search(text) or _CODEISH.search(text):
                return False
            if title and (key == title or title in key or (len(key) > 20 and key in title)):
                return False
            padded = f" {key} "
            if any(f" {b} " in padded for b in banned):
                return False
            if nwords(text) >= 8 and key in all_texts:  # a teaser of a catalogue article is copying
                return False
            seen.add(key)
            return True

        before = [x for i, x in enumerate(lines[:start]) if keep(x, i)]
        inside = [x for i, x in enumerate(lines[start:end + 1], start) if keep(x, i)]
        after = [x for i, x in enumerate(lines[end + 1:], end + 1) if keep(x, i)]
        chrome = Chrome(art.id, before, inside, after)
        if sum(nwords(x) for x in chrome.lines) >= 60 and _latin_share(" ".join(chrome.lines)) > 0.95:
            out[art.id] = chrome
    return out


# --------------------------------------------------------------------------- reposts

@dataclass
class Block:
    kind: str  # p (article or original text), h (heading), credit, chrome, chrome-list, date
    text: str = ""
    items: list[str] = field(default_factory=list)


@dataclass
class Repost:
    title: str
    blocks: list[Block]
    case: str
    sources: list[str]  # every copied source, primary first
    rules: set[str]
    disclaimer: str = "full"  # full, none, partial
    front: dict = field(default_factory=dict)  # extra Markdown front matter
    ext: str = "txt"


def posted(rng: random.Random) -> tuple[str, str]:
    when = dt.datetime(2024, 1, 1) + dt.timedelta(minutes=rng.randrange(366 * 24 * 60))
    return when.strftime("%b %d/%Y %I:%M%p"), when.strftime("%Y-%m-%d")


def render(post: Repost, rng: random.Random, disclaimer: str, category: str) -> str:
    stamp, day = posted(rng)
    disc = {"full": disclaimer, "partial": disclaimer.split(". ")[0] + ".", "none": None}[post.disclaimer]
    if post.ext == "txt":
        parts = [post.title, f"{category.title()}\nPost At: {stamp}"]
        for b in post.blocks:
            parts.append("\n".join(b.items) if b.kind == "chrome-list" else b.text)
        if disc:
            parts.append(disc)
        return "\n\n".join(parts) + "\n"
    if post.ext == "md":
        front = {"title": post.title, "category": category.title(), "posted": day, **post.front}
        lines = ["---", *(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in front.items()), "---", "", f"# {post.title}", ""]
        for b in post.blocks:
            if b.kind == "h":
                lines += [f"## {b.text}", ""]
            elif b.kind == "chrome-list":
                lines += [*(f"- {item}" for item in b.items), ""]
            elif b.kind == "chrome" and rng.random() < 0.3:
                lines += [f"**{b.text}**", ""]
            else:
                lines += [b.text, ""]
        if disc:
            lines += [disc, ""]
        return "\n".join(lines)
    esc = html.escape
    out = [f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(post.title)}</title></head><body>',
           '<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/markets">Markets</a></nav>',
           f'<article><h1>{esc(post.title)}</h1><p class="meta">{category.title()} · Post At: {stamp}</p>']
    for b in post.blocks:
        if b.kind == "h":
            out.append(f"<h2>{esc(b.text)}</h2>")
        elif b.kind == "chrome-list":
            tag = rng.choice(["ul", "div"])
            inner = "".join(f"<li><a href=\"#\">{esc(x)}</a></li>" if tag == "ul" else f"<span>{esc(x)}</span> " for x in b.items)
            out.append(f'<{tag} class="{rng.choice(["related", "share-bar", "promo", "trending"])}">{inner}</{tag}>')
        elif b.kind == "chrome":
            out.append(rng.choice([f'<div class="promo">{esc(b.text)}</div>', f"<p>{esc(b.text)}</p>",
                                   f'<div class="ad-slot"><span>{esc(b.text)}</span></div>']))
        elif b.kind == "credit" and b.text.startswith("By "):
            out.append(f'<p class="byline">{esc(b.text)}</p>')
        else:
            out.append(f"<p>{esc(b.text)}</p>")
    if disc:
        out.append(f"<p>{esc(disc)}</p>")
    out.append("</article><footer><p>About us | Contact | Terms of use</p><p>All rights reserved.</p></footer></body></html>")
    return "\n".join(out) + "\n"


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?…])\s+|\.\.\.\s*", text) if nwords(s) >= 6]


def repeats_itself(post: Repost) -> bool:
    """Whether text is there twice: a sentence of 6+ words repeated or cut off and then in full,
    or any 6 words of a line the desk or the chrome added found elsewhere in the repost."""
    seen: list[str] = []
    units: list[tuple[bool, str]] = []  # (added by the desk or the chrome, text)
    for b in post.blocks:
        for text in (b.items if b.kind == "chrome-list" else [b.text]):
            units.append((b.kind != "p", text))
            for s in sentences(text):
                key = norm(s).rstrip(" …")
                if any(f" {key} " in f" {k} " or f" {k} " in f" {key} " for k in seen):
                    return True
                seen.append(key)
    grams = [{" ".join(w[i:i + 6]) for i in range(len(w) - 5)} for w in (words(t) for _, t in units)]
    for i, (added, _) in enumerate(units):
        if added and grams[i] and any(grams[i] & g for j, g in enumerate(grams) if j != i):
            return True
    return False


# --------------------------------------------------------------------------- truth

def attribution_rules(copied: list[str], credited: list[str]) -> set[str]:
    """The attribution findings for the copied publishers and the credited names."""
    right = [c for c in credited if c in copied]
    wrong = [c for c in credited if c not in copied]
    uncredited = [p for p in copied if p not in credited]
    rules = set()
    if wrong:
        rules.add("attribution-mismatch")
    if uncredited and (right or not credited):
        rules.add("attribution-missing")
    return rules


def over_licence(a: Article, copied_words: int, chrome_words: int = 0) -> bool | None:
    """Whether copying `copied_words` of `a` breaks its licence; None when too close to call.

    The share is taken of the article's words and of the catalogue copy's (its chrome too), and
    with `chrome_words`, chrome the repost shares with that copy, counted as copied too."""
    if a.license == "full" or copied_words == 0:
        return False
    if a.license == "none":
        return True
    shares = {copied_words / a.words, copied_words / a.catalogue_words, (copied_words + chrome_words) / a.catalogue_words}
    if all(s > a.max_excerpt + MARGIN for s in shares):
        return True
    if all(s < a.max_excerpt - MARGIN for s in shares):
        return False
    return None


def runs_of(paras: list[str], lo: int, hi: int, min_paras: int = 1, max_paras: int = 9) -> list[tuple[int, int]]:
    """(i, j) such that paras[i:j] holds between lo and hi words."""
    out = []
    for i in range(len(paras)):
        total = 0
        for j in range(i, min(len(paras), i + max_paras)):
            total += nwords(paras[j])
            if total > hi:
                break
            if total >= lo and j + 1 - i >= min_paras:
                out.append((i, j + 1))
    return out


def pick_run(rng: random.Random, paras: list[str], lo: int, hi: int, lede: float = 0.6, **kw) -> tuple[int, int] | None:
    options = runs_of(paras, lo, hi, **kw)
    if not options:
        return None
    ledes = [o for o in options if o[0] == 0]
    if ledes and rng.random() < lede:
        return rng.choice(ledes)
    return rng.choice(options)


def name_words(name: str) -> set[str]:
    return {w for w in words(name) if w not in {"the", "news", "com", "inc", "of", "and", "co", "uk", "magazine", "times", "daily"}}


def distinct(pubs: list[str]) -> bool:
    """Publishers no credit line could confuse with one another."""
    for i, a in enumerate(pubs):
        for b in pubs[i + 1:]:
            if a == b or name_words(a) & name_words(b) or norm(a).replace(" ", "")[:4] == norm(b).replace(" ", "")[:4]:
                return False
    return True


def disclaimer_choice(rng: random.Random) -> str:
    r = rng.random()
    return "none" if r < 0.12 else "partial" if r < 0.17 else "full"


def finish(post: Repost, copied: list[tuple[Article, int]], credited: list[str], chrome_words: int = 0) -> Repost | None:
    """Fill in the truth's rules; None when the licence verdict is too close to call."""
    rules = attribution_rules([a.publisher for a, _ in copied], credited)
    for a, n in copied:
        verdict = over_licence(a, n, chrome_words)
        if verdict is None:
            return None
        if verdict:
            rules.add("excerpt-limit")
    if post.disclaimer != "full":
        rules.add("disclaimer-missing")
    post.rules = rules
    return None if repeats_itself(post) else post


def strip_dateline(text: str) -> str:
    m = _DATELINE.match(text)
    return text[m.end():] if m else text


def undated(texts: list[str]) -> list[str]:
    """The paragraphs without wire datelines: a kept one would credit the wire."""
    return [strip_dateline(t) for t in texts]


def has_dateline(texts: list[str]) -> bool:
    return any(_DATELINE.match(t) for t in texts)


def dateline(rng: random.Random, a: Article) -> str:
    abbrev = {"Associated Press": "AP"}.get(a.publisher, a.publisher)
    dash = " - " if a.publisher == "Reuters" else " — "
    return f"{rng.choice(CITIES)} ({abbrev}){dash}"


def byline(rng: random.Random, a: Article) -> str:
    who = a.author if a.author and len(a.author) < 40 and "," not in a.author else None
    pub = "The Associated Press" if a.publisher == "Associated Press" and rng.random() < 0.5 else a.publisher
    if who is None:
        return f"By {pub}" if a.publisher in WIRES.values() else f"By {pub} Staff"
    form = rng.randrange(3)
    if form == 0:
        return f"By {who}, {pub}"
    if form == 1:
        return f"By {who.upper()}, {pub}"
    return f"By {who} | {pub}"


def copyright_line(rng: random.Random, a: Article) -> str:
    year = (a.date or "2019")[:4]
    if a.publisher == "Associated Press" and rng.random() < 0.6:
        return (f"Copyright {year} The Associated Press. All rights reserved. This material may not be "
                "published, broadcast, rewritten or redistributed.")
    return rng.choice([f"Copyright {year} {a.publisher}. All rights reserved.", f"© {year} {a.publisher}",
                       f"Copyright © {year} {a.publisher}"])


def dateline_ok(a: Article) -> bool:
    """Wire stories, and English stories of publishers with a short name, may carry a dateline."""
    return a.wire is not None or (len(a.publisher.split()) <= 2 and english(a))


def english(a: Article) -> bool:
    toks = words(" ".join(a.paras))
    return sum(t in {"the", "and", "of", "to", "a", "in", "is", "that"} for t in toks) >= 0.08 * len(toks)


def date_of(a: Article, rng: random.Random) -> dt.datetime:
    try:
        day = dt.datetime.strptime((a.date or "")[:10], "%Y-%m-%d")
    except ValueError:
        day = dt.datetime(2018, 1, 1) + dt.timedelta(days=rng.randrange(730))
    return day + dt.timedelta(minutes=rng.randrange(24 * 60))


def date_line(rng: random.Random, a: Article) -> tuple[str, bool]:
    """A line that states when the story was published. (text, credits a.publisher)."""
    when = date_of(a, rng)
    later = when + dt.timedelta(hours=rng.randrange(2, 30))
    hm = lambda t: t.strftime("%I:%M %p").lstrip("0").lower().replace("am", "am").replace("pm", "pm")  # noqa: E731
    long_day = f"{when:%B} {when.day}, {when.year}"
    forms = [
        (f"Originally published {long_day} at {hm(when)}", False),
        (f"Originally published {long_day} at {hm(when)} | Updated {later:%B} {later.day}, {later.year} at {hm(later)}", False),
        (f"Originally published on {long_day}", False),
        (f"Originally published: {when:%m/%d/%Y}", False),
        (f"First published on {when:%a} {when.day} {when:%b} {when.year} {when:%H.%M} EST", False),
        (f"This article was originally published on {when:%b}. {when.day}, {when.year}.", False),
        (f"Originally posted {when:%b}. {when.day}, {when.year}", False),
        (f"Published {long_day}", False),
        (f"Originally published by {a.publisher} on {long_day}.", True),
    ]
    return forms[rng.randrange(len(forms))]


# --------------------------------------------------------------------------- the kinds

class Generator:
    def __init__(self, corpus: Path, seed: int, disclaimer: str):
        self.seed = seed
        self.disclaimer = disclaimer
        articles = load_articles(corpus)
        self.articles = {a.id: a for a in articles}
        self.catalogue, self.originals, self.real_pairs = split_pools(articles)
        assign_licences(self.catalogue)
        self.by_id = {a.id: a for a in self.catalogue}
        names = sorted({a.publisher for a in articles} | set(WIRES.values()))
        self.chrome = extract_chrome(corpus, {a.id: a for a in articles}, names)
        self.publishers = sorted({a.publisher for a in self.catalogue})

    def rng(self, *parts: object) -> random.Random:
        return random.Random(stable(self.seed, *parts))

    def other_publisher(self, rng: random.Random, avoid: list[str]) -> str:
        options = [p for p in self.publishers if distinct([p, *avoid])]
        return rng.choice(options)

    # (a) roundups -----------------------------------------------------------------------
    def roundup(self, rng: random.Random) -> Repost | None:
        k = rng.choice([2, 2, 3])
        picks: list[Article] = []
        pool = list(self.catalogue)
        rng.shuffle(pool)
        for a in pool:
            if distinct([p.publisher for p in picks] + [a.publisher]):
                picks.append(a)
            if len(picks) == k:
                break
        # the primary takes clearly the most words, the others less and less
        budgets = [(150, 280)] + [(70, 140)] * (k - 1)
        sections = []
        for a, (lo, hi) in zip(picks, budgets):
            run = pick_run(rng, a.paras, lo, hi, lede=0.7)
            if run is None:
                return None
            sections.append((a, undated(a.paras[run[0]:run[1]])))  # a kept dateline would credit
        counts = [sum(nwords(p) for p in paras) for _, paras in sections]
        if counts[0] < 1.3 * max(counts[1:]):
            return None
        order = list(range(k))
        if rng.random() < 0.4:  # the primary is not always first
            rng.shuffle(order)
        pubs = [a.publisher for a, _ in sections]
        mode = rng.choices(["all", "some", "none", "all+other", "some+other", "other"], [34, 30, 14, 8, 8, 6])[0]
        if mode.startswith("all"):
            credited = list(pubs)
        elif mode.startswith("some"):
            credited = rng.sample(pubs, rng.randrange(1, k))
        else:
            credited = []
        extra = [self.other_publisher(rng, pubs)] if "other" in mode else []
        placement = rng.choice(["per-section", "combined-end", "combined-top"]) if credited else "combined-end"
        headings = rng.random() < 0.6
        blocks: list[Block] = []
        if rng.random() < 0.5:
            blocks.append(Block("p", rng.choice(["Here is what you need to know today.", "Today's briefing, in brief.",
                                                 "A roundup of the stories we are following."])))
        combined = [c for c in pubs if c in credited] + extra
        line = self.credit_list(rng, combined) if combined else None
        if line and placement == "combined-top":
            blocks.append(Block("credit", line))
        for i in order:
            a, paras = sections[i]
            if headings:
                blocks.append(Block("h", a.title))
            blocks += [Block("p", p) for p in paras]
            if placement == "per-section" and a.publisher in credited:
                blocks.append(Block("credit", f"{rng.choice(['Source', 'Credit', 'Source'])}: {a.publisher}"))
        if placement == "per-section" and extra:
            blocks.append(Block("credit", f"Source: {extra[0]}"))
        if line and placement == "combined-end":
            blocks.append(Block("credit", line))
        titles = [sections[i][0].title for i in order]
        title = rng.choice(["Roundup: ", "Morning briefing: ", "In brief: ", ""]) + "; ".join(t[:60].rstrip() for t in titles[:2])
        post = Repost(title, blocks, f"roundup-{k}src-{mode}-{placement.replace('-', '_')}", [a.id for a, _ in sections], set(),
                      disclaimer_choice(rng), ext=rng.choice(["txt", "md", "html"]))
        return finish(post, [(a, n) for (a, _), n in zip(sections, counts)], credited + extra)

    @staticmethod
    def credit_list(rng: random.Random, names: list[str]) -> str:
        if len(names) == 1:
            return f"Source: {names[0]}"
        form = rng.randrange(3)
        if form == 0:
            return "Sources: " + ", ".join(names[:-1]) + " and " + names[-1]
        if form == 1:
            return "Source: " + "; ".join(names)
        return "Credit: " + " / ".join(names)

    # (b) debris-wrapped partial copies ----------------------------------------------------
    def debris(self, rng: random.Random) -> Repost | None:
        with_pages = [a for a in self.catalogue if a.id in self.chrome]
        a = rng.choice(with_pages if rng.random() < 0.5 else self.catalogue)
        run = pick_run(rng, a.paras, 120, 200, lede=0.7, min_paras=3, max_paras=7)
        if run is None:
            return None
        paras = a.paras[run[0]:run[1]]
        # whose page the chrome comes from: the article's own, or another site's
        own = a.id in self.chrome and rng.random() < 0.5
        page = self.chrome[a.id] if own else self.chrome[rng.choice(sorted(self.chrome))]
        wrapped_elsewhere = page.page != a.id and self.by_id.get(page.page) is not None and self.by_id[page.page].chrome_text
        copied = sum(nwords(p) for p in paras)
        # chrome that another catalogue copy carries stays well short of the article: the primary is not in doubt
        level = rng.choice(["light", "medium"]) if wrapped_elsewhere else rng.choices(["light", "medium", "heavy"], [3, 3, 4])[0]
        budget = {"light": (20, 45), "medium": (50, 0.6 * copied), "heavy": (copied, 2.2 * copied)}[level]
        before, inside, after = self.chrome_cut(rng, page, budget)
        if nwords(" ".join(before + inside + after)) < budget[0]:
            return None
        credit = rng.choices(["byline", "dateline", "copyright", "source", "none", "other"], [20, 15, 15, 20, 22, 8])[0]
        if credit == "dateline" and not dateline_ok(a):
            credit = "byline"
        texts = list(paras)
        if credit != "dateline":
            texts = undated(texts)  # desks drop it; a kept one would credit the wire
        elif a.wire is None or not has_dateline(texts):
            # A page's own "(Reuters) —" names the wire, not the site catalogued as publishing it.
            texts = undated(texts)
            texts[0] = dateline(rng, a) + texts[0]
        truncated = rng.random() < 0.3
        if truncated:
            last = texts[-1].split()
            texts[-1] = " ".join(last[: max(12, int(len(last) * 0.6))]).rstrip(",;:") + "…"
        blocks: list[Block] = self.chrome_blocks(rng, before)
        credited: list[str] = []
        if credit == "byline":
            blocks.append(Block("credit", byline(rng, a)))
            credited = [a.publisher]
        elif credit == "source" and rng.random() < 0.5:
            blocks.insert(0, Block("credit", f"Source: {a.publisher}"))
            credited = [a.publisher]
        elif credit == "dateline":
            credited = [a.publisher]
        slots = sorted(rng.sample(range(1, len(texts)), min(len(inside), len(texts) - 1))) if inside else []
        pieces = list(inside)
        for i, t in enumerate(texts):
            if i in slots and pieces:
                blocks += self.chrome_blocks(rng, [pieces.pop(0)])
            blocks.append(Block("p", t))
        if truncated:
            blocks.append(Block("chrome", rng.choice(["Continue reading", "Read more", "Read the full story", "Show full article"])))
        if credit == "copyright":
            blocks.append(Block("credit", copyright_line(rng, a)))
            credited = [a.publisher]
        blocks += self.chrome_blocks(rng, after)
        if credit == "source" and not credited:
            blocks.append(Block("credit", f"Source: {a.publisher}"))
            credited = [a.publisher]
        if credit == "other":
            blocks.append(Block("credit", f"Source: {self.other_publisher(rng, [a.publisher])}"))
            credited = [blocks[-1].text.split(": ", 1)[1]]
        n_copied = sum(nwords(t) for t in undated(texts))
        shares_chrome = wrapped_elsewhere and _runs(words(" ".join(before + inside + after)),
                                                    words(" ".join(sum(self.by_id[page.page].chrome_text, []))))[1] >= 12
        where = "own_page" if page.page == a.id else ("catalogued_page" if shares_chrome else "other_page")
        wrapped = "wrapped_source" if a.chrome_text else "clean_source"
        post = Repost(a.title, blocks, f"debris-{level}-{where}-{wrapped}-{credit}", [a.id], set(),
                      disclaimer_choice(rng), ext=rng.choice(["txt", "md", "html"]))
        own_chrome = {norm(x) for x in sum(a.chrome_text or ([], []), [])}
        shared = sum(nwords(x) for x in before + inside + after if norm(x) in own_chrome)
        return finish(post, [(a, n_copied)], credited, shared)

    @staticmethod
    def chrome_cut(rng: random.Random, page: Chrome, budget: tuple[float, float]) -> tuple[list[str], list[str], list[str]]:
        """Runs of the page's chrome next to its article, within the word budget."""
        lo, hi = budget
        share = rng.uniform(0.3, 0.6)
        def take(lines: list[str], limit: float, from_end: bool) -> list[str]:
            seq = list(reversed(lines)) if from_end else list(lines)
            skip = rng.randrange(0, max(1, min(6, len(seq) // 3)))
            out, total = [], 0
            for x in seq[skip:]:
                if total + nwords(x) > limit:
                    break
                out.append(x)
                total += nwords(x)
            return list(reversed(out)) if from_end else out
        before = take(page.before, hi * share, True)
        inside = [x for x in page.inside if nwords(x) <= 12][: rng.randrange(0, 3)]
        used = nwords(" ".join(before + inside))
        after = take(page.after, max(0, hi - used), False)
        return before, inside, after

    @staticmethod
    def chrome_blocks(rng: random.Random, lines: list[str]) -> list[Block]:
        """Chrome lines as a scraper leaves them: short ones run together, longer ones alone."""
        out: list[Block] = []
        group: list[str] = []
        for x in lines:
            if nwords(x) <= 4 and rng.random() < 0.8:
                group.append(x)
                continue
            if group:
                out.append(Block("chrome-list", items=group) if len(group) > 1 else Block("chrome", group[0]))
                group = []
            out.append(Block("chrome", x))
        if group:
            out.append(Block("chrome-list", items=group) if len(group) > 1 else Block("chrome", group[0]))
        return out

    # (c) same-event distractors ------------------------------------------------------------
    def distractor(self, rng: random.Random, host: Article, target: Article) -> Repost | None:
        paras = list(host.paras)
        n = rng.choice([2, 3, 3])
        candidates = [i for i, p in enumerate(target.paras) if nwords(p) >= 18]
        if len(candidates) < n:
            return None
        quotes = []
        for i in sorted(rng.sample(candidates, n)):
            tokens = strip_dateline(target.paras[i]).split()
            length = min(rng.randrange(10, 31), len(tokens) - 1)
            starts = [j for j in range(len(tokens) - length + 1) if j == 0 or tokens[j - 1][-1] in ".!?"]
            start = rng.choice(starts) if starts and rng.random() < 0.7 else rng.randrange(0, len(tokens) - length + 1)
            quotes.append(" ".join(tokens[start:start + length]).strip(" ,;:\"“”'"))
        frames = ['As one report put it, "{q}."', '"{q}," according to an earlier account.',
                  'Earlier coverage noted that {q}.', 'One account of the day read: "{q}."',
                  'It was, in the words of another write-up, "{q}."', 'Others had already observed that {q}.']
        spots = sorted(rng.sample(range(1, len(paras) + 1), min(n, len(paras))))
        for q, spot in sorted(zip(quotes, spots), key=lambda x: -x[1]):
            frame = rng.choice(frames)
            if rng.random() < 0.5:
                paras.insert(spot, frame.format(q=q))
            else:
                paras[spot - 1] = paras[spot - 1] + " " + frame.format(q=q)
        if rng.random() < 0.4 and len(paras) > 10:  # a shorter piece, as long as every quote stays
            paras = paras[: rng.randrange(8, len(paras))]
            if not quotes_all_there(" ".join(paras), quotes):
                return None
        post = Repost(host.title, [Block("p", p) for p in paras], f"distractor-quotes{n}", [], set(),
                      disclaimer_choice(rng), ext=rng.choice(["txt", "md", "html"]))
        return finish(post, [], [])

    def real_distractor(self, rng: random.Random, host: Article) -> Repost | None:
        post = Repost(host.title, [Block("p", p) for p in host.paras], "distractor-real_same_event", [], set(),
                      disclaimer_choice(rng), ext=rng.choice(["txt", "md", "html"]))
        return finish(post, [], [])

    # (d) date lines that are not credits ----------------------------------------------------
    def datelined(self, rng: random.Random) -> Repost | None:
        a = rng.choice(self.catalogue)
        full = rng.random() < 0.6
        run = (0, len(a.paras)) if full else pick_run(rng, a.paras, 150, 320, lede=0.7)
        if run is None:
            return None
        texts = a.paras[run[0]:run[1]]
        mode = rng.choices(["credited", "uncredited", "other"], [60, 25, 15])[0]
        texts = undated(texts)
        date_text, date_credits = date_line(rng, a)
        if date_credits and mode != "credited":
            date_text = date_text.split(" by ")[0] + " on " + date_text.split(" on ", 1)[1]
            date_credits = False
        credited: list[str] = [a.publisher] if date_credits else []
        credit_block = None
        front = {}
        ext = rng.choice(["txt", "md", "html"])
        if mode == "credited" and not date_credits:
            form = rng.choice(["source", "originally", "front"] if ext == "md" else ["source", "originally"])
            if form == "front":
                front = {"source": a.publisher}
            else:
                credit_block = Block("credit", f"Source: {a.publisher}" if form == "source" else f"Originally published by {a.publisher}.")
            credited = [a.publisher]
        elif mode == "other":
            other = self.other_publisher(rng, [a.publisher])
            credit_block = Block("credit", f"Source: {other}")
            credited = [other]
        where = rng.choice(["top", "bottom", "next-to-credit"])
        blocks = [Block("p", t) for t in texts]
        date_block = Block("date", date_text)
        if credit_block and where == "next-to-credit":
            pair = [credit_block, date_block] if rng.random() < 0.5 else [date_block, credit_block]
            blocks = (pair + blocks) if rng.random() < 0.5 else (blocks + pair)
        else:
            blocks = [date_block] + blocks if where in ("top", "next-to-credit") else blocks + [date_block]
            if credit_block:
                blocks = [credit_block] + blocks if rng.random() < 0.5 else blocks + [credit_block]
        kind = "dated_credit" if date_credits else mode
        n_copied = sum(nwords(t) for t in texts)
        post = Repost(a.title, blocks, f"dateline-{kind}-{'full' if full else 'part'}", [a.id], set(),
                      disclaimer_choice(rng), front=front, ext=ext)
        return finish(post, [(a, n_copied)], credited)

    # (e) wire credits ------------------------------------------------------------------------
    def wirecredit(self, rng: random.Random) -> Repost | None:
        wires = [a for a in self.catalogue if a.wire]
        a = rng.choice(wires if rng.random() < 0.5 else self.catalogue)
        full = rng.random() < 0.6
        run = (0, len(a.paras)) if full else pick_run(rng, a.paras, 150, 320, lede=0.8)
        if run is None:
            return None
        texts = list(a.paras[run[0]:run[1]])
        mode = rng.choices(["byline", "dateline", "copyright", "byline+copyright", "person-byline", "none", "other-byline"],
                           [24, 20, 18, 8, 10, 10, 10])[0]
        if mode == "dateline" and not dateline_ok(a):
            mode = "byline"
        if mode != "dateline":
            texts = undated(texts)
        blocks = [Block("p", t) for t in texts]
        credited: list[str] = []
        if mode in ("byline", "byline+copyright"):
            blocks.insert(0, Block("credit", byline(rng, a)))
            credited = [a.publisher]
        if mode in ("copyright", "byline+copyright"):
            blocks.append(Block("credit", copyright_line(rng, a)))
            credited = [a.publisher]
        if mode == "dateline":
            if a.wire is None or not has_dateline(texts):  # a kept "(Reuters) —" names the wire, not a's publisher
                blocks[0] = Block("p", dateline(rng, a) + strip_dateline(texts[0]))
            credited = [a.publisher]
        if mode == "person-byline":
            person = a.author if a.author and len(a.author) < 40 and "," not in a.author else rng.choice(
                ["Jane Carter", "Miguel Alvarez", "Priya Raman", "Tom Becker"])
            blocks.insert(0, Block("credit", f"By {person}"))
        if mode == "other-byline":
            other = rng.choice([w for w in ("Associated Press", "Reuters", "CNN") if w != a.publisher and distinct([w, a.publisher])])
            who = rng.choice(["Jane Carter", "Miguel Alvarez", "Priya Raman", "Tom Becker"])
            blocks.insert(0, Block("credit", f"By {who}, {other}"))
            credited = [other]
        n_copied = sum(nwords(t) for t in undated(texts))
        kind = a.wire.lower() if a.wire else "nonwire"
        post = Repost(a.title, blocks, f"wirecredit-{mode.replace('-', '_')}-{kind}", [a.id], set(), disclaimer_choice(rng),
                      ext=rng.choice(["txt", "md", "html"]))
        return finish(post, [(a, n_copied)], credited)

    # --------------------------------------------------------------------------------------
    def posts(self, kind: str, size: int) -> list[Repost]:
        out: list[Repost] = []
        if kind == "distractors":
            return self.distractors(size)
        make = {"roundups": self.roundup, "debris": self.debris, "datelines": self.datelined,
                "wirecredits": self.wirecredit}[kind]
        attempt = 0
        while len(out) < size:
            attempt += 1
            if attempt > size * 50:
                raise SystemExit(f"{kind}: could only generate {len(out)} of {size} reposts")
            post = make(self.rng(kind, attempt))
            if post is not None:
                out.append(post)
        return out

    def distractors(self, size: int) -> list[Repost]:
        vectors = tfidf([*self.catalogue, *self.originals])
        out = [p for i, (host, _) in enumerate(self.real_pairs) for j in range(2)
               if (p := self.real_distractor(self.rng("real", host.id, j), host)) is not None]
        attempt = 0
        while len(out) < size:
            attempt += 1
            if attempt > size * 50:
                raise SystemExit(f"distractors: could only generate {len(out)} of {size} reposts")
            rng = self.rng("distractors", attempt)
            host = rng.choice(self.originals)
            near = sorted(self.catalogue, key=lambda c: (-cosine(vectors[host.id], vectors[c.id]), c.id))[:4]
            post = self.distractor(rng, host, rng.choice(near))
            if post is not None:
                out.append(post)
        return out

    def write(self, kind: str, root: Path, size: int) -> dict:
        if root.exists():
            shutil.rmtree(root)
        (root / "sources").mkdir(parents=True)
        wrap = kind == "debris"
        for a in self.catalogue:
            a.chrome_text = None
            if wrap and a.id in self.chrome and stable("wrapped", a.id) % 2 == 0:
                page = self.chrome[a.id]
                a.chrome_text = (page.before[-12:], page.after[:16])
        for a in self.catalogue:
            write_source(root / "sources" / f"{a.id}.md", a)
        posts = self.posts(kind, size)
        truth = {}
        rng = self.rng("layout", kind)
        for n, post in enumerate(posts, 1):
            category = CATEGORIES[stable(kind, n) % len(CATEGORIES)]
            path = f"{category}/{n:04d}-{slug(post.title)}.{post.ext}"
            target = root / "reposts" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(post, rng, self.disclaimer, category), encoding="utf-8")
            truth[path] = {"case": post.case, "rules": sorted(post.rules),
                           "source": post.sources[0] if post.sources else None, "sources": post.sources}
        (root / "truth.json").write_text(json.dumps(dict(sorted(truth.items())), indent=1) + "\n", encoding="utf-8")
        for a in self.catalogue:
            a.chrome_text = None
        return truth


def quotes_all_there(text: str, quotes: list[str]) -> bool:
    return all(norm(q) in norm(text) for q in quotes)


def tfidf(articles: list[Article]) -> dict[str, dict[str, float]]:
    docs = {a.id: Counter(w for w in words(a.title + " " + " ".join(a.paras)) if len(w) > 3 and not w.isdigit()) for a in articles}
    df = Counter(w for c in docs.values() for w in c)
    out = {}
    for key, c in docs.items():
        vec = {w: (1 + math.log(n)) * math.log(len(docs) / df[w]) for w, n in c.items()}
        length = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        out[key] = {w: v / length for w, v in vec.items()}
    return out


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def write_source(path: Path, a: Article) -> None:
    front = {"id": a.id, "publisher": a.publisher, "title": a.title, "url": a.url, "author": a.author, "license": a.license}
    if a.max_excerpt is not None:
        front["max_excerpt"] = a.max_excerpt
    lines = ["---", *(f"{k}: {json.dumps(v)}" for k, v in front.items() if v is not None), "---", ""]
    before, after = a.chrome_text or ([], [])
    body = [*before, *a.paras, *after]
    path.write_text("\n".join(lines) + "\n" + "\n\n".join(body) + "\n", encoding="utf-8")


def seed_disclaimer(shared: Path) -> str:
    for repost in sorted((shared / "examples" / "seed" / "reposts").glob("*.txt")):
        for para in reversed(repost.read_text(encoding="utf-8").split("\n\n")):
            if para.strip().startswith("Disclaimer:"):
                return " ".join(para.split())
    return FALLBACK_DISCLAIMER


def generator_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def generate(out: Path, seed: int = 1, kinds: tuple[str, ...] = KINDS, shared: Path = SHARED,
             sizes: dict[str, int] | None = None) -> dict[str, dict]:
    """Write each kind's set into out/<kind>/ and return {kind: truth}."""
    gen = Generator(shared / "corpus", seed, seed_disclaimer(shared))
    sizes = {**SIZES, **(sizes or {})}
    result = {}
    for kind in kinds:
        result[kind] = gen.write(kind, out / kind, sizes[kind])
    path = out / "manifest.json"
    previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    made = {kind: {"seed": seed, "generator": generator_hash(), "reposts": len(truth)} for kind, truth in result.items()}
    manifest = {"sets": {**previous.get("sets", {}), **made}, "catalogue": len(gen.catalogue),
                "originals": len(gen.originals), "chrome_pages": len(gen.chrome),
                "real_same_event_pairs": [[h.id, k.id] for h, k in gen.real_pairs]}
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "build" / "devsets", help="folder to write the sets into")
    ap.add_argument("-s", "--seed", type=int, default=1)
    ap.add_argument("-k", "--kind", action="append", choices=KINDS, help="a set to write (default: all)")
    ap.add_argument("--shared", type=Path, default=SHARED, help="the shared folder (corpus/, examples/seed/)")
    a = ap.parse_args(argv)
    truths = generate(a.out, a.seed, tuple(a.kind or KINDS), a.shared)
    for kind, truth in truths.items():
        print(f"{kind}: {len(truth)} reposts -> {a.out / kind}")
        for i, facet in enumerate(FACETS[kind], 1):
            counts = Counter(t["case"].split("-")[i] for t in truth.values())
            print(f"  {facet}: " + ", ".join(f"{v} {n}" for v, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
