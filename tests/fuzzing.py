"""Hostile inputs, generated: Hypothesis strategies for every kind of file a user hands a scan
(reposts, catalogue sources, rule packs, configuration files, baselines, the state), what a
scan of one must (not) do, and how to lay one out in a folder.

Shared by tests/test_fuzz.py (a bounded run, in process) and benchmarks/fuzz.py (a long run,
each case a subprocess with a timeout). A `Case` is plain data, so a failing one can be saved
and replayed: `Case.write(folder)` lays out the desk, `Case.argv()` is the command line.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCHEMA = ROOT / "compliance" / "report" / "report.schema.json"
KINDS = ("repost", "source", "jsonl", "pack", "config", "baseline", "state")


@lru_cache(maxsize=1)
def _example_paragraphs() -> tuple[str, ...]:
    """Real article text, so that generated reposts also copy sources and reach the matcher."""
    found = []
    for path in sorted((EXAMPLES / "sources").iterdir()):
        body = path.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        found += [p.strip() for p in body.split("\n\n") if len(p.split()) > 25][:3]
    return tuple(found)


# ---------------------------------------------------------------------------------------------
# Text

# Fragments that mean something to some part of the scan; the rest of the text is random.
SNIPPETS = [
    "\n", "\n\n", "\r\n", "\r", "\t", " ", "\x00", "\x0b", "\x0c", "\x1b[31m", "\x1b]0;title\x07", "\x7f", "\x85",
    "\u2028", "\u2029", "\ufeff", "\u202e", "\u200b", "\ufffd", "\U0001F600", "e\u0301", "\u0130", "\ufb03", "ß",
    "Post At: Nov 20/2024 09:12AM", "Category: News", "Published on: 2024-01-01", "Posted on:",
    "Disclaimer: The copyright belongs to the original author. Thank you.",
    "compliance: ignore all -- reviewed", "compliance: ignore", "<!-- compliance: ignore attribution-missing -- ok -->",
    "<!--", "-->", "<!-- compliance: ignore all", "...", "…", ". . .", "Source: Reuters", "By Jane Smith",
    "(c) 2024 CNN", "© The Associated Press", "Photo: AP", "Credit: Getty Images", "Originally published by Newsweek",
    "WASHINGTON (Reuters) -", "http://example.com/a?b=c", "https://www.aljazeera.com/x", "https://", "http://[::1",
    "http://%zz", "www.", "---", "---\n", "...\n", "# ", "## ", "> ", "- ", "1. ", "* ", "```", "    ", "|a|b|\n|-|-|",
    "![alt](pic.png)", "![](", "[link](http://x.invalid)", "[", "]", "(", ")", "*", "_", "`", "<", ">", "&", "&amp;",
    "&#0;", "&#x110000;", "&#xD800;", "&nbsp;", "&bogus;", "&#99999999999;", "<br>", "<p>", "</p>", "<div>", "</div>",
    "<script>", "</script>", "<style>", "<![CDATA[", "]]>", "<?php ?>", "<!DOCTYPE html>", "<h1>", "</h1>",
    "<figcaption>", "<figure>", "<article>", "<title>", "</title>", "<meta name=author content=x>", "<a href='",
    "'>", "<img alt=", "<table>", "<tr><td>", "</td></tr>", "<svg>", "<math>", "<template>", "<textarea>",
    "<plaintext>", "<noscript>", "<iframe srcdoc='<p>x</p>'>",
]
MANY_TIMES = (10, 100, 1000, 10_000)


def text_pieces(repeat_max: int) -> st.SearchStrategy[str]:
    times = st.sampled_from([t for t in MANY_TIMES if t <= repeat_max] or [1])
    return st.one_of(
        st.text(max_size=40),  # any code point but surrogates
        st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # lone surrogates: a file cannot hold them as UTF-8
        st.text(st.characters(codec="ascii"), max_size=40),
        st.sampled_from(SNIPPETS),
        st.sampled_from(_example_paragraphs()),
        st.builds(lambda s, n: s * n, st.sampled_from(SNIPPETS + ["word ", "The quick brown fox. "]), times),
        st.builds(lambda p, n: ("\n\n" + p) * n, st.sampled_from(_example_paragraphs()), st.sampled_from([2, 5, 50])),
    )


def texts(repeat_max: int = 1000, max_pieces: int = 12) -> st.SearchStrategy[str]:
    return st.lists(text_pieces(repeat_max), max_size=max_pieces).map("".join)


def encoded(text: str, encoding: str) -> bytes:
    """`text` as a file holds it: mostly UTF-8, sometimes not (a repost saved in another encoding)."""
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if encoding == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    if encoding == "latin-1":
        return text.encode("latin-1", "replace")
    return text.encode("utf-8", "surrogatepass")


ENCODINGS = st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1"])


# ---------------------------------------------------------------------------------------------
# YAML (front matter, packs, configurations)

YAML_SCALARS = [
    "", "~", "null", "true", "no", "0", "-1", "9" * 400, "0x1F", "0o17", "1_000", "1e999", "-1e999", ".nan", ".inf",
    "-.inf", "3.5", "2024-02-30", "2025-13-45", "0000-00-00", "2024-01-01", "2024-01-01T25:61:61Z", "2024-01-01 10:00:00 +99:00",
    "!!binary aGVsbG8=", "!!binary ===", "!!python/object:os.system ls", "!!python/name:os.system", "!!set {a, b}",
    "!!omap [a: 1]", "!!timestamp 2024-99-99", "!!int x", "!!float x", "!!str 5", "!!null x", "!custom x",
    "&anchor value", "*anchor", "[a, b]", "{a: 1}", "[" * 50 + "]" * 50, "[" * 3000, "{" * 3000, "|\n  block text\n",
    ">\n  folded\n", "\"\\ud83d\\ude00 and \\ud83d alone\"", "\"\\x00\\x1b[31m\"", "\"\\U0010FFFF\\uFFFE\"", "'it''s'",
    "\"unterminated", "'unterminated", "a: b: c", "- item", "? complex", "%YAML 1.1", "@reserved", "`tick", "\t tab",
]
FRONT_MATTER_KEYS = [
    "title", "author", "byline", "source", "source_url", "original_url", "canonical", "credit", "publisher", "url",
    "id", "license", "max_excerpt", "published", "date", "aliases", "tags", "<<", "? [a]",
]


def yaml_values() -> st.SearchStrategy[str]:
    """A value as YAML text: generated scalars (quoted to carry anything), or a hostile one."""
    plain = st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.none(),
                      st.lists(st.text(max_size=10), max_size=4))
    return st.one_of(
        st.sampled_from(YAML_SCALARS),
        plain.map(lambda v: json.dumps(v)),  # JSON is YAML: lone surrogates as \ud83d escapes, NaN as NaN
        st.text(max_size=30).map(lambda s: " ".join(s.split()) or "x"),  # unquoted
    )


def yaml_mapping(keys: list[str], max_size: int = 8) -> st.SearchStrategy[str]:
    line = st.tuples(st.one_of(st.sampled_from(keys), st.text(max_size=12)), yaml_values())
    return st.lists(line, max_size=max_size).map(lambda pairs: "".join(f"{k}: {v}\n" for k, v in pairs))


def yaml_text(keys: list[str]) -> st.SearchStrategy[str]:
    """YAML that mostly parses, and sometimes does not."""
    return st.one_of(
        yaml_mapping(keys),
        st.builds(lambda a, b: a + b, yaml_mapping(keys), texts(100, 4)),
        st.sampled_from([
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n",
            "- a\n- b\n", "just text\n", "a:\n\t- tab\n", "a: 1\na: 2\n", "%TAG ! tag:x,2000:\n--- !x\na: 1\n",
            "? [a, b]\n: c\n", "<<: {title: x}\n", "a: " + "[" * 20_000 + "\n", "a: " + "- " * 2000 + "x\n",
        ]),
    )


def front_matter(keys: list[str]) -> st.SearchStrategy[str]:
    """A front matter block at the top of a file: closed, unclosed, or not quite one."""
    opening = st.sampled_from(["---\n", "---\n", "---\r\n", "--- \n", "---\n---\n"])
    closing = st.sampled_from(["---\n", "---\n", "...\n", "", "---", "----\n"])
    return st.builds(lambda o, y, c: o + y + c, opening, yaml_text(keys), closing)


# ---------------------------------------------------------------------------------------------
# Markup

TAGS = ["p", "div", "article", "main", "section", "figure", "figcaption", "h1", "h2", "h3", "title", "head", "body",
        "html", "script", "style", "a", "span", "table", "tr", "td", "ul", "li", "blockquote", "pre", "br", "img",
        "meta", "noscript", "template", "svg", "math", "iframe", "textarea", "header", "footer", "nav", "aside",
        "time", "address", "b", "i", "caption", "x-custom", "P", "ARTICLE"]
ATTRIBUTES = ["class", "id", "href", "src", "alt", "content", "name", "rel", "property", "itemprop", "datetime",
              "style", "hidden", "aria-hidden", "role", "lang", "dir", "charset"]


def _element(tag: str, attributes: list[tuple[str, str]], children: list[str], closed: bool) -> str:
    attrs = "".join(f' {name}="{value}"' if value is not None else f" {name}" for name, value in attributes)
    return f"<{tag}{attrs}>" + "".join(children) + (f"</{tag}>" if closed else "")


def html_markup(repeat_max: int) -> st.SearchStrategy[str]:
    leaf = texts(repeat_max, 3)
    attribute = st.tuples(st.sampled_from(ATTRIBUTES), st.one_of(st.none(), st.text(max_size=20).map(lambda s: s.replace('"', "&quot;")),
                                                                  st.sampled_from(["author", "og:site_name", "javascript:x", "http://x/y"])))
    tree = st.recursive(leaf, lambda children: st.builds(
        _element, st.sampled_from(TAGS), st.lists(attribute, max_size=3), st.lists(children, max_size=4), st.booleans()),
        max_leaves=25)
    depth = st.sampled_from([t for t in (100, 1000, 10_000, 100_000) if t <= repeat_max * 10] or [10])
    deep = st.builds(lambda tag, n, inside, closed: f"<{tag}>" * n + inside + (f"</{tag}>" * n if closed else ""),
                     st.sampled_from(TAGS), depth, leaf, st.booleans())
    return st.lists(st.one_of(tree, deep), min_size=1, max_size=4).map("".join)


def markdown_text(repeat_max: int) -> st.SearchStrategy[str]:
    nesting = st.builds(lambda mark, n, inside: mark * n + inside, st.sampled_from(["> ", "- ", "1. ", "* ", "    ", "#", "[", "![", "*", "`"]),
                        st.sampled_from([t for t in (10, 100, 1000, 10_000) if t <= repeat_max * 10] or [10]), texts(repeat_max, 2))
    return st.lists(st.one_of(texts(repeat_max, 6), nesting, html_markup(repeat_max)), max_size=5).map("\n".join)


# ---------------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    """One hostile input in a desk: what to write over a copy of examples/, and the command."""

    kind: str
    files: dict[str, bytes] = field(default_factory=dict)  # path in the desk -> content (over the example's, if one is there)
    options: list[str] = field(default_factory=list)  # scan options besides the report's
    names: tuple[str, ...] = ()  # the files an error may name
    formats: tuple[str, ...] = ("json",)
    state_damage: list[tuple] = field(default_factory=list)  # kind "state": done to a state a first scan wrote
    config_decides: bool = False  # the configuration picks reports and paths: no report flags
    fifos: tuple[str, ...] = ()  # named pipes to make in the desk, where a file is expected
    links: tuple[tuple[str, str], ...] = ()  # (name, target) symbolic links, to devices say

    def argv(self) -> list[str]:
        if self.config_decides:
            return ["scan", *self.options, "-q"]
        state = [] if any(o in ("--state", "--no-state") for o in self.options) else ["--no-state"]
        report = [a for f in self.formats for a in ("--format", f)] + ["--report-dir", "out"]
        return ["scan", "reposts", "--sources", "sources", *self.options, *state, *report, "-q", "--fail-on", "error"]

    def write(self, desk: Path, run: Callable[[list[str]], object] | None = None) -> None:
        """Lay the case out in `desk` (empty); `run(argv)` runs the first scan a damaged state needs."""
        shutil.copytree(EXAMPLES / "reposts", desk / "reposts")
        shutil.copytree(EXAMPLES / "sources", desk / "sources")
        for name, content in self.files.items():
            path = desk / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        for name in self.fifos:
            (desk / name).parent.mkdir(parents=True, exist_ok=True)
            os.mkfifo(desk / name)
        for name, target in self.links:
            (desk / name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, desk / name)
        if self.kind == "state":
            assert run is not None
            run(["scan", "reposts", "--sources", "sources", "--state", "s.db", "-q", "--format", "json", "--report-dir", "first"])
            shutil.rmtree(desk / "first", ignore_errors=True)
            damage_state(desk / "s.db", self.state_damage)

    def as_json(self) -> str:
        data = asdict(self)
        data["files"] = {name: content.decode("latin-1") for name, content in self.files.items()}
        data["state_damage"] = [[{"bytes": v.hex()} if isinstance(v, bytes) else v for v in step] for step in self.state_damage]
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Case":
        data = json.loads(text)
        data["files"] = {name: content.encode("latin-1") for name, content in data["files"].items()}
        data["names"] = tuple(data["names"])
        data["formats"] = tuple(data["formats"])
        data["state_damage"] = [tuple(bytes.fromhex(v["bytes"]) if isinstance(v, dict) else v for v in step)
                                for step in data["state_damage"]]
        data["fifos"] = tuple(data.get("fifos", ()))
        data["links"] = tuple(tuple(link) for link in data.get("links", ()))
        return cls(**data)


REPOST_SUFFIXES = [".txt", ".md", ".markdown", ".html", ".htm", ".TXT"]
ODD_NAMES = ["hostile", "-rf", " space ", "new\nline", "tab\tname", "é", "\U0001F600", "a" * 200, "esc\x1b[31m", "%s%n",
             "back\\slash", "quote'\"", "dot.", "CON", "\ufeff"]
FORMAT_SETS = [("json",), ("json",), ("json",), ("json", "sarif", "junit", "github", "text"), ("json", "html")]


def _formats() -> st.SearchStrategy[tuple[str, ...]]:
    return st.sampled_from(FORMAT_SETS)


@st.composite
def repost_cases(draw, repeat_max: int = 1000) -> Case:
    suffix = draw(st.sampled_from(REPOST_SUFFIXES))
    name = draw(st.sampled_from(ODD_NAMES))
    if suffix.lower() in (".html", ".htm"):
        body = draw(st.one_of(html_markup(repeat_max), texts(repeat_max)))
    elif suffix in (".md", ".markdown"):
        body = draw(markdown_text(repeat_max))
        if draw(st.booleans()):
            body = draw(front_matter(FRONT_MATTER_KEYS)) + body
    else:
        body = draw(texts(repeat_max))
    content = draw(st.one_of(st.builds(encoded, st.just(body), ENCODINGS), st.binary(max_size=2000)))
    path = f"reposts/{name}{suffix}"
    special = draw(st.sampled_from(["none"] * 8 + ["fifo", "device"]))
    return Case("repost", {path: content}, options=draw(st.sampled_from(STATE_OR_INDEX)), names=(path, "index.db", "s.db"),
                formats=draw(_formats()), fifos=("reposts/pipe.md",) if special == "fifo" else (),
                links=(("reposts/zero.txt", "/dev/zero"),) if special == "device" else ())


SOURCE_KEYS = ["id", "publisher", "title", "url", "author", "license", "max_excerpt", "published", "date", "aliases"]


@st.composite
def source_cases(draw, repeat_max: int = 1000) -> Case:
    """A catalogue file with front matter (or none), beside the good ones."""
    suffix = draw(st.sampled_from([".md", ".txt", ".html", ".markdown"]))
    name = draw(st.sampled_from(ODD_NAMES))
    head = draw(st.one_of(
        front_matter(SOURCE_KEYS),
        yaml_mapping(SOURCE_KEYS, 4).map(lambda y: f"---\nid: x\npublisher: P\n{y}---\n"),  # one good source, one field hostile
        st.just(""),
    ))
    body = draw(html_markup(repeat_max) if suffix == ".html" else texts(repeat_max))
    content = draw(st.one_of(st.builds(encoded, st.just(head + body), ENCODINGS), st.binary(max_size=1000)))
    path = f"sources/{name}{suffix}"
    special = draw(st.sampled_from(["none"] * 7 + ["fifo", "device", "fifo catalogue"]))
    options = draw(st.sampled_from(STATE_OR_INDEX)) + (["--sources", "pipe.jsonl"] if special == "fifo catalogue" else [])
    return Case("source", {path: content}, options=options, names=(path, "index.db", "s.db", "pipe.jsonl"), formats=draw(_formats()),
                fifos={"fifo": ("sources/pipe.md",), "fifo catalogue": ("pipe.jsonl",)}.get(special, ()),
                links=(("sources/zero.md", "/dev/zero"),) if special == "device" else ())


def json_values() -> st.SearchStrategy:
    scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30))
    return st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=10)


# Inputs that fail for reasons in files this branch leaves to others (see KNOWN_ELSEWHERE):
# the long run (benchmarks/fuzz.py) still draws them; the unit test does not, and keeps each
# as an expected failure of its own (tests/test_fuzz.py), until the fix lands.
DEEP_JSONL_LINES = [b"[" * 100_000, b'{"a":' * 50_000]
KNOWN_ELSEWHERE = {
    "jsonl-deep": "a JSONL catalogue line nested 100,000 deep: json.loads' RecursionError escapes "
                  "similarity/catalogue.py:_parse_line (exit 4)",
    "jsonl-surrogates": "a JSONL source whose text holds a lone surrogate (\\ud83d), with a state or an index: "
                        "UnicodeEncodeError in similarity/store.py:content_hash (exit 4)",
    "jsonl-surrogate-fields": "a JSONL source whose publisher holds a lone surrogate, copied by a repost: every report "
                              "but JUnit fails to encode it (exit 4); similarity/catalogue.py keeps JSON strings as they are",
}
STATE_OR_INDEX = [[], [], ["--state", "s.db"], ["--index", "index.db"]]


@st.composite
def jsonl_cases(draw, repeat_max: int = 1000, known: bool = True) -> Case:
    """A JSONL catalogue, given as a second --sources: records with hostile fields, and lines
    that are not records at all."""
    paragraphs = _example_paragraphs()

    def record(fields: dict, text: str, ascii_only: bool) -> bytes:
        if not known:  # KNOWN_ELSEWHERE["jsonl-surrogates"]
            text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        base = {"id": "s", "publisher": "P", "text": text}
        return json.dumps({**base, **fields}, ensure_ascii=ascii_only, allow_nan=True).encode("utf-8", "surrogatepass")

    copied = st.just({"publisher": "P \ud83d", "title": "\udfff"} if known else {})  # with an example's paragraph, a repost copies it
    good = st.builds(record, st.one_of(st.dictionaries(st.sampled_from(SOURCE_KEYS + ["text", "extra"]), json_values(), max_size=3), copied),
                     st.one_of(texts(repeat_max), st.sampled_from(paragraphs), st.sampled_from(paragraphs).map(lambda p: p + " \ud83d alone")),
                     st.booleans())
    raw = st.one_of(
        st.sampled_from((DEEP_JSONL_LINES if known else []) + [b"", b"   ", b"{", b"null", b"[]", b'"text"', b"NaN", b"1e999",
                         b"\xef\xbb\xbf{}", b"\xff\xfe", b"{}", b'{"text": 5, "publisher": "P"}', b'{"id": "dup", "publisher": "P", "text": "x"}']),
        st.binary(max_size=200).filter(lambda b: b"\n" not in b),
        st.text(max_size=60).map(lambda s: s.replace("\n", " ").encode("utf-8", "surrogatepass")),
    )
    lines = draw(st.lists(st.one_of(good, raw), min_size=1, max_size=6))
    ending = draw(st.sampled_from([b"\n", b"\r\n", b""]))
    path = "extra.jsonl"
    # with a unique id per good line (a duplicate is its own, legitimate, error)
    numbered = [line.replace(b'"id": "s"', f'"id": "s{i}"'.encode()) for i, line in enumerate(lines)]
    return Case("jsonl", {path: ending.join(numbered) + ending}, options=["--sources", path, *draw(st.sampled_from(STATE_OR_INDEX))],
                names=(path, "index.db", "s.db"), formats=draw(_formats()))


REGEXES = ["(a+)+$", "(a|aa)+$", "[", "(", "\\", "x{1000000}", "(?:x{1000}){1000}", "(?P<n>a)(?P=n)", "\\p{L}+",
           "(?i)cookies", "(?flags", "a**", "(?<=a+)b", "\\1", "[[:alpha:]]", "(?V1)[a--b]", "", ".*", "^$", "\\x{110000}",
           "(?:(?:(?:a*)*)*)*b", "we use cookies", "media playback", "\\bthe\\b", "\ud83d", "\U0001F600+"]
SCOPES = ["all", "body", "title", "paragraphs", "headings", "captions", "first:1", "last:2", "first:0", "last:99999999999999999999",
          "first:-1", "middle", "", "ALL"]
RULE_TYPE_NAMES = ["forbidden-text", "required-text", "repetition", "attribution-missing", "attribution-mismatch",
                   "attribution-unverified", "excerpt-limit", "no-such-type"]
RULE_IDS = ["disclaimer-missing", "caption-duplicated", "attribution-missing", "excerpt-limit", "attribution-mismatch",
            "new-rule", "x"]
MATCHING = ["shingle_words", "window", "query_stride", "num_perm", "lsh_threshold", "min_span_words", "max_gap",
            "min_containment", "min_coverage", "max_candidates", "unknown"]
NUMBERS = [0, 1, 2, -1, 0.5, 1.5, 92, 100, 101, 10**6, 10**30, float("nan"), float("inf"), -float("inf"), True, "5", None, [1]]


def _option_values() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(NUMBERS), st.text(max_size=20), st.lists(st.sampled_from(REGEXES), max_size=4),
                     st.lists(json_values(), max_size=3), json_values())


@st.composite
def rules(draw) -> dict:
    rule: dict = {}
    for key, values in (("id", st.one_of(st.sampled_from(RULE_IDS), json_values())),
                        ("type", st.one_of(st.sampled_from(RULE_TYPE_NAMES), json_values())),
                        ("severity", st.one_of(st.sampled_from(["error", "warning", "info", "ERROR", "fatal"]), json_values())),
                        ("enabled", st.one_of(st.booleans(), json_values())),
                        ("scope", st.one_of(st.sampled_from(SCOPES), st.lists(st.sampled_from(SCOPES), max_size=3), json_values())),
                        ("paths", st.one_of(st.lists(st.sampled_from(["*", "**", "***", "[", "[!", "\\", "!x", "/", "//", "a/**/b",
                                                                        "reposts/", "*.md", "", " ", "#x", "{a,b}", "x\\", "[[:alpha:]]",
                                                                        "*a" * 20 + "b"]), max_size=3), json_values())),
                        ("message", st.one_of(st.text(max_size=20), json_values())),
                        ("description", json_values()),
                        ("patterns", st.one_of(st.lists(st.sampled_from(REGEXES), min_size=1, max_size=3), _option_values())),
                        ("text", st.one_of(st.sampled_from(["Disclaimer: x", "", " "]), st.text(max_size=30), _option_values())),
                        ("name", _option_values()),
                        ("min_similarity", st.one_of(st.sampled_from(NUMBERS), _option_values())),
                        ("min_words", st.one_of(st.sampled_from(NUMBERS), _option_values())),
                        ("tolerance", st.one_of(st.sampled_from(NUMBERS), _option_values())),
                        ("credit_forms", st.one_of(st.lists(st.sampled_from(["byline", "source-line", "copyright", "wire-dateline", "x", ""]),
                                                            max_size=4), _option_values()))):
        if key in ("id", "type") and draw(st.integers(0, 9)) < 8 or draw(st.integers(0, 9)) < 2:
            rule[key] = draw(values)
    return rule


@st.composite
def pack_cases(draw) -> Case:
    files: dict[str, bytes] = {}
    structured = draw(st.integers(0, 4)) > 0
    if structured:
        pack: dict = {}
        if draw(st.integers(0, 4)) > 0:
            pack["version"] = draw(st.sampled_from([1, 1, 1, 2, "1", None, 1.0]))
        if draw(st.integers(0, 3)) > 0:
            pack["extends"] = draw(st.sampled_from(["default", "default", "pack.yaml", "missing.yaml", "/dev/zero", ".", "other.yaml", "pipe.yaml",
                                                    "compliance.yaml", "sources", ["default"], 5]))
        if draw(st.booleans()):
            pack["matching"] = draw(st.one_of(st.dictionaries(st.sampled_from(MATCHING), st.sampled_from(NUMBERS), max_size=3), json_values()))
        pack["rules"] = draw(st.one_of(st.lists(rules(), max_size=4), json_values()))
        if draw(st.integers(0, 9)) == 0:
            pack["description"] = draw(json_values())
        if draw(st.integers(0, 9)) == 0:
            pack[draw(st.text(max_size=8))] = 1
        try:
            text = yaml.safe_dump(pack, allow_unicode=draw(st.booleans()), sort_keys=False)
        except yaml.YAMLError:
            text = "rules: []\n"
        if draw(st.integers(0, 9)) == 0:
            text += draw(texts(100, 3))  # trailing damage
        content = encoded(text, draw(ENCODINGS))
    else:
        content = draw(st.one_of(st.builds(encoded, yaml_text(["version", "extends", "matching", "rules", "description"]), ENCODINGS),
                                 st.binary(max_size=500)))
    files["pack.yaml"] = content
    if draw(st.booleans()):  # a second pack for `extends: other.yaml`
        files["other.yaml"] = encoded(yaml.safe_dump({"version": 1, "extends": draw(st.sampled_from(["pack.yaml", "default", "other.yaml"])),
                                                      "rules": draw(st.lists(rules(), max_size=2))}), "utf-8")
    named = draw(st.sampled_from(["pack.yaml"] * 9 + ["pipe.yaml"]))
    return Case("pack", files, options=["--rules", named], names=("pack.yaml", "other.yaml", "missing.yaml", "/dev/zero", "sources",
                                                                    "compliance.yaml", "pipe.yaml"),
                formats=draw(_formats()), fifos=("pipe.yaml",))


CONFIG_KEYS = ["paths", "sources", "rules", "fail_on", "baseline", "waivers", "max_bytes", "fetch", "index", "state", "notify",
               "report_dir", "format", "jobs", "keep_runs", "lock_timeout"]
# What a configuration may name: only folders and files inside the desk (or devices), nothing a
# scan could wander off into (`..`, `/`), and no web address but a closed local port.
CONFIG_PATHS = ["reposts", "reposts/", "sources", "missing", "", ".", "reposts/nasa-moon-shot.html", "/dev/zero", "/dev/null",
                "out", "s.db", "index.db", "pack.yaml", "compliance.yaml", "baseline.json", "reposts/desk-column.md"]
CONFIG_VALUES = {
    "paths": st.one_of(st.sampled_from(CONFIG_PATHS), st.lists(st.sampled_from(CONFIG_PATHS), max_size=3)),
    "sources": st.one_of(st.sampled_from(CONFIG_PATHS), st.lists(st.sampled_from(CONFIG_PATHS), max_size=3)),
    "rules": st.sampled_from(["default", "pack.yaml", "missing.yaml", "/dev/zero", ".", "compliance.yaml", "sources"]),
    "fail_on": st.sampled_from(["error", "warning", "info", "never", "ERROR", "", "all"]),
    "baseline": st.sampled_from(["baseline.json", "missing.json", "/dev/zero", ".", "sources", "compliance.yaml", "s.db", "pipe.json"]),
    "waivers": st.one_of(st.lists(st.fixed_dictionaries({}, optional={
        "paths": st.one_of(st.lists(st.sampled_from(["*", "[", "***", "reposts/*", "", "\\", "*a" * 20 + "b"]), max_size=2), json_values()),
        "rules": st.one_of(st.lists(st.sampled_from(["all", "attribution-missing", "x"]), max_size=2), json_values()),
        "reason": st.one_of(st.text(max_size=20), json_values()),
        "expires": st.one_of(st.sampled_from(["2000-01-01", "2999-12-31", "2025-13-45", "tomorrow", "", "0001-01-01"]), json_values()),
        "other": json_values()}), max_size=3), json_values()),
    "max_bytes": st.sampled_from([1, 10, 1000, 10**6, 0, -1, 10**30, 1.5, "1000", None]),
    "fetch": st.sampled_from([False, "yes", 3, [1], {"offline": True}, {"enabled": False}, {"unknown": 1}, {"request_budget": -1},
                              {"enabled": False, "timeout": "forever"}, {"enabled": False, "cache_lifetime": "-1d"},
                              {"enabled": False, "cache": 5}, {"enabled": False, "allow_hosts": [1]}, None]),
    "index": st.sampled_from(["index.db", "pipe.json", ".", "sources", "reposts/desk-column.md", "", 5]),
    "state": st.sampled_from(["s.db", "/dev/zero", "pipe.json", ".", "sources", "reposts/desk-column.md", "", 5]),
    "notify": st.sampled_from(["http://127.0.0.1:9/hook", "ftp://x", "http://", "https://[::1", "", 5, None]),
    "report_dir": st.sampled_from(["out", "out", "/dev/null", "reposts/desk-column.md", "", "sources", 5]),
    "format": st.one_of(st.sampled_from(["json", "html", "sarif", "junit", "github", "text", "pdf", ""]),
                        st.lists(st.sampled_from(["json", "html", "sarif", "junit", "pdf"]), max_size=3), json_values()),
    "jobs": st.sampled_from([1, 2, 0, -1, 1.5, "2", True, 10**30]),
    "keep_runs": st.sampled_from([0, 1, 20, -1, 10**30, "x", 1.5]),
    "lock_timeout": st.sampled_from([0, 1, 0.5, -1, float("nan"), float("inf"), "5", True]),
}


@st.composite
def config_cases(draw) -> Case:
    files: dict[str, bytes] = {}
    if draw(st.integers(0, 4)) > 0:
        config = {key: draw(CONFIG_VALUES[key]) for key in draw(st.lists(st.sampled_from(CONFIG_KEYS), max_size=6, unique=True))}
        if draw(st.integers(0, 9)) == 0:
            config[draw(st.text(max_size=8))] = draw(json_values())
        if "fetch" in config and config["fetch"] not in (False, None) and not isinstance(config["fetch"], (str, int, list)):
            config["fetch"] = {**config["fetch"], "enabled": False} if "offline" not in config["fetch"] else config["fetch"]
        text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
        content = encoded(text, draw(ENCODINGS))
    else:
        content = draw(st.one_of(st.builds(encoded, yaml_text(CONFIG_KEYS), ENCODINGS), st.binary(max_size=300)))
    name = draw(st.sampled_from(["compliance.yaml", "compliance.yaml", ".compliance.yaml"]))
    files[name] = content
    if draw(st.booleans()):
        files["pack.yaml"] = b"version: 1\nextends: default\nrules:\n  - id: disclaimer-missing\n    severity: warning\n"
    if draw(st.booleans()):
        files["baseline.json"] = b'{"version": 2, "findings": []}\n'
    options = draw(st.sampled_from([[], ["reposts"], ["reposts", "--sources", "sources"], ["--no-state"], ["reposts", "--format", "json", "--output", "r.json"],
                                    ["reposts", "--config", "pipe.yaml"]]))
    return Case("config", files, options=options, config_decides=True, fifos=("pipe.yaml", "pipe.json"),
                names=(name, "pack.yaml", "missing.yaml", "/dev/zero", "/dev/null", "baseline.json", "missing.json", "s.db", "index.db", "pipe.yaml", "pipe.json",
                       "sources", "reposts", "missing", "out", "compliance.yaml", "desk-column.md", "nasa-moon-shot.html", "r.json"))


@st.composite
def baseline_cases(draw) -> Case:
    entry = st.fixed_dictionaries({}, optional={
        "fingerprint": st.one_of(st.text(max_size=20), json_values()), "rule": json_values(),
        "path": st.one_of(st.sampled_from(["reposts/desk-column.md", "../x", "/etc/passwd", "a\x00b", "", "reposts"]), json_values()),
        "excerpt": json_values()})
    structured = st.builds(lambda version, findings, extra: json.dumps({"version": version, "findings": findings, **extra}, allow_nan=True),
                           st.sampled_from([1, 2, 2, 3, "2", None, 1.0]),
                           st.one_of(st.lists(entry, max_size=5), json_values()),
                           st.dictionaries(st.text(max_size=5), json_values(), max_size=2))
    content = draw(st.one_of(
        structured.map(lambda s: s.encode("utf-8", "surrogatepass")),
        json_values().map(lambda v: json.dumps(v).encode()),
        st.sampled_from([b"", b"[" * 100_000, b'{"version": 2, "findings": [' + b"[" * 50_000, b"\xef\xbb\xbf{}", b"\xff\xfe{}", b"NaN"]),
        st.binary(max_size=300),
    ))
    baseline = draw(st.sampled_from(["baseline.json"] * 12 + ["/dev/zero", "pipe.json", "reposts", "missing.json"]))
    return Case("baseline", {"baseline.json": content}, options=["--baseline", baseline], names=(baseline,),
                formats=draw(_formats()), fifos=("pipe.json",))


STATE_TABLES = ["documents", "runs", "open_findings", "pending_alerts", "meta", "document_rows"]


@st.composite
def state_cases(draw) -> Case:
    """A state a scan wrote, then damaged: a value of a row replaced, a table dropped, bytes overwritten."""
    value = st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=30), st.binary(max_size=30),
                      json_values().map(lambda v: json.dumps(v, allow_nan=True)),
                      st.sampled_from(['{"format": "md"}', '{"format":"txt","title":5,"has_document":false,"match":null,"findings":[{}]}',
                                       '{"format":"txt","title":"t","has_document":false,"match":null,"findings":[{"rule":"x","severity":"error",'
                                       '"message":"m","line":"one","column":null,"end_line":-5,"excerpt":7,"evidence":[],"suppression":null}]}',
                                       '{"format":"txt","title":"t","has_document":true,"match":{"source":"missing"},"findings":[]}',
                                       "[" * 100_000, "{}", "[]", "null"]))
    step = st.one_of(
        st.tuples(st.just("set"), st.sampled_from(STATE_TABLES), st.integers(0, 12), st.integers(0, 20), value),
        st.tuples(st.just("drop"), st.sampled_from(STATE_TABLES)),
        st.tuples(st.just("bytes"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
        st.tuples(st.just("truncate"), st.floats(0, 1)),
        st.tuples(st.just("pragma"), st.sampled_from(["user_version = 99", "user_version = 0", "application_id = 7", "user_version = 1"])),
    )
    damage = draw(st.lists(step, min_size=1, max_size=3))
    formats = draw(_formats())
    state = draw(st.sampled_from(["s.db"] * 12 + ["pipe.db", "reposts", "/dev/zero"]))
    return Case("state", {}, options=["--state", state], names=(state,), formats=formats, state_damage=damage, fifos=("pipe.db",))


def damage_state(path: Path, steps: list[tuple]) -> None:
    for step in steps:
        if step[0] in ("bytes", "truncate"):
            data = bytearray(path.read_bytes()) if path.exists() else bytearray()
            at = int(step[1] * len(data))
            if step[0] == "bytes":
                data[at:at + len(step[2])] = step[2]
            else:
                del data[at:]
            path.write_bytes(bytes(data))
            continue
        try:
            db = sqlite3.connect(path, isolation_level=None)
            try:
                if step[0] == "drop":
                    db.execute(f"DROP TABLE IF EXISTS {step[1]}")
                elif step[0] == "pragma":
                    db.execute(f"PRAGMA {step[1]}")
                else:
                    _, table, column, row, value = step
                    columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                    rowids = [r[0] for r in db.execute(f"SELECT rowid FROM {table} ORDER BY rowid")]
                    if columns and rowids:
                        db.execute(f"UPDATE {table} SET {columns[column % len(columns)]} = ? WHERE rowid = ?",
                                   (value, rowids[row % len(rowids)]))
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                db.close()
        except (sqlite3.Error, OverflowError):
            pass  # a damaged file may refuse the next step (SQLite takes no 20-digit integer): it stays as it is


STRATEGIES: dict[str, Callable[[int, bool], st.SearchStrategy[Case]]] = {
    "repost": lambda repeat_max, known: repost_cases(repeat_max),
    "source": lambda repeat_max, known: source_cases(repeat_max),
    "jsonl": jsonl_cases,
    "pack": lambda repeat_max, known: pack_cases(),
    "config": lambda repeat_max, known: config_cases(),
    "baseline": lambda repeat_max, known: baseline_cases(),
    "state": lambda repeat_max, known: state_cases(),
}
"""Each kind's cases: `STRATEGIES[kind](repeat_max, known)`, with the KNOWN_ELSEWHERE inputs or without."""


# ---------------------------------------------------------------------------------------------
# What a scan of a hostile input must do

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s+File \".*\", line \d+", re.MULTILINE)


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def problems(case: Case, desk: Path, code: int, stderr: str) -> list[str]:
    """Everything wrong with how a scan of `case` ended (empty: as the contract says)."""
    found = []
    if TRACEBACK.search(stderr):
        found.append("a Python traceback on stderr")
    if code not in (0, 1, 2):
        found.append(f"exit code {code}")
    lines = [line for line in stderr.splitlines() if line.strip()]
    strays = [line for line in lines if not line.startswith("compliance: ")]
    if strays:
        found.append(f"stderr lines not from compliance: {strays[:3]!r}")
    errors = [line for line in lines if line.startswith("compliance: error: ")]
    if code == 2:
        if not errors:
            found.append("exit 2 without an error line")
        elif len(errors) > 1 and case.kind != "jsonl" and len(set(errors)) < len(errors):
            # several lines are right where each says another mistake (a catalogue's bad sources,
            # every mistake the schema finds in a pack); the same line twice is not
            found.append(f"{len(errors)} error lines for one bad input: {errors[:3]!r}")
        for line in errors:
            if not _names_a_file(line, case):
                found.append(f"the error names none of {case.names!r}: {line!r}")
    elif code in (0, 1) and errors:
        found.append(f"exit {code} with error lines: {errors[:3]!r}")
    for report in desk.rglob("report.json"):
        if "sources" in report.relative_to(desk).parts:
            continue
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            found.append(f"{report.relative_to(desk)} is not JSON: {exc}")
            continue
        for error in list(_validator().iter_errors(data))[:2]:
            found.append(f"{report.relative_to(desk)} breaks the schema at {'/'.join(map(str, error.absolute_path))}: {error.message[:200]}")
        crashes = [(d.get("path"), f.get("message")) for d in data.get("documents", []) if isinstance(d, dict)
                   for f in d.get("findings", []) if isinstance(f, dict) and f.get("rule") == "internal-error"]
        if crashes:
            found.append(f"internal-error findings: {crashes[:2]!r}")
    for report in desk.rglob("report.sarif"):
        try:
            json.loads(report.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            found.append(f"{report.relative_to(desk)} is not JSON: {exc}")
    for report in desk.rglob("junit.xml"):
        try:
            ET.fromstring(report.read_bytes())
        except ET.ParseError as exc:
            found.append(f"{report.relative_to(desk)} is not XML: {exc}")
    return found


def _shown(name: str) -> str:
    """A file name as an error line shows it (escaped for the terminal, on one line: see cli.main)."""
    from compliance.report.text import terminal_safe

    return terminal_safe(name).replace("\n", "\\n")


def _names_a_file(line: str, case: Case) -> bool:
    """Whether an error line names one of the case's files, or a path one of them gives
    (a configuration's `paths: x` is rightly reported as `x: no such file or folder`)."""
    if any(_shown(name) in line for name in case.names):
        return True
    named = re.match(r"compliance: error: (.+?)(?::\d+)?: ", line)
    return bool(named) and any(named.group(1).encode() in content for content in case.files.values())
