"""What a rule type's `check` receives, and the helper it makes findings with."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compliance.checks.attribution import Attribution, credits_source, desk_attributions, links_to_source
from compliance.model import Block, Document, Finding, Match, PageCheck, Source

EXCERPT_CHARS = 160


def shorten(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class CheckContext:
    document: Document
    match: Match | None  # the source the document copies most of
    blocks: list[Block]  # the blocks in the rule's scope
    rule: Any  # rulepack.Rule; typed loosely to keep rule modules free of import cycles
    pages: tuple[PageCheck, ...] = ()  # credited pages fetched for this document (--fetch)
    desk_texts: tuple[str, ...] = ()  # texts the desk adds to every repost (the disclaimer)
    # Shared by the rules checking one document: what several of them work out (the
    # attribution lines) is worked out once.
    shared: dict[tuple, Any] = field(default_factory=dict)
    matches: tuple[Match, ...] = ()  # every source it copies, `match` first

    def __post_init__(self) -> None:
        if not self.matches and self.match is not None:
            self.matches = (self.match,)

    def desk_attributions(self, source: Source | None) -> list[Attribution]:
        """`attribution.desk_attributions` of the rule's blocks, once per document, blocks and source."""
        key = ("desk_attributions", tuple(map(id, self.blocks)), id(source))
        if key not in self.shared:
            self.shared[key] = desk_attributions(self.document, self.blocks, source)
        return self.shared[key]

    def desk_credits(self) -> list[Attribution]:
        """The attribution lines the desk wrote: those copied with the text of none of its sources."""
        if len(self.matches) <= 1:
            return self.desk_attributions(self.match.source if self.match else None)
        first, *others = [self.desk_attributions(match.source) for match in self.matches]
        return [line for line in first if all(line in other for other in others)]

    def credits(self, source: Source) -> bool:
        """Whether one of the desk's lines credits `source`, or the article links to its site."""
        return any(credits_source(line, source) for line in self.desk_credits()) or links_to_source(self.document, source)

    @property
    def options(self) -> dict[str, Any]:
        return self.rule.options

    def finding(self, message: str, block: Block | None = None, *, line: int | None = None,
                end_line: int | None = None, column: int = 1, excerpt: str = "", **evidence: Any) -> Finding:
        """A finding of this rule; the pack's `message`, when set, replaces the default text."""
        if block is not None:
            line = line or block.line
            end_line = end_line or block.end_line
            column = column if column != 1 else block.column
            excerpt = excerpt or shorten(block.text)
        text = self.rule.message
        if text and "{" in text:
            try:
                text = text.format_map(evidence)
            except (KeyError, ValueError, IndexError, AttributeError):
                pass  # a placeholder this finding has no value for: show the message as written
        return Finding(
            rule=self.rule.id, severity=self.rule.severity, message=text or message,
            line=line or 1, column=column, end_line=end_line or line or 1, excerpt=shorten(excerpt),
            evidence=evidence,
        )

    def first_copied_block(self, match: Match | None = None) -> Block | None:
        """The block where the copying from `match` (default: the primary source) starts (the
        first body block without a match)."""
        body = self.document.body
        match = match or self.match
        if match and match.spans:
            line = min(span.line for span in match.spans)
            for block in body:
                if block.line >= line:
                    return block
        return body[0] if body else None
