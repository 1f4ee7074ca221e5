"""`compliance fix`, `scan --fix` and `--diff` on copies of real reposts: each fixable rule in
each format, the rescan clean of what was fixed, and every byte outside the edits as it was."""
from __future__ import annotations

import codecs
import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from conftest import DISCLAIMER, ROOT

from compliance.cli.main import main

DEV = ROOT.parent / "shared" / "eval" / "dev"
NIAC = "niac-missiles-repost.txt"
CUT_OFF = ("This illustrative image shows an Iranian-made Shahed-136 drone flying over the sky of Kermanshah, Iran, on "
           "March 7. Russia has used the drones in Ukraine, and Tehran has reportedly supplied Russia with hundreds of missiles... ")
ALJAZEERA_URL = "https://www.aljazeera.com/ajimpact/nasas-commercial-moon-shot-musk-bezos-firms-bid-191119041538885.html"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def findings(*paths: str, sources: str = "sources", rules: str | None = None) -> Counter:
    """(file name, rule) of every finding a fresh scan reports."""
    output = Path("rescan.json")
    extra = ["--rules", rules] if rules else []
    main(["scan", *paths, "--sources", sources, *extra, "--no-state", "--format", "json", "--output", str(output),
          "--fail-on", "never", "-q"])
    report = json.loads(output.read_text(encoding="utf-8"))
    output.unlink()
    return Counter((Path(d["path"]).name, f["rule"]) for d in report["documents"] for f in d["findings"])


def test_fix_makes_the_seed_reposts_fixes_and_reports_what_a_human_must_do(desk, capsys):
    before = snapshot(desk)
    assert findings("reposts")[(NIAC, "attribution-missing")] == 1
    capsys.readouterr()
    assert main(["fix", "reposts", "--sources", "sources"]) == 1  # errors remain: a mismatch and an excerpt
    out = capsys.readouterr().out
    assert f"reposts/{NIAC}:6: fixed attribution-missing: added the attribution line \"Source: Newsweek\"" in out
    assert f"reposts/{NIAC}:18: fixed caption-duplicated: removed the cut-off copy" in out
    assert "reposts/nasa-moon-shot.html:10: fixed caption-duplicated: removed the second copy on line 11" in out
    assert "excerpt-limit" in out and "(not fixable: a human must decide what to cut" in out
    assert "attribution-mismatch" in out and "(not fixable: a human must decide whom to credit" in out
    assert out.rstrip().endswith("Found 5 findings (3 fixed, 2 remaining).")

    assert findings("reposts") == Counter({("home-depot-sales.txt", "excerpt-limit"): 1,
                                           ("nasa-moon-shot.html", "attribution-mismatch"): 1})
    after = snapshot(desk)
    # byte for byte: the edits, and nothing else
    niac = before[f"reposts/{NIAC}"].decode("utf-8")
    assert niac.count(CUT_OFF) == 1
    expected = niac.replace(CUT_OFF, "").replace("\n\nDisclaimer:", "\n\nSource: Newsweek\n\nDisclaimer:")
    assert after[f"reposts/{NIAC}"] == expected.encode("utf-8")
    nasa = before["reposts/nasa-moon-shot.html"].decode("utf-8").split("\n")
    assert nasa[9] == nasa[10] and nasa[10].startswith("<figure>")  # the same figure twice: the second goes
    assert after["reposts/nasa-moon-shot.html"] == "\n".join(nasa[:10] + nasa[11:]).encode("utf-8")
    unchanged = {name for name in before if name not in (f"reposts/{NIAC}", "reposts/nasa-moon-shot.html")}
    assert {name: after[name] for name in unchanged} == {name: before[name] for name in unchanged}  # the catalogue too


def test_diff_shows_the_fixes_changes_nothing_and_exits_1_then_0(desk, capsys):
    before = snapshot(desk)
    assert main(["fix", "reposts", "--sources", "sources", "--diff"]) == 1
    captured = capsys.readouterr()
    assert snapshot(desk) == before
    assert f"--- a/reposts/{NIAC}\n+++ b/reposts/{NIAC}\n" in captured.out
    assert "+Source: Newsweek\n" in captured.out and "-This illustrative image" in captured.out
    assert "Would fix 3 findings in 2 files (2 to fix by hand)." in captured.err
    assert main(["scan", "reposts", "--sources", "sources", "--diff"]) == 1  # the same, as scan's flag
    assert capsys.readouterr().out == captured.out and snapshot(desk) == before

    assert main(["fix", "reposts", "--sources", "sources", "-q"]) == 1
    capsys.readouterr()
    assert main(["fix", "reposts", "--sources", "sources", "--diff"]) == 0  # nothing left to fix
    captured = capsys.readouterr()
    assert captured.out == "" and "Would fix 0 findings in 0 files (2 to fix by hand)." in captured.err


def test_scan_fix_fixes_then_reports_only_what_remains(desk, capsys):
    assert main(["scan", "reposts", "--sources", "sources", "--fix", "--no-state"]) == 1
    captured = capsys.readouterr()
    assert "fixed attribution-missing" in captured.err and "Found 5 findings (3 fixed, 2 remaining)." in captured.err
    assert "attribution-missing" not in captured.out and "caption-duplicated" not in captured.out
    assert "excerpt-limit" in captured.out and "attribution-mismatch" in captured.out


def _without(path: Path, text: str) -> None:
    data = path.read_text(encoding="utf-8")
    assert text in data
    path.write_text(data.replace(text, ""), encoding="utf-8")


def test_each_format_gets_its_disclaimer_and_its_credit(desk, capsys):
    """The disclaimer appended (and the credit put before it) in .txt, .md and .html; a
    cut-short disclaimer completed; the Markdown credit a front-matter field."""
    reposts = desk / "reposts"
    _without(reposts / NIAC, "\n\n" + DISCLAIMER)  # the credit and the disclaimer both go at the end
    _without(reposts / "wework-investigation.md", "Source: VentureBeat (https://venturebeat.com/2019/11/18/"
                                                  "new-york-state-attorney-general-investigating-wework-and-former-ceo/)\n\n")
    first_sentence = "Disclaimer: The copyright of this article belongs to the original author."
    _without(reposts / "wework-investigation.md", DISCLAIMER[len(first_sentence):])  # cut short
    _without(reposts / "nasa-moon-shot.html", "<p>Source: Reuters</p>\n")
    _without(reposts / "nasa-moon-shot.html", f"<p>{DISCLAIMER}</p>\n")
    before = snapshot(desk)
    found = findings("reposts")
    assert found[(NIAC, "disclaimer-missing")] == found[("wework-investigation.md", "disclaimer-missing")] == 1
    assert found[("wework-investigation.md", "attribution-missing")] == found[("nasa-moon-shot.html", "attribution-missing")] == 1
    assert found[("nasa-moon-shot.html", "disclaimer-missing")] == 1

    main(["fix", "reposts", "--sources", "sources", "-q"])
    capsys.readouterr()
    assert findings("reposts") == Counter({("home-depot-sales.txt", "excerpt-limit"): 1})
    after = snapshot(desk)

    niac = before[f"reposts/{NIAC}"].decode("utf-8").replace(CUT_OFF, "")
    assert after[f"reposts/{NIAC}"].decode("utf-8") == niac.rstrip("\n") + f"\n\nSource: Newsweek\n\n{DISCLAIMER}" + "\n" * (
        len(niac) - len(niac.rstrip("\n")))
    wework = before["reposts/wework-investigation.md"].decode("utf-8")
    assert after["reposts/wework-investigation.md"].decode("utf-8") == wework.replace(
        "posted: 2024-09-07\n---\n",
        'posted: 2024-09-07\nsource: "VentureBeat (https://venturebeat.com/2019/11/18/new-york-state-attorney-general-'
        'investigating-wework-and-former-ceo/)"\n---\n').replace(first_sentence, DISCLAIMER)
    nasa = before["reposts/nasa-moon-shot.html"].decode("utf-8").split("\n")
    del nasa[[i for i, line in enumerate(nasa) if line.startswith("<figure>")][1]]  # the second of two identical figures
    end = nasa.index("</article>")
    nasa[end:end] = [f"<p>Source: Al Jazeera ({ALJAZEERA_URL})</p>", f"<p>{DISCLAIMER}</p>"]
    assert after["reposts/nasa-moon-shot.html"].decode("utf-8") == "\n".join(nasa)


def test_a_credit_goes_before_the_disclaimer_in_html_escaped(desk, capsys):
    nasa = desk / "reposts" / "nasa-moon-shot.html"
    _without(nasa, "<p>Source: Reuters</p>\n")
    catalogue = desk / "sources" / "aljazeera-nasa-moon-shot.md"
    catalogue.write_text(catalogue.read_text(encoding="utf-8").replace("publisher: Al Jazeera", 'publisher: "Al <Jazeera> & Co"'),
                         encoding="utf-8")
    text = nasa.read_text(encoding="utf-8")
    main(["fix", "reposts/nasa-moon-shot.html", "--sources", "sources", "-q", "--ignore", "caption-duplicated"])
    capsys.readouterr()
    expected = text.replace(f"<p>{DISCLAIMER}</p>", f"<p>Source: Al &lt;Jazeera&gt; &amp; Co ({ALJAZEERA_URL})</p>\n<p>{DISCLAIMER}</p>")
    assert nasa.read_text(encoding="utf-8") == expected
    assert ("nasa-moon-shot.html", "attribution-missing") not in findings("reposts/nasa-moon-shot.html")


def test_line_endings_and_the_byte_order_mark_stay_as_they_were(desk, capsys):
    reposts = desk / "reposts"
    plain = (reposts / NIAC).read_bytes()
    (reposts / "crlf.txt").write_bytes(plain.replace(b"\n", b"\r\n"))
    (reposts / "bom.txt").write_bytes(codecs.BOM_UTF8 + plain)
    (reposts / "cr.txt").write_bytes(plain.replace(b"\n", b"\r"))  # old Mac line endings
    main(["fix", "reposts", "--sources", "sources", "-q"])
    capsys.readouterr()
    fixed = (reposts / NIAC).read_bytes()
    assert fixed != plain
    assert (reposts / "crlf.txt").read_bytes() == fixed.replace(b"\n", b"\r\n")
    assert (reposts / "bom.txt").read_bytes() == codecs.BOM_UTF8 + fixed
    assert (reposts / "cr.txt").read_bytes() == fixed.replace(b"\n", b"\r")
    rescan = findings("reposts")
    assert not [key for key in rescan if key[0] in ("crlf.txt", "bom.txt", "cr.txt")]


def test_in_a_desk_template_the_new_paragraphs_stay_in_its_container_with_its_indentation(desk, capsys):
    paragraphs = (desk / "reposts" / NIAC).read_text(encoding="utf-8").split("\n\n")[2:-1]
    page = desk / "reposts" / "template.html"
    text = ("<html><body><div class='content'>\n  <p>" + "</p>\n  <p>".join(paragraphs[:-2])
            + "</p>\n  <ul><li>" + "</li><li>".join(paragraphs[-2:]) + "</li></ul>\n</div>\n</body></html>\n")
    page.write_text(text, encoding="utf-8")
    main(["fix", "reposts/template.html", "--sources", "sources", "-q", "--ignore", "caption-duplicated"])
    capsys.readouterr()
    assert page.read_text(encoding="utf-8") == text.replace(
        "</li></ul>\n", f"</li></ul>\n  <p>Source: Newsweek</p>\n  <p>{DISCLAIMER}</p>\n")
    assert findings("reposts/template.html") == Counter({("template.html", "caption-duplicated"): 1})


def test_front_matter_keeps_its_order_and_comments(desk, capsys):
    wework = desk / "reposts" / "wework-investigation.md"
    _without(wework, "Source: VentureBeat (https://venturebeat.com/2019/11/18/"
                     "new-york-state-attorney-general-investigating-wework-and-former-ceo/)\n\n")
    text = wework.read_text(encoding="utf-8").replace("category: Business\n", "# filed by the night desk\ncategory: Business  # section\n")
    wework.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    main(["fix", "reposts/wework-investigation.md", "--sources", "sources", "-q"])
    capsys.readouterr()
    field = 'source: "VentureBeat (https://venturebeat.com/2019/11/18/new-york-state-attorney-general-investigating-wework-and-former-ceo/)"'
    assert wework.read_bytes() == text.replace("posted: 2024-09-07\n---", f"posted: 2024-09-07\n{field}\n---").replace(
        "\n", "\r\n").encode("utf-8")
    assert findings("reposts/wework-investigation.md") == Counter()


def test_a_file_that_cannot_be_read_is_left_alone_and_said_so(desk, capsys):
    latin = desk / "reposts" / "latin.txt"
    latin.write_bytes((desk / "reposts" / NIAC).read_text(encoding="utf-8").replace("Iran", "Irã").encode("latin-1", "replace"))
    data = latin.read_bytes()
    assert main(["fix", "reposts/latin.txt", "--sources", "sources"]) == 1
    out = capsys.readouterr().out
    assert "input-unreadable" in out and "not a text a fix can change" in out and "(0 fixed, 1 remaining)" in out
    assert latin.read_bytes() == data


def test_a_page_in_a_legacy_encoding_is_checked_but_left_for_a_human_to_fix(desk, capsys):
    """Read in the encoding it declares, the page has its findings like its UTF-8 twin; fixes
    write UTF-8 only, so none is made and each finding says why."""
    page = desk / "reposts" / "nasa-moon-shot.html"
    text = page.read_text(encoding="utf-8").replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    page.write_bytes(text.encode("cp1252"))
    data = page.read_bytes()
    assert findings("reposts/nasa-moon-shot.html")[("nasa-moon-shot.html", "caption-duplicated")] == 1
    capsys.readouterr()
    assert main(["fix", "reposts/nasa-moon-shot.html", "--sources", "sources"]) == 1
    out = capsys.readouterr().out
    assert "caption-duplicated" in out and "the file is cp1252, not UTF-8" in out and "(0 fixed," in out
    assert page.read_bytes() == data


def test_the_pack_sets_the_credit_line_and_a_missing_url_drops_cleanly(desk, capsys):
    pack = desk / "desk.yaml"
    pack.write_text("extends: default\nrules:\n  - id: attribution-missing\n    fix: \"Via {publisher} - {url}\"\n", encoding="utf-8")
    main(["fix", f"reposts/{NIAC}", "--sources", "sources", "--rules", str(pack), "-q", "--select", "attribution-missing"])
    capsys.readouterr()
    text = (desk / "reposts" / NIAC).read_text(encoding="utf-8")
    assert "\n\nVia Newsweek\n\nDisclaimer:" in text and CUT_OFF in text  # no url in the catalogue; the caption not selected
    assert ("niac-missiles-repost.txt", "attribution-missing") not in findings(f"reposts/{NIAC}", rules=str(pack))
    pack.write_text("extends: default\nrules:\n  - id: attribution-missing\n    fix: \"Source: {url}\"\n", encoding="utf-8")
    assert main(["fix", "reposts", "--sources", "sources", "--rules", str(pack)]) == 2
    assert "must name {publisher}" in capsys.readouterr().err


def test_a_roundup_gets_one_line_per_uncredited_source(desk, capsys):
    def body(name: str) -> str:
        return (desk / "sources" / name).read_text(encoding="utf-8").split("\n---\n", 1)[1].strip()

    roundup = desk / "reposts" / "roundup.txt"
    roundup.write_text(f"Two stories\n\n{body('aljazeera-nasa-moon-shot.md')}\n\n{body('venturebeat-wework-investigation.md')}"
                       f"\n\n{DISCLAIMER}\n", encoding="utf-8")
    assert findings("reposts/roundup.txt")[("roundup.txt", "attribution-missing")] == 2
    main(["fix", "reposts/roundup.txt", "--sources", "sources", "-q"])
    capsys.readouterr()
    text = roundup.read_text(encoding="utf-8")
    assert f"\n\nSource: Al Jazeera ({ALJAZEERA_URL})\n\nSource: VentureBeat (https://venturebeat.com/" in text
    assert text.endswith(f")\n\n{DISCLAIMER}\n")
    assert ("roundup.txt", "attribution-missing") not in findings("reposts/roundup.txt")


def test_rule_says_which_findings_are_fixed_and_why_not(capsys):
    main(["rule", "attribution-missing"])
    out = capsys.readouterr().out
    assert "Fix: available (compliance fix, scan --fix)" in out and 'fix (text; default "Source: {publisher} ({url})")' in out
    for rule, why in (("attribution-mismatch", "a human must decide whom to credit"), ("excerpt-limit", "a human must decide what to cut")):
        main(["rule", rule])
        assert f"Fix: not available: {why}" in capsys.readouterr().out


@pytest.mark.skipif(not (DEV / "reposts").is_dir(), reason="needs the shared evaluation set beside the checkout (../shared/eval/dev)")
def test_the_dev_reposts_are_fixed_in_every_format_and_the_rescan_is_clean(tmp_path, monkeypatch, capsys):
    shutil.copytree(DEV / "reposts", tmp_path / "reposts")
    monkeypatch.chdir(tmp_path)
    catalogue = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((DEV / "sources").rglob("*")) if p.is_file())).hexdigest()
    sources = str(DEV / "sources")
    before = findings("reposts", sources=sources)
    fixable = {"attribution-missing", "disclaimer-missing", "caption-duplicated"}
    formats = {(rule, Path(name).suffix) for (name, rule) in before if rule in fixable}
    assert formats == {(rule, suffix) for rule in fixable for suffix in (".txt", ".md", ".html")}

    main(["fix", "reposts", "--sources", sources])
    out = capsys.readouterr().out
    fixed = Counter(line.split(" fixed ", 1)[1].split(":", 1)[0] for line in out.splitlines() if " fixed " in line)
    assert fixed == sum((Counter({rule: n}) for (_, rule), n in before.items() if rule in fixable), Counter())
    after = findings("reposts", sources=sources)
    assert after == Counter({key: n for key, n in before.items() if key[1] not in fixable})
    assert hashlib.sha256(b"".join(p.read_bytes() for p in sorted((DEV / "sources").rglob("*")) if p.is_file())).hexdigest() == catalogue


def test_a_suppressed_finding_is_not_fixed(desk, capsys):
    niac = desk / "reposts" / NIAC
    text = niac.read_text(encoding="utf-8").replace(
        "\n\nThis illustrative image", "\n\ncompliance: ignore caption-duplicated -- the desk keeps both on purpose\nThis illustrative image")
    niac.write_text(text, encoding="utf-8")
    main(["fix", f"reposts/{NIAC}", "--sources", "sources"])
    out = capsys.readouterr().out
    assert "fixed attribution-missing" in out and "caption-duplicated" not in out
    assert niac.read_text(encoding="utf-8") == text.replace("\n\nDisclaimer:", "\n\nSource: Newsweek\n\nDisclaimer:")


def test_the_writer_keeps_the_mode_writes_through_a_link_and_refuses_a_changed_file(tmp_path):
    from compliance.errors import ComplianceError
    from compliance.fix.write import write_fixed

    real = tmp_path / "real.txt"
    real.write_bytes(b"old\r\n")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_fixed(link, b"old\r\n", b"new\r\n")
    assert link.is_symlink() and real.read_bytes() == b"new\r\n" and real.stat().st_mode & 0o777 == 0o640
    with pytest.raises(ComplianceError, match="changed while it was being fixed"):
        write_fixed(real, b"old\r\n", b"newer\r\n")
    assert real.read_bytes() == b"new\r\n" and sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


def test_a_hostile_repost_is_fixed_or_left_alone_never_a_crash(tmp_path):
    """The fuzzer's hostile reposts (tests/fuzzing.py), beside the examples: fix exits 0 or 1
    with no internal error, and a rescan has no more findings of any rule than before."""
    from fuzzing import STRATEGIES, Case
    from test_fuzz import run_in_process

    @settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        case: Case = data.draw(STRATEGIES["repost"](1000, True), label="repost")
        here = os.getcwd()
        with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
            desk = Path(folder)
            os.chdir(desk)
            try:
                case.write(desk, run_in_process)
                before = _rule_counts(desk, run_in_process)
                code, stderr = run_in_process(["fix", "reposts", "--sources", "sources", "-q"])
                assert code in (0, 1) and "internal error" not in stderr and "please report it" not in stderr, stderr
                after = _rule_counts(desk, run_in_process)
                assert all(after[rule] <= before[rule] for rule in after), (before, after)
                assert after["attribution-missing"] < before["attribution-missing"]  # the examples' own, at least
            finally:
                os.chdir(here)

    check()


def _rule_counts(desk: Path, run) -> Counter:
    run(["scan", "reposts", "--sources", "sources", "--no-state", "--format", "json", "--output", "r.json", "--fail-on", "never", "-q"])
    report = json.loads((desk / "r.json").read_text(encoding="utf-8"))
    return Counter(f["rule"] for d in report["documents"] for f in d["findings"])


def test_a_hostile_publisher_becomes_no_markdown_markup(desk, capsys):
    catalogue = desk / "sources" / "newsweek-iran-russia-missiles-niac.md"
    catalogue.write_text(catalogue.read_text(encoding="utf-8").replace(
        "publisher: Newsweek", 'publisher: "News<b>week</b> *Inc*\\u001b[31m"', 1), encoding="utf-8")
    paragraphs = (desk / "reposts" / NIAC).read_text(encoding="utf-8").split("\n\n")
    page = desk / "reposts" / "column.md"
    page.write_text("# " + paragraphs[0] + "\n\n" + "\n\n".join(paragraphs[2:]), encoding="utf-8")
    main(["fix", "reposts/column.md", "--sources", "sources", "-q", "--select", "attribution-missing"])
    capsys.readouterr()
    text = page.read_text(encoding="utf-8")
    assert "\n\nSource: News\\<b\\>week\\</b\\> \\*Inc\\*\\[31m\n\nDisclaimer:" in text and "\x1b" not in text
    assert ("column.md", "attribution-missing") not in findings("reposts/column.md")


def test_edits_apply_in_order_and_clashing_fixes_are_set_aside():
    from compliance.fix.edits import Edit, Fix, apply_edits, compatible

    data = "crédit\r\n".encode("utf-8")
    # two insertions at one point go in their order; a deletion beside them keeps its bytes apart
    edits = [Edit(0, 0, "B", order=1), Edit(0, 0, "A"), Edit(1, 4, ""), Edit(len(data), len(data), "!")]  # "ré": 3 bytes
    assert apply_edits(data, edits) == "ABcdit\r\n!".encode("utf-8")
    inside = Fix("r", 1, "inside", (Edit(2, 2, "x"),))
    ranged = Fix("r", 1, "range", (Edit(1, 4, ""),))
    at_the_end = Fix("r", 1, "at its end", (Edit(4, 4, "y"),))
    assert compatible([ranged, inside, at_the_end]) == ([ranged, at_the_end], [inside])
