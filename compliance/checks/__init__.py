"""Checks: rule packs (YAML) pick rule types (Python modules) and run them on a document."""
from compliance.checks.engine import BUILTIN_RULES, check_document
from compliance.checks.rulepack import Rule, RulePack, load_pack

__all__ = ["BUILTIN_RULES", "Rule", "RulePack", "check_document", "load_pack"]
