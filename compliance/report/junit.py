"""JUnit XML, for Jenkins, GitLab and other CI test-report views.

One `<testsuite name="compliance">` in a `<testsuites>`; one `<testcase>` per document (its
report path as name and file). Every active finding at or above `--fail-on` is a `<failure>`
(type: the rule id); findings below the gate and suppressed ones (with their reason) are lines
of the testcase's `<system-out>`, so the report shows them without failing the test.

`tests` counts testcases (documents) and `failures` the testcases that fail, as JUnit
readers expect (a document with two failing findings is one failed test with two `<failure>`
elements). The XML is built with ElementTree, so paths and texts are escaped; characters
XML 1.0 cannot carry at all (control characters, lone surrogates) become U+FFFD.
Identical inputs give byte-identical output: no timestamps, documents in path order.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from compliance.model import DocumentResult, Finding
from compliance.report.context import ReportInput

SUITE = "compliance"
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _line(path: str, finding: Finding) -> str:
    return f"{path}:{finding.line}:{finding.column}: {finding.severity.value} {finding.rule} {finding.message}"


def _fails(report: ReportInput, finding: Finding) -> bool:
    return finding.is_active and report.fails_gate(finding.severity)


def _testcase(report: ReportInput, document: DocumentResult) -> ET.Element:
    path = _xml_text(document.repository_path)
    case = ET.Element("testcase", {"classname": SUITE, "name": path, "file": path})
    notes = []
    for finding in document.findings:
        if _fails(report, finding):
            failure = ET.SubElement(case, "failure", {
                "type": _xml_text(finding.rule),
                "message": _xml_text(f"{finding.rule}: {finding.message}"),
            })
            failure.text = _xml_text(_line(document.repository_path, finding))
        elif finding.suppression is not None:
            notes.append(f"{_line(document.repository_path, finding)} (suppressed, {finding.suppression.kind}: {finding.suppression.reason})")
        else:
            notes.append(_line(document.repository_path, finding))
    if notes:
        ET.SubElement(case, "system-out").text = _xml_text("\n".join(notes))
    return case


def to_junit(report: ReportInput) -> str:
    cases = [_testcase(report, document) for document in report.ordered]
    tests = len(cases)
    failures = sum(1 for case in cases if case.find("failure") is not None)
    counts = {"tests": str(tests), "failures": str(failures), "errors": "0", "skipped": "0", "time": "0"}
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
