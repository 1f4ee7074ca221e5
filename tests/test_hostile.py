"""Hostile inputs (issue: never stuck, never a traceback, never out of bounds): each case a
real input a scan met, kept as a regression."""
from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from compliance.cli.main import main


def scan_json(*args: str) -> tuple[int, dict]:
    output = Path("report.json").resolve()
    code = main(["scan", *args, "--format", "json", "--output", str(output), "-q", "--fail-on", "never"])
    return code, json.loads(output.read_text(encoding="utf-8"))


def _rules(report: dict) -> dict[str, list[str]]:
    return {d["path"]: [f["rule"] for f in d["findings"]] for d in report["documents"]}


@pytest.mark.parametrize("state", [True, False])
def test_devices_and_fifos_named_like_reposts_are_refused_not_read(desk, state):
    """`ln -s /dev/zero r/z.txt` reached 3.4 GB in 3 s with the state's hashing; a FIFO hung it."""
    os.symlink("/dev/zero", desk / "reposts" / "zero.txt")
    os.mkfifo(desk / "reposts" / "pipe.md")
    done: list[tuple[int, dict]] = []
    worker = threading.Thread(target=lambda: done.append(scan_json("reposts", "--sources", "sources", "--follow-links",
                                                                   *([] if state else ["--no-state"]))), daemon=True)
    worker.start()
    worker.join(60)
    assert done, "the scan hung on a FIFO or a device"
    code, report = done[0]
    rules = _rules(report)
    assert code == 0 and rules["reposts/pipe.md"] == ["input-unreadable"]
    assert rules["reposts/zero.txt"] in (["input-unreadable"], ["input-too-large"])
    assert len(rules) == 7


def test_suppression_comments_are_found_in_linear_time():
    """10,000 unclosed `<!-- compliance: ignore all x` lines took 76 s; 100,000 valid ones over 60 s."""
    from compliance.ingest.directives import find_directives

    started = time.perf_counter()
    assert find_directives("<!-- compliance: ignore all x\n" * 100_000, "md") == []
    found = find_directives("<!-- compliance: ignore all -- ok -->\n" * 100_000, "html")
    lines = find_directives("compliance: ignore caption-duplicated -- ok\n" * 100_000, "txt")
    assert time.perf_counter() - started < 10  # about 1.5 s here; quadratic would take hours
    assert len(found) == len(lines) == 100_000 and found[-1].line == lines[-1].line == 100_000


def test_a_comment_closes_at_its_first_end_marker():
    from compliance.ingest.directives import find_directives

    text = "<p>a</p>\n<!-- note <!-- compliance: ignore all -- x -->\n<!--\ncompliance: ignore excerpt-limit -- y\n-->\n"
    found = find_directives(text, "html")
    assert [(d.rules, d.reason, d.line, d.end_line) for d in found] == [(("excerpt-limit",), "y", 3, 5)]


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)
) + "title: *i\n"


@pytest.mark.parametrize("front_matter, problem", [
    (BOMB, "aliases (*name) are not allowed"),
    ("id: " + "9" * 5000 + "\n", "cannot read this value"),
    ("published: 2025-13-45\n", "cannot read this value"),
    ("tags: " + "[" * 20_000 + "]" * 20_000 + "\n", "nested too deeply"),
])
def test_hostile_front_matter_is_a_finding_on_its_file_and_the_scan_goes_on(desk, front_matter, problem):
    (desk / "reposts" / "hostile.md").write_text(f"---\n{front_matter}---\nBody text.\n", encoding="utf-8")
    started = time.perf_counter()
    code, report = scan_json("reposts", "--sources", "sources", "--no-state")
    assert time.perf_counter() - started < 20
    hostile = next(d for d in report["documents"] if d["path"] == "reposts/hostile.md")
    assert [f["rule"] for f in hostile["findings"]] == ["input-unreadable"]
    assert problem in hostile["findings"][0]["message"]
    assert len(report["documents"]) == 6


@pytest.mark.parametrize("where", ["source", "pack", "config"])
def test_an_alias_bomb_elsewhere_is_a_one_line_error(desk, capsys, where):
    args = ["scan", "reposts", "--sources", "sources", "--no-state", "-q"]
    if where == "source":
        (desk / "sources" / "bomb.md").write_text(f"---\nid: bomb\npublisher: X\n{BOMB}---\nText.\n", encoding="utf-8")
    elif where == "pack":
        (desk / "pack.yaml").write_text(f"version: 1\nextends: default\n{BOMB}", encoding="utf-8")
        args += ["--rules", "pack.yaml"]
    else:
        (desk / "compliance.yaml").write_text(BOMB, encoding="utf-8")
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "aliases (*name) are not allowed" in err[0] and err[0].startswith("compliance: error: ")


def test_a_lone_surrogate_in_front_matter_does_not_break_the_reports(desk):
    (desk / "reposts" / "emoji.md").write_text('---\ntitle: "\\ud83d\\ude00 and \\ud83d alone"\n---\nBody.\n', encoding="utf-8")
    for fmt in ("json", "sarif", "junit", "html"):
        assert main(["scan", "reposts", "--sources", "sources", "--no-state", "-q", "--format", fmt,
                     "--report-dir", f"out-{fmt}", "--fail-on", "never"]) == 0
    report = json.loads((desk / "out-json" / "report.json").read_text(encoding="utf-8"))
    assert next(d for d in report["documents"] if d["path"] == "reposts/emoji.md")["title"] == "\U0001F600 and \ufffd alone"


def test_a_catastrophic_pattern_in_a_pack_costs_a_finding_not_the_scan(desk):
    """`(a+)+$` on 28 a's backtracked for 30 s with `re`; `(a|aa)+$` on 60 still does with `regex`."""
    (desk / "pack.yaml").write_text('version: 1\nextends: default\nrules:\n  - id: no-debris\n    type: forbidden-text\n'
                                    '    patterns: ["(a+)+$", "(a|aa)+$"]\n', encoding="utf-8")
    (desk / "reposts" / "aaa.txt").write_text("Title\n\n" + "a" * 60 + "!\n", encoding="utf-8")
    started = time.perf_counter()
    code, report = scan_json("reposts", "--sources", "sources", "--no-state", "--rules", "pack.yaml")
    assert time.perf_counter() - started < 20
    rules = _rules(report)
    assert "check-timeout" in rules["reposts/aaa.txt"] and len(rules) == 6
    assert "disclaimer-missing" in rules["reposts/aaa.txt"]  # the other rules still ran


def _damage_pages(state: Path) -> None:
    """Overwrite the pages after the schema's, as a bad disk or a half-copied file does."""
    import sqlite3

    db = sqlite3.connect(state)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(state.read_bytes())
    for offset in range(2 * page_size, len(data), 97):
        data[offset] = 0xA5
    state.write_bytes(bytes(data))


def test_a_state_damaged_page_by_page_is_one_line_or_given_up(desk, capsys):
    import compliance.cli.main as cli

    assert main(["scan", "reposts", "--sources", "sources", "-q", "--state", "s.db"]) == 1
    _damage_pages(desk / "s.db")
    capsys.readouterr()
    assert main(["scan", "reposts", "--sources", "sources", "-q", "--state", "s.db"]) == 2  # named: its problem is the user's
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "s.db" in err[0] and ("damaged" in err[0] or "cannot open" in err[0])
    default = cli.STATE_FILE  # where the tests keep the default state
    assert main(["scan", "reposts", "--sources", "sources", "-q"]) == 1
    _damage_pages(default)
    assert main(["scan", "reposts", "--sources", "sources", "-q"]) == 1  # the default: scanned without state
    assert "scanning without state" in capsys.readouterr().err


def test_a_bug_outside_any_file_exits_4_in_one_line_not_1(desk, capsys, monkeypatch):
    import compliance.cli.main as cli

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_write_one", broken)
    assert main(["scan", "reposts", "--sources", "sources", "--no-state", "--fail-on", "never"]) == cli.EXIT_INTERNAL == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("compliance: internal error: RuntimeError: boom")


def _caption_check(blocks):
    from compliance.checks import load_pack
    from compliance.checks.context import CheckContext
    from compliance.checks.rules.repetition import check
    from compliance.model import Document

    document = Document("x.txt", "txt", "t", blocks)
    rule = next(r for r in load_pack().rules if r.id == "caption-duplicated")
    return list(check(CheckContext(document, None, document.body, rule, (), (), {})))


def test_caption_duplicated_stays_linear_on_many_similar_paragraphs():
    """10,000 similar short paragraphs (400 KB) peaked at 8.8 GB and took 26 s: here 10 times as many."""
    import resource

    from compliance.model import Block, BlockKind

    blocks = [Block(BlockKind.PARAGRAPH, f"The photo shows the quick brown fox number {i % 7} jumping over a lazy dog", i + 1, i + 1)
              for i in range(100_000)]
    started = time.perf_counter()
    found = _caption_check(blocks)
    assert time.perf_counter() - started < 30  # about 3 s here
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 3_000_000  # KB: the pairs no longer grow with n squared
    assert len(found) == 50 and found[0].line == 1  # reported, and bounded


def test_cut_off_copies_stay_linear_on_a_block_of_many_ellipses():
    from compliance.model import Block, BlockKind

    text = " ".join(f"word{i % 5} another piece..." for i in range(50_000))
    started = time.perf_counter()
    found = _caption_check([Block(BlockKind.PARAGRAPH, text, 1, 1)])
    assert time.perf_counter() - started < 30  # about 4 s here; every ellipsis sliced the text to its end before
    assert 1 <= len(found) <= 50


def test_an_exact_copy_far_down_a_long_document_is_still_found(corpus):
    """Past the window of compared blocks, an exact copy is still found."""
    from conftest import paragraphs

    from compliance.model import Block, BlockKind

    caption = "This illustrative image shows an Iranian-made Shahed-136 drone flying over Kermanshah on March 7."
    import random

    words = sorted({w for article in corpus.values() for p in paragraphs(article) for w in re.findall(r"[a-z]{4,}", p)})
    pick = random.Random(3)
    texts = [" ".join(pick.sample(words, 14)).capitalize() + "." for _ in range(300)]  # unrelated sentences
    blocks = [Block(BlockKind.CAPTION, caption, 1, 1)]
    blocks += [Block(BlockKind.PARAGRAPH, text, i + 2, i + 2) for i, text in enumerate(texts)]
    blocks.append(Block(BlockKind.CAPTION, caption, 400, 400))
    found = _caption_check(blocks)
    assert [(f.line, f.end_line) for f in found] == [(1, 400)]


def test_odd_file_names_and_texts_reach_reports_and_terminal_safely(desk, capsys):
    reposts = desk / "reposts"
    (reposts / "emoji.txt").write_text("\U0001F600\U0001F600\n\n\U0001F600 \U0001F600\n", encoding="utf-8")  # no word at all
    os.rename(reposts / "desk-column.md", os.path.join(os.fsencode(reposts), b"bad\xff.md"))  # not UTF-8
    (reposts / "esc\x1b[31mred.txt").write_text("Title\n\nbody \x1b]0;pwned\x07 text\n", encoding="utf-8")
    for fmt in ("json", "sarif", "junit", "html", "github"):
        assert main(["scan", "reposts", "--sources", "sources", "--no-state", "-q", "--format", fmt,
                     "--report-dir", f"out-{fmt}", "--fail-on", "never"]) == 0, capsys.readouterr().err
    rules = _rules(json.loads((desk / "out-json" / "report.json").read_text(encoding="utf-8")))
    assert rules["reposts/emoji.txt"] == ["disclaimer-missing"]  # checked, not an internal error
    assert "reposts/bad\ufffd.md" in rules
    capsys.readouterr()
    assert main(["scan", "reposts", "--sources", "sources", "--no-state"]) == 1
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "esc\\x1b[31mred.txt:" in out


def test_report_folders_that_are_not_ours_are_left_alone_with_one_line(desk, capsys):
    (desk / "out" / "latest").mkdir(parents=True)
    (desk / "out" / "latest" / "mine.txt").write_text("keep me", encoding="utf-8")
    (desk / "file").write_text("keep me too", encoding="utf-8")
    for folder in ("out", "file"):
        assert main(["scan", "reposts", "--sources", "sources", "--no-state", "-q", "--format", "html", "--report-dir", folder]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "refusing to replace it" in err[0]
    assert (desk / "out" / "latest" / "mine.txt").read_text(encoding="utf-8") == "keep me"
    assert (desk / "file").read_text(encoding="utf-8") == "keep me too"


def test_a_pack_extending_a_device_is_one_line_not_a_hang(desk, capsys):
    (desk / "pack.yaml").write_text("version: 1\nextends: /dev/zero\n", encoding="utf-8")
    started = time.perf_counter()
    assert main(["scan", "reposts", "--sources", "sources", "--no-state", "-q", "--rules", "pack.yaml"]) == 2
    assert time.perf_counter() - started < 20
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "/dev/zero" in err[0] and "not a regular file" in err[0]


def test_links_out_of_the_scanned_folders_are_skipped_and_named(desk, capsys, tmp_path_factory):
    """A link to /etc/passwd or a secrets file among the reposts published its text in the reports."""
    secret = tmp_path_factory.mktemp("elsewhere") / "secrets.txt"
    secret.write_text("Title\n\npassword: hunter2 and other secrets\n", encoding="utf-8")
    os.symlink(secret, desk / "reposts" / "innocent.txt")
    os.symlink(secret.parent, desk / "reposts" / "more")
    os.symlink(desk / "reposts" / "home-depot-sales.txt", desk / "reposts" / "alias.txt")  # inside: read
    code, report = scan_json("reposts", "--sources", "sources", "--no-state")
    paths = [d["path"] for d in report["documents"]]
    assert "reposts/innocent.txt" not in paths and not any("more/" in p for p in paths) and "reposts/alias.txt" in paths
    assert report["summary"]["skipped_links"] == ["reposts/innocent.txt", "reposts/more"]
    assert "hunter2" not in json.dumps(report)
    assert "skipped 2 link(s) leading out of the scanned folders" in capsys.readouterr().err
    code, report = scan_json("reposts", "--sources", "sources", "--no-state", "--follow-links")
    paths = [d["path"] for d in report["documents"]]
    assert {"reposts/innocent.txt", "reposts/more/secrets.txt"} <= set(paths) and "skipped_links" not in report["summary"]


@pytest.mark.parametrize("planted", ["state.db", "state.db.lock"])
def test_planted_links_at_the_state_create_nothing_at_their_targets(desk, capsys, planted):
    (desk / "var").mkdir()
    target = desk / "elsewhere" / "created-by-compliance"
    os.symlink(target, desk / "var" / planted)
    assert main(["scan", "reposts", "--sources", "sources", "-q", "--state", "var/state.db"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "symbolic link" in err[0]
    assert not target.exists() and not target.parent.exists()


@pytest.mark.parametrize("where", ["source", "pack", "config"])
def test_a_control_character_in_yaml_is_one_line_with_its_line(desk, capsys, where):
    """PyYAML reports `\\x1f` over two lines (`  in "<unicode string>", position 19`)."""
    args = ["scan", "reposts", "--sources", "sources", "--no-state", "-q"]
    if where == "source":
        (desk / "sources" / "ctl.md").write_text("---\nid: ctl\npublisher: X\ntitle: a\x1fb\n---\nText.\n", encoding="utf-8")
        named = "sources/ctl.md:4: front matter: unacceptable character #x001f"
    elif where == "pack":
        (desk / "pack.yaml").write_text("version: 1\nextends: default\n\x1f\n", encoding="utf-8")
        args += ["--rules", "pack.yaml"]
        named = "pack.yaml:3: invalid YAML: unacceptable character #x001f"
    else:
        (desk / "compliance.yaml").write_text("fail_on: warning\nx: \x02\n", encoding="utf-8")
        named = "compliance.yaml:2: invalid YAML: unacceptable character #x0002"
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"compliance: error: {named}"), err


def test_a_control_character_in_front_matter_is_a_one_line_finding(desk):
    (desk / "reposts" / "ctl.md").write_text("---\ntitle: ok\nauthor: \x1b\n---\nBody.\n", encoding="utf-8")
    code, report = scan_json("reposts", "--sources", "sources", "--no-state")
    finding = next(d for d in report["documents"] if d["path"] == "reposts/ctl.md")["findings"][0]
    assert finding["rule"] == "input-unreadable" and finding["line"] == 3 and "\n" not in finding["message"]


def test_a_file_name_with_a_newline_stays_on_one_error_line(desk, capsys):
    (desk / "sources" / "new\nline.md").write_text("---\nid: nl\n---\nText.\n", encoding="utf-8")
    assert main(["scan", "reposts", "--sources", "sources", "--no-state", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["compliance: error: sources/new\\nline.md: source has no 'publisher'"]


def test_nothing_to_scan_names_the_configuration_that_gives_no_paths(desk, capsys):
    (desk / "compliance.yaml").write_text("sources: [sources]\n", encoding="utf-8")
    assert main(["scan", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("compliance: error: compliance.yaml: nothing to scan")


def test_a_pack_extending_a_folder_names_the_pack_and_line(desk, capsys):
    (desk / "pack.yaml").write_text("version: 1\nextends: .\nrules: []\n", encoding="utf-8")
    assert main(["scan", "reposts", "--sources", "sources", "--no-state", "-q", "--rules", "pack.yaml"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["compliance: error: pack.yaml:2: 'extends': '.' is not a regular file"]


@pytest.mark.parametrize("table, column, value", [
    ("documents", "file", None),  # SQLite keeps NULL in a TEXT primary key
    ("documents", "report_path", 5),
    ("documents", "result", '{"format":"txt","title":"t","has_document":false,"match":null,"findings":[{"rule":"x",'
                            '"severity":"error","message":"m","line":"one","column":1,"end_line":null,"excerpt":"",'
                            '"evidence":{},"suppression":null}]}'),
    ("documents", "result", '{"format":"md","title":"t","has_document":false,"match":{"source":"aljazeera-nasa-moon-shot",'
                            '"containment":"all","coverage":1,"copied_words":1,"spans":[]},"findings":[]}'),
    ("documents", "result", "[" * 100_000),
    ("documents", "outcome", '{"format":"txt","title":"t","sources":[],"findings":[{"rule":"x","severity":"error",'
                             '"message":"m","line":"one","column":1,"end_line":null,"excerpt":"","evidence":{},'
                             '"suppression":null}],"fingerprints":["f"]}'),
    ("documents", "outcome", '{"format":"txt","title":"t","sources":[],"findings":[],"fingerprints":["extra"]}'),
    ("documents", "outcome", '{"format":"txt","title":"t","sources":["not-catalogued"],"findings":[],"fingerprints":[]}'),
    ("documents", "outcome", "[" * 100_000),
    ("open_findings", "line", "x"),
    ("open_findings", "location", 7),
    ("runs", "by_rule", "{not json"),
    ("runs", "paths", "[" * 100_000),
    ("runs", "duration", "slow"),
])
def test_a_state_row_of_the_wrong_types_is_passed_over(desk, capsys, table, column, value):
    """Found by tests/test_fuzz.py: a NULL file in `documents` was exit 4 (pathlib's TypeError);
    a stored finding whose line was "one" reached the JSON report."""
    import sqlite3

    clean = scan_json("reposts", "--sources", "sources", "--state", "s.db")
    db = sqlite3.connect(desk / "s.db", isolation_level=None)
    db.execute(f"UPDATE {table} SET {column} = ?", (value,))
    db.close()
    again = scan_json("reposts", "--sources", "sources", "--state", "s.db")
    assert _rules(again[1]) == _rules(clean[1])
    assert main(["history", "--state", "s.db", "--format", "json"]) == 0
    assert main(["scan", "reposts", "--sources", "sources", "--state", "s.db", "-q", "--format", "html",
                 "--report-dir", "out", "--fail-on", "never"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("text", ["http://[", "See https://[::1/x and http://example.com:99999999/"])
def test_an_address_urllib_refuses_is_text_not_a_crash(desk, text):
    """Found by tests/test_fuzz.py: `http://[` in a repost was an internal-error finding (urlsplit's ValueError)."""
    (desk / "reposts" / "url.md").write_text(f"# Title\n\n{text}\n", encoding="utf-8")
    code, report = scan_json("reposts", "--sources", "sources", "--no-state")
    assert "internal-error" not in _rules(report)["reposts/url.md"]


@pytest.mark.parametrize("state", [".", "/", "reposts"])
def test_a_state_that_names_a_folder_is_one_line(desk, capsys, state):
    """Found by tests/test_fuzz.py: `state: .` in compliance.yaml was exit 4 (the lock's name from an empty name)."""
    (desk / "compliance.yaml").write_text(f"paths: [reposts]\nsources: [sources]\nstate: {state}\n", encoding="utf-8")
    assert main(["scan", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(": is a folder; --state needs a file name")
    assert main(["scan", "-q", "--state", state]) == 2


def test_a_rule_given_another_type_is_an_error_where_the_type_changed(desk, capsys):
    """Found by tests/test_fuzz.py: the error named the bundled default pack's line 15 (`name:`,
    which the new type does not take), a file the user cannot edit, not the pack that changed the type."""
    (desk / "pack.yaml").write_text("version: 1\nextends: default\nrules:\n  - id: disclaimer-missing\n    type: forbidden-text\n",
                                    encoding="utf-8")
    assert main(["scan", "reposts", "--sources", "sources", "--no-state", "-q", "--rules", "pack.yaml"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("compliance: error: pack.yaml:5: rule 'disclaimer-missing': type forbidden-text "
                                               "does not take option 'name', which the rule inherits from ")


@pytest.mark.parametrize("baseline", ["/dev/zero", "pipe.json", "reposts"])
def test_a_baseline_that_is_no_regular_file_is_one_line_not_a_hang(desk, capsys, baseline):
    """`--baseline /dev/zero` read until memory ran out (MemoryError, exit 4); a FIFO hung the scan."""
    os.mkfifo(desk / "pipe.json")
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(main(["scan", "reposts", "--sources", "sources", "--no-state", "-q",
                                                               "--baseline", baseline])), daemon=True)
    worker.start()
    worker.join(30)
    assert done == [2], "the scan hung or failed"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"compliance: error: {baseline}: cannot read baseline: ")


def test_a_baseline_with_a_byte_order_mark_is_read(desk):
    (desk / "b.json").write_bytes(b'\xef\xbb\xbf{"version": 2, "findings": []}\n')
    code, report = scan_json("reposts", "--sources", "sources", "--no-state", "--baseline", "b.json")
    assert report["summary"]["findings"] > 0


@pytest.mark.parametrize("command", ["scan", "history"])
def test_a_state_that_is_a_fifo_is_one_line_not_a_hang(desk, capsys, command):
    """`--state pipe` waited for ever (reading its first bytes to tell SQLite from foreign files);
    `--state /dev/null` left /dev/null.lock behind: the lock is now taken only beside a regular file."""
    os.mkfifo(desk / "pipe")
    args = ["scan", "reposts", "--sources", "sources", "-q"] if command == "scan" else ["history"]
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(main([*args, "--state", "pipe"])), daemon=True)
    worker.start()
    worker.join(30)
    assert done == [2], "hung on a FIFO"
    assert capsys.readouterr().err.strip().splitlines() == ["compliance: error: pipe: not a regular file; --state needs a database file"]
    assert not (desk / "pipe.lock").exists()


@pytest.mark.parametrize("where", ["pack", "waiver"])
def test_a_glob_pathspec_refuses_is_one_line_where_it_is_written(desk, capsys, where):
    """`paths: ["x\\\\"]` (a trailing backslash) loaded, then made every file an internal-error finding."""
    args = ["scan", "reposts", "--sources", "sources", "--no-state", "-q"]
    if where == "pack":
        (desk / "pack.yaml").write_text('version: 1\nextends: default\nrules:\n  - id: caption-duplicated\n    paths: ["ok/*", "x\\\\"]\n',
                                        encoding="utf-8")
        args += ["--rules", "pack.yaml"]
        named = "pack.yaml:5: rule 'caption-duplicated': 'paths': 'x\\\\' is not a glob"
    else:
        (desk / "compliance.yaml").write_text('waivers:\n  - paths: ["x\\\\"]\n    rules: [all]\n    reason: r\n', encoding="utf-8")
        named = "compliance.yaml:2: waiver 'paths': 'x\\\\' is not a glob"
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"compliance: error: {named}"), err


def test_a_glob_that_backtracks_for_ever_costs_no_time(desk, capsys):
    """pathspec's `re` took 30 s for 10 stars against forty a's, hours for 20: matched by `regex` now."""
    glob = "*a" * 20 + "b"
    (desk / "pack.yaml").write_text(f'version: 1\nextends: default\nrules:\n  - id: caption-duplicated\n    paths: ["{glob}"]\n',
                                    encoding="utf-8")
    (desk / "compliance.yaml").write_text(f'waivers:\n  - paths: ["{glob}"]\n    rules: [all]\n    reason: r\n', encoding="utf-8")
    shutil.copy(desk / "reposts" / "home-depot-sales.txt", desk / "reposts" / ("a" * 200 + "c.txt"))
    started = time.perf_counter()
    code, report = scan_json("reposts", "--sources", "sources", "--no-state", "--rules", "pack.yaml")
    assert time.perf_counter() - started < 20
    assert "internal-error" not in _rules(report)["reposts/" + "a" * 200 + "c.txt"]


@pytest.mark.parametrize("where", ["flag", "config", "index"])
def test_more_jobs_than_cores_can_use_is_capped_not_forked(desk, capsys, monkeypatch, where):
    """`--jobs 100000` (or `jobs: 100000`) with 64 reposts or more forked 100,000 workers at once:
    a process pool with fork starts all of its workers with the first task."""
    import compliance.cli.main as cli
    from compliance.similarity.index import default_jobs

    asked: list[int] = []
    if where == "index":
        monkeypatch.setattr(cli, "update_index", lambda path, pack, sources, jobs, *a, **k: asked.append(jobs) or cli_report())
        args = ["index", "build", "--sources", "sources", "--index", "i.db", "-q", "--jobs", "100000"]
    else:
        real_scan = cli.scan
        monkeypatch.setattr(cli, "scan", lambda *a, **k: asked.append(k["jobs"]) or real_scan(*a, **{**k, "jobs": 1}))
        args = ["scan", "reposts", "--sources", "sources", "--no-state", "-q"]
        if where == "flag":
            args += ["--jobs", "100000"]
        else:
            (desk / "compliance.yaml").write_text("jobs: 100000\n", encoding="utf-8")
    main(args)
    assert asked == [cli.MAX_JOBS_PER_CORE * default_jobs()]
    assert "100000" in capsys.readouterr().err


def cli_report():
    from compliance.similarity.store import SyncReport

    return SyncReport(0, 0, 0, 0)


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path):
    """`compliance schema rulepack | head -1`: the pipe's reader is gone before the first
    write; the command exits 141, as a shell reports SIGPIPE, with nothing on stderr."""
    import subprocess
    import sys
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "compliance", "schema", "rulepack"], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=tmp_path, timeout=60)
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == b""
