"""The typed records that flow through a scan: ingest -> similarity -> checks -> report.

Every stage reads the records of the stage before and adds its own; none reaches back.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from enum import Enum
from typing import Any, NamedTuple


class Severity(str, Enum):
    """Ordered from least to most severe, so that `--fail-on` can compare."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: str) -> "Severity":
        try:
            return cls(str(value).lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"severity must be one of {names}, not {value!r}") from None


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class BlockKind(str, Enum):
    TITLE = "title"
    META = "meta"  # category, "Post At:" and similar lines a desk adds above the body
    PARAGRAPH = "paragraph"
    HEADING = "heading"
    CAPTION = "caption"
    # Text of an HTML page outside its article (navigation, headers, footers, sidebars): in
    # `Document.furniture`, never in `blocks`; only the `page` scope reads it.
    FURNITURE = "furniture"


@dataclass(frozen=True)
class Block:
    """One unit of text as it stood in the file: a paragraph, a caption, the title...

    `line` and `end_line` are 1-based lines in the original file; `column` is where the
    text starts on `line`. Findings point at these. `image`: for a caption of an HTML page, the
    address of the picture it stands under, when known; two captions alike under two pictures
    are two photos captioned alike, not one caption pasted twice.
    """

    kind: BlockKind
    text: str
    line: int
    end_line: int
    column: int = 1
    image: str = ""


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    line: int


@dataclass
class Document:
    """A repost as read from disk, before any matching."""

    path: str  # relative to the scanned root, with forward slashes: the report's key
    format: str  # "txt" | "md" | "html"
    title: str
    blocks: list[Block]
    metadata: dict[str, Any] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    file_path: str = ""  # where it was read from, for messages
    directives: list[Any] = field(default_factory=list)  # ingest.directives.Directive: in-document suppressions
    # An HTML page's text outside the article, as FURNITURE blocks: where a desk's template may
    # put its disclaimer or credit line (a post footer, a sidebar box). Matching never reads it.
    furniture: list[Block] = field(default_factory=list)

    @cached_property  # every rule asks; the blocks do not change once a document is read
    def body(self) -> list[Block]:
        """The article text proper: paragraphs, headings and captions, in order."""
        return [b for b in self.blocks if b.kind not in (BlockKind.TITLE, BlockKind.META)]


class License(str, Enum):
    FULL = "full"
    EXCERPT = "excerpt"
    NONE = "none"


@dataclass
class Source:
    """An original article in the catalogue."""

    id: str
    publisher: str
    text: str
    aliases: tuple[str, ...] = ()
    url: str | None = None
    title: str | None = None
    author: str | None = None
    published: str | None = None
    license: License = License.FULL
    max_excerpt: float | None = None
    origin: str = ""  # file (and line, for JSONL) it came from, for messages


@dataclass(frozen=True)
class Span:
    """A copied run of words: token positions [start, end) and characters on both sides."""

    doc_start: int
    doc_end: int
    source_start: int
    source_end: int
    line: int  # first line of the copied run in the repost
    end_line: int
    doc_chars: tuple[int, int] = (0, 0)  # offsets in the repost's joined body text
    source_chars: tuple[int, int] = (0, 0)  # offsets in the source text

    @property
    def length(self) -> int:
        return self.doc_end - self.doc_start


@dataclass
class Match:
    """A verified source a document copies, with how much and where.

    Of a document's further sources (after the one it copies most of), the figures and spans
    count only the words that no source before it explains.
    """

    source: Source
    containment: float  # share of the repost's words copied from the source
    coverage: float  # share of the source's words reused
    copied_words: int
    spans: list[Span]


@dataclass(frozen=True)
class PageCheck:
    """What fetching a page that an attribution line links to showed (`--fetch`).

    status: "matched" (the repost copies it), "different" (it does not), or "unverified"
    (it could not be fetched or read; `reason` says why).
    """

    url: str
    line: int  # the attribution line with the link
    status: str
    reason: str = ""
    containment: float | None = None
    source: Source | None = None
    from_cache: bool = False


@dataclass(frozen=True)
class Suppression:
    """Why a finding does not fail the gate: an in-document comment, a waiver, or a baseline."""

    kind: str  # "inline" | "waiver" | "baseline"
    reason: str


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    excerpt: str = ""
    evidence: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    suppression: Suppression | None = None

    @property
    def is_active(self) -> bool:
        """Counts toward the gate (not suppressed)."""
        return self.suppression is None


@dataclass(frozen=True)
class LookupTrace:
    """What of the catalogue a document's result depended on: the band keys it looked up and
    the sources they found (by number, best first). A later catalogue change that touches
    neither cannot change the result (compliance.state.incremental)."""

    keys: Any  # numpy uint64 array
    candidates: tuple[int, ...]


class Tally(NamedTuple):
    """What the summary, the exit code and the history read of an unchanged document's
    findings, kept by the state so that they need no Finding restored (`DocumentResult.tally`)."""

    counts: tuple[tuple[str, str, int], ...]  # (severity, rule, how many) of its active findings
    suppressed: int  # findings suppressed inline or by a waiver
    active: int
    open_digest: str  # `state.history.findings_digest` of its active findings ("" when none)


@dataclass
class DocumentResult:
    """What the report says about one document."""

    path: str
    format: str
    title: str
    match: Match | None  # the primary source: the one the document copies most of
    findings: list[Finding]
    document: Document | None = None  # None when the file could not be read, or its text was let go
    location: str = ""  # the file's real path from the project root (`config.project_root`)
    text_dropped: bool = False  # read, but the texts were let go: no report asked to show them
    matches: list[Match] = field(default_factory=list)  # every source it copies, `match` first
    # Its line of the JSON report, rendered by the worker process that checked it: encoding is
    # the report's largest cost, and there it runs in parallel. Not an init field, so that
    # `dataclasses.replace` (a baseline marking findings) drops it.
    json_row: str | None = field(default=None, init=False, repr=False, compare=False)
    # Set when the scan keeps state and the document was matched (or had no words to match).
    lookup: LookupTrace | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # `match` decides which source is first: a copy given another one (`dataclasses.replace`)
        # keeps the further sources, and a copy given none has none.
        if self.match is None:
            self.matches = []
        elif not self.matches or self.matches[0] is not self.match:
            self.matches = [self.match, *self.matches[1:]]

    @property
    def matched(self) -> bool:
        """Whether it copies a source (a result kept by the state says so without its matches)."""
        return self.match is not None

    @property
    def tally(self) -> Tally | None:
        """Its findings' counts when the state kept them and the findings were not read back
        (an unchanged document's result); None: count `findings`."""
        return None

    @property
    def has_document(self) -> bool:
        """Whether the file was read (a report that shows texts can read it again)."""
        return self.document is not None or self.text_dropped

    def without_texts(self) -> "DocumentResult":
        """The same result without the repost's and the sources' texts, which only the HTML
        report shows: a worker process sends back a tenth of the bytes."""
        matches = [_copy_of(match, source=_copy_of(match.source, text="")) for match in self.matches]
        return _copy_of(self, match=matches[0] if matches else None, matches=matches, document=None,
                        text_dropped=self.has_document)

    @property
    def repository_path(self) -> str:
        """Where code scanning and annotations find the file: its real path from the project root
        (`path` differs only for a linked file, named where the link is)."""
        return self.location or self.path


def _copy_of(instance: Any, **changes: Any) -> Any:
    """A copy of a plain dataclass instance with `changes`, its fields copied as they are (a
    worker strips every result's texts: `dataclasses.replace` ran __init__ and cost three times more)."""
    copied = object.__new__(type(instance))
    copied.__dict__.update(instance.__dict__, **changes)
    return copied


def finding_fingerprint(path: str, finding: Finding) -> str:
    """Identifies a finding across edits elsewhere in its file: rule, path and evidence, no line.

    Baselines and SARIF's partialFingerprints use it.
    """
    evidence = " ".join(re.findall(r"\w+", finding.excerpt.casefold()))
    payload = "\x1f".join((finding.rule, path, evidence))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
