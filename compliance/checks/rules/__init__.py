"""Rule types: one module each, registered by its TYPE.

A module has a docstring showing a passing and a failing document, TYPE, DEFAULT_SCOPE,
OPTIONS (name -> Option), `check(context) -> Iterator[Finding]`, and FIX: what its fix does,
or why its findings are never fixed. A type whose findings can be fixed with certainty also has
`fix(finding, fix_context) -> Fix | str` (the edits, or why not this time; compliance.fix).
Adding a type is one file here plus one line below.
"""
from compliance.checks.rules import (
    attribution_mismatch,
    attribution_missing,
    attribution_unverified,
    excerpt_limit,
    forbidden_text,
    repetition,
    required_text,
)

RULE_TYPES = {
    module.TYPE: module
    for module in (required_text, attribution_missing, attribution_mismatch, attribution_unverified, repetition, excerpt_limit,
                   forbidden_text)
}
