"""Report: formatters that read a scan's results and never compute findings themselves."""
from compliance.report.context import ReportInput, RuleInfo
from compliance.report.json_report import SCHEMA_VERSION, to_json, report_dict
from compliance.report.text import to_text
from compliance.report.write import write_atomic

FORMATS = {"text": to_text, "json": to_json}

__all__ = ["FORMATS", "ReportInput", "RuleInfo", "SCHEMA_VERSION", "report_dict", "to_json", "to_text", "write_atomic"]
