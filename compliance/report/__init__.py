"""Report: formatters that read a scan's results and never compute findings themselves."""
from compliance.report.context import ReportInput, RuleInfo
from compliance.report.json_report import SCHEMA_VERSION, to_json, report_dict
from compliance.report.text import to_text
from compliance.report.sarif import to_sarif
from compliance.report.junit import to_junit
from compliance.report.github import to_github
from compliance.report.write import write_atomic

FORMATS = {"text": to_text, "json": to_json, "sarif": to_sarif, "junit": to_junit, "github": to_github}

__all__ = ["FORMATS", "ReportInput", "RuleInfo", "SCHEMA_VERSION", "report_dict", "to_json", "to_text", "write_atomic"]
