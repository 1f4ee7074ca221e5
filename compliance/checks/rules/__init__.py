"""Rule types: one module each, registered by its TYPE.

A module has a docstring showing a passing and a failing document, TYPE, DEFAULT_SCOPE,
OPTIONS (name -> Option) and `check(context) -> Iterator[Finding]`. Adding a type is one
file here plus one line below.
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
