"""What a rule checks, read from its type's docstring: for `compliance rule` and the generated
reference (docs/rules-reference.md), so the two never say different things.

A docstring starts `TYPE: summary`; prose follows; each example is a paragraph starting
PASSES or FAILS and ending `::`, then the example indented (as reStructuredText writes a
literal block).
"""
from __future__ import annotations

import json
import os
import re
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

from compliance.checks.builtin_docs import BUILTIN_DOCS
from compliance.checks.engine import BUILTIN_RULES
from compliance.checks.options import Option
from compliance.checks.rulepack import Rule, RulePack
from compliance.checks.rules import RULE_TYPES


@dataclass(frozen=True)
class Example:
    kind: str  # "passes" | "fails"
    note: str  # what the heading says in brackets: the setting, what it copies...
    text: str


@dataclass(frozen=True)
class OptionDoc:
    name: str
    kind: str
    required: bool
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    value: Any = None  # what the rule in this pack sets, when it differs from the default


@dataclass(frozen=True)
class RuleDoc:
    id: str
    type: str  # a rule type, or "built-in"
    severity: str | None  # None: a type no rule of the pack uses
    summary: str
    description: str  # the prose, paragraphs separated by blank lines
    scope: str | None = None
    enabled: bool | None = None
    origin: str = ""
    options: list[OptionDoc] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    fix: str = ""  # "available: what it does" or "not available: why" (`compliance fix`)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_docstring(doc: str) -> tuple[str, str, list[Example]]:
    """(summary, prose, examples) of a rule type's docstring."""
    lines = textwrap.dedent(doc).strip("\n").splitlines()
    first = lines[0].strip() if lines else ""
    summary = first.split(": ", 1)[-1] if ": " in first else first
    prose: list[str] = []
    examples: list[Example] = []
    index = 1
    while index < len(lines):
        line = lines[index]
        if line.startswith(("PASSES", "FAILS")):
            heading = [line]
            while not heading[-1].rstrip().endswith("::") and index + 1 < len(lines) and lines[index + 1].strip():
                index += 1
                heading.append(lines[index])
            text = " ".join(part.strip() for part in heading).rstrip(":").strip()
            kind, _, note = text.partition(" ")
            block: list[str] = []
            while index + 1 < len(lines) and (not lines[index + 1].strip() or lines[index + 1].startswith((" ", "\t"))):
                index += 1
                block.append(lines[index])
            note = note.strip()
            if note.startswith("(") and note.endswith(")"):
                note = note[1:-1]
            examples.append(Example(kind.lower(), note, textwrap.dedent("\n".join(block)).strip("\n")))
        else:
            prose.append(line)
        index += 1
    return summary, "\n".join(prose).strip("\n"), examples


def _kind(option: Option) -> str:
    kinds = option.kind if isinstance(option.kind, tuple) else (option.kind,)
    names = {str: "text", int: "whole number", float: "number", bool: "true/false", list: "list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _options(type_name: str, rule: Rule | None) -> list[OptionDoc]:
    docs = []
    for name, option in RULE_TYPES[type_name].OPTIONS.items():
        value = rule.options.get(name) if rule is not None else None
        if value == option.default:
            value = None
        docs.append(OptionDoc(name, _kind(option), option.required, option.default, option.help, option.minimum, option.maximum, value))
    return docs


_BUILTIN_FIX = "not available: the file itself, or its suppression comment, needs an editor"


def fix_text(type_name: str) -> str:
    """Whether `compliance fix` fixes a type's findings, and what it does or why not."""
    module = RULE_TYPES[type_name]
    why = getattr(module, "FIX", "no fix is known for it")
    return f"available (compliance fix, scan --fix): {why}" if hasattr(module, "fix") else f"not available: {why}"


def _module_doc(type_name: str) -> str:
    return RULE_TYPES[type_name].__doc__ or f"{type_name}: (no description)"


def rule_doc(pack: RulePack, rule_id: str) -> RuleDoc | None:
    """A rule of the pack, a built-in, or else a rule type, by name."""
    rule = next((r for r in pack.rules if r.id == rule_id), None)
    if rule is not None:
        summary, prose, examples = parse_docstring(_module_doc(rule.type))
        return RuleDoc(rule.id, rule.type, rule.severity.value, rule.description or summary, prose, str(rule.scope),
                       pack.runs(rule.id), shown_origin(rule.origin), _options(rule.type, rule), examples, fix_text(rule.type))
    if rule_id in BUILTIN_RULES:
        severity, description = BUILTIN_RULES[rule_id]
        summary, prose, examples = parse_docstring(BUILTIN_DOCS.get(rule_id, f"{rule_id}: {description}"))
        return RuleDoc(rule_id, "built-in", severity.value, summary, prose, "file", pack.runs(rule_id), "compliance", [], examples,
                       _BUILTIN_FIX)
    if rule_id in RULE_TYPES:
        summary, prose, examples = parse_docstring(_module_doc(rule_id))
        return RuleDoc(rule_id, rule_id, None, summary, prose, RULE_TYPES[rule_id].DEFAULT_SCOPE, None, "",
                       _options(rule_id, None), examples, fix_text(rule_id))
    return None


def all_rule_docs(pack: RulePack) -> list[RuleDoc]:
    """The pack's rules in order, then the types none of them uses, then the built-ins."""
    used = {rule.type for rule in pack.rules}
    ids = [rule.id for rule in pack.rules] + [t for t in RULE_TYPES if t not in used] + list(BUILTIN_RULES)
    return [doc for doc in map(lambda i: rule_doc(pack, i), ids) if doc is not None]


def known_names(pack: RulePack) -> list[str]:
    return sorted({*(rule.id for rule in pack.rules), *BUILTIN_RULES, *RULE_TYPES})


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _bounds(option: OptionDoc) -> str:
    if option.minimum is not None and option.maximum is not None:
        return f", {option.minimum:g} to {option.maximum:g}"
    return f", at least {option.minimum:g}" if option.minimum is not None else ""


def _heading(doc: RuleDoc) -> str:
    if doc.severity is None:
        return f"rule type {doc.type} (no rule of this pack uses it)"
    return doc.type if doc.type == "built-in" else f"type {doc.type}"


def to_text(doc: RuleDoc) -> str:
    """As `ruff rule` prints one: what, where, options, then the examples."""
    out = [f"{doc.id} ({_heading(doc)})", ""]
    facts = []
    if doc.severity:
        facts.append(f"severity: {doc.severity}")
    if doc.scope:
        facts.append(f"scope: {doc.scope}")
    if doc.enabled is not None:
        facts.append(f"enabled: {'yes' if doc.enabled else 'no'}")
    if doc.origin:
        facts.append(f"defined in: {doc.origin}")
    if facts:
        out += ["  " + "; ".join(facts), ""]
    out += [doc.summary[:1].upper() + doc.summary[1:], ""]
    if doc.description:
        out += [doc.description, ""]
    if doc.fix:
        out += [f"Fix: {doc.fix}", ""]
    if doc.options:
        out.append("Options (and their defaults):")
        for option in doc.options:
            default = "required" if option.required else f"default {_value(option.default)}"
            out.append(f"  {option.name} ({option.kind}{_bounds(option)}; {default}): {option.help}")
            if option.value is not None:
                out.append(f"      set by this rule: {_value(option.value)}")
        out.append("")
    for example in doc.examples:
        note = f" ({example.note})" if example.note else ""
        out += [f"{example.kind.capitalize()}{note}:", "", textwrap.indent(example.text, "    "), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _markdown_prose(text: str) -> str:
    """Docstring prose as Markdown shows it: `<figcaption>` is a word there, not a tag."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(part if part.startswith("`") else part.replace("<", "&lt;") for part in parts)


def shown_origin(origin: str) -> str:
    """file:line, from the package for the bundled pack (the same on every machine), else from
    the working folder when it lies below it."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if origin.startswith(package + os.sep):
        return os.path.relpath(origin, package)
    if os.path.isabs(origin) and origin.startswith(os.getcwd() + os.sep):
        return os.path.relpath(origin)
    return origin


def to_markdown(doc: RuleDoc, level: int = 2) -> str:
    """One rule's section of docs/rules-reference.md."""
    out = [f"{'#' * level} {doc.id}", ""]
    facts = [f"type: {'built-in' if doc.type == 'built-in' else f'`{doc.type}`'}"]
    if doc.severity:
        facts.append(f"severity: {doc.severity}")
    else:
        facts.append("no rule of the default pack uses this type")
    if doc.scope:
        facts.append(f"default scope: `{doc.scope}`" if doc.type != "built-in" else "scope: the file")
    out += ["; ".join(facts) + ".", "", doc.summary[:1].upper() + doc.summary[1:], ""]
    if doc.description:
        out += [_markdown_prose(doc.description), ""]
    if doc.fix:
        out += [f"Fix: {doc.fix}.", ""]
    if doc.options:
        out += ["| option | kind | default | meaning |", "| --- | --- | --- | --- |"]
        for option in doc.options:
            default = "required" if option.required else f"`{_value(option.default)}`"
            out.append(f"| `{option.name}` | {option.kind}{_bounds(option)} | {default} | {option.help} |")
        out.append("")
    for example in doc.examples:
        note = f" ({example.note})" if example.note else ""
        out += [f"{example.kind.capitalize()}{note}:", "", "```", example.text, "```", ""]
    return "\n".join(out)


REFERENCE_HEADER = """\
# Rules reference

<!-- Generated from the rule types' docstrings by
     `compliance rule --all --format markdown --rules default > docs/rules-reference.md`:
     edit the docstrings in compliance/checks/rules/ (or compliance/checks/builtin_docs.py),
     not this page. tests/test_rule_command.py fails when it is stale. -->

Every rule of the [default pack](../compliance/packs/default.yaml), every rule type no rule of
it uses, and the built-in rules, as `compliance rule ID` prints them. How to write a pack is in
[rule packs](rules.md).

"""


def reference_markdown(pack: RulePack) -> str:
    return REFERENCE_HEADER + "\n".join(to_markdown(doc) for doc in all_rule_docs(pack)).rstrip("\n") + "\n"
