"""What a rule type's `fix` receives: the finding's document, the file as bytes, and where
the desk's texts stand, so that a fix puts a credit where the desk would."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compliance.fix.edits import Edit
from compliance.fix.places import FileText
from compliance.model import Block, Document, Finding, Match

if TYPE_CHECKING:
    from compliance.checks.rulepack import RulePack

# Of two texts added at the same place (the end of the article), which goes first.
CREDIT_ORDER, DISCLAIMER_ORDER = 0, 1


@dataclass
class FixContext:
    file: FileText
    document: Document  # parsed from `file`
    rule: Any  # rulepack.Rule
    pack: "RulePack"
    matches: tuple[Match, ...]  # every source the document copies, the primary first
    findings: tuple[Finding, ...]  # the document's findings that count (not suppressed)

    @property
    def options(self) -> dict[str, Any]:
        return self.rule.options

    @property
    def blocks(self) -> list[Block]:
        return self.rule.scope.select(self.document)

    def block_at(self, line: int, *texts: str) -> Block | None:
        """The document's block starting on `line` whose text is `texts[0]` (or, given several,
        holds them all)."""
        for block in self.document.blocks:
            if block.line == line and (block.text == texts[0] if len(texts) == 1 else all(t in block.text for t in texts)):
                return block
        return None

    def disclaimer(self) -> Block | None:
        """Where the desk's required text (the disclaimer) stands, if it is there."""
        from compliance.checks.rules.required_text import passing_block
        from compliance.similarity.tokens import normalize_text

        for rule in self.pack.rules:  # a disclaimer rule that --select leaves out still says where the disclaimer is
            if rule.enabled and rule.type == "required-text" and rule.applies_to(self.document.path):
                block = passing_block(normalize_text(rule.options["text"]), rule.scope.select(self.document),
                                      rule.options["min_similarity"])
                if block is not None:
                    return block
        return None

    def at_the_end(self, text: str, order: int) -> Edit | None:
        """`text` as a paragraph at the end of the article."""
        return self.file.append(self.document.body, text, order)

    def before_the_disclaimer(self, text: str) -> Edit | None:
        """`text` as a paragraph right before the disclaimer, or at the article's end (before a
        disclaimer that another fix appends)."""
        disclaimer = self.disclaimer()
        edit = self.file.insert_before(disclaimer, text, CREDIT_ORDER) if disclaimer is not None else None
        return edit or self.at_the_end(text, CREDIT_ORDER)
