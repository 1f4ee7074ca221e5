"""The fast fingerprints agree with datasketch, and the persistent index gives the scan's answers."""
from __future__ import annotations

import contextlib
import html as html_lib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, EXAMPLES, ROOT, paragraphs, write_txt
from datasketch import LeanMinHash, MinHashLSH

from compliance.cli.main import main
from compliance.similarity import MatchSettings, load_catalogue
from compliance.similarity.fingerprint import minhash, shingle_hashes, window_signatures, window_starts
from compliance.similarity.index import MAX_BUCKET, BandIndex, IndexParameters, query_keys, ranked_candidates, source_keys, window_keys
from compliance.similarity import store as store_module
from compliance.similarity.store import SCHEMA_VERSION, IndexStore, build_index
from compliance.similarity.tokens import hash_word, normalize_word, tokenize

REPOSTS, SOURCES = EXAMPLES / "reposts", EXAMPLES / "sources"
UNICODE_SAMPLES = ["Straße STRASSE strasse", "ﬁne fine", "Ünïcödé ünïcödé — “quoted” don’t", "emoji 😀 x😀y",
                   "İstanbul", "日本語のテキスト", "𝐁𝐨𝐥𝐝 words 𠀀x 😀𝐀", "_under_score__ 123", "", "   ", "a"]


def test_tokens_are_regex_words_with_normalised_hashes(corpus):
    for text in [record["text"] for record in corpus.values()] + UNICODE_SAMPLES:
        tokens = tokenize(text)
        words = list(re.finditer(r"\w+", text))
        assert list(zip(tokens.starts.tolist(), tokens.ends.tolist())) == [m.span() for m in words]
        assert tokens.hashes.tolist() == [hash_word(normalize_word(m.group())) for m in words]
    assert len(set(tokenize("Straße STRASSE strasse ﬁne fine").hashes.tolist())) == 2


def test_windows_start_every_stride_and_the_last_reaches_the_end():
    for count in range(0, 130):
        for window, stride in [(40, 10), (40, 40), (5, 3), (1, 1), (50, 7)]:
            starts = window_starts(count, window, stride).tolist()
            if count <= window:
                assert starts == ([0] if count else [])
                continue
            regular = list(range(0, count - window + 1, stride))
            assert starts == regular + ([count - window] if regular[-1] != count - window else [])


@pytest.mark.parametrize(("window", "stride"), [(50, 10), (50, 50), (40, 40), (30, 7)])
def test_window_signatures_are_datasketch_minhashes(corpus, window, stride):
    text = next(iter(corpus.values()))["text"]
    shingles = shingle_hashes(tokenize(text).hashes, 4)
    signatures = window_signatures(shingles, window, stride, 64)
    starts = window_starts(len(shingles), window, stride)
    assert len(signatures) == len(starts) > 3
    for start, signature in zip(starts.tolist(), signatures):
        assert (signature == minhash(shingles[start : start + window], 64).hashvalues).all()


def test_band_index_finds_what_datasketch_minhashlsh_finds(catalogue, corpus):
    """Same signatures, same banding: the candidates of every window equal datasketch's."""
    parameters = IndexParameters.of(MatchSettings())
    banding = parameters.banding
    lsh = MinHashLSH(num_perm=parameters.num_perm, params=(banding.bands, banding.rows))
    keys = []
    for number, source in enumerate(catalogue.sources):
        shingles = shingle_hashes(tokenize(source.text).hashes, parameters.shingle_words)
        for start in window_starts(len(shingles), parameters.window, parameters.window).tolist():
            sketch = minhash(shingles[start : start + parameters.window], parameters.num_perm)
            lsh.insert((number, start), LeanMinHash(sketch), check_duplication=False)
        keys.append(source_keys(source.text, parameters))
    index = BandIndex.build(keys)
    for record in list(corpus.values())[:4]:
        body = "\n\n".join(paragraphs(record)[1:-1])  # an edited copy: first and last paragraphs gone
        shingles = shingle_hashes(tokenize(body).hashes, parameters.shingle_words)
        theirs = set()
        for start in window_starts(len(shingles), parameters.window, 10).tolist():
            sketch = minhash(shingles[start : start + parameters.window], parameters.num_perm)
            theirs |= {number for number, _ in lsh.query(LeanMinHash(sketch))}
        keys = query_keys(shingles, parameters, 10)  # what a repost looks up: each key once, in no order
        assert sorted(keys.tolist()) == window_keys(shingles, parameters, 10).tolist()
        ours = set(index.candidates(keys, limit=1000))
        assert ours == theirs and ours


def test_candidates_rank_by_shared_keys_then_number():
    rng = np.random.default_rng(5)
    for size in (0, 1, 7, 60, 3000):
        owners = rng.integers(0, rng.integers(1, 200), size).astype(np.int32)  # many ties
        numbers, hits = np.unique(owners, return_counts=True)
        order = np.lexsort((numbers, -hits))
        for limit in (1, 20, 10_000):
            expected = list(zip(numbers[order].tolist(), hits[order].tolist()))[:limit]
            assert ranked_candidates(owners, limit) == expected


def json_report(tmp_path: Path, *args: str) -> dict:
    output = tmp_path / "report.json"
    assert main(["scan", *args, "--format", "json", "--output", str(output), "--fail-on", "never", "-q"]) == 0
    return json.loads(output.read_text(encoding="utf-8"))


def findings_by_path(report: dict) -> dict:
    """By path within the scanned `reposts` folder (documents are named from the project root)."""
    return {d["path"].rsplit("reposts/", 1)[-1]: ((d["source"] or {}).get("id"), sorted((f["rule"], f["line"]) for f in d["findings"]))
            for d in report["documents"]}


def test_a_scan_with_the_index_reports_what_a_scan_of_the_catalogue_reports(tmp_path, capsys):
    index = tmp_path / "state" / "index.db"
    assert main(["index", "build", "--sources", str(SOURCES), "--index", str(index)]) == 0
    assert "4 added, 0 changed, 0 removed, 0 unchanged" in capsys.readouterr().out
    with_index = json_report(tmp_path, str(REPOSTS), "--index", str(index))
    with_catalogue = json_report(tmp_path, str(REPOSTS), "--sources", str(SOURCES))
    assert findings_by_path(with_index) == findings_by_path(with_catalogue)
    assert findings_by_path(with_index)["niac-missiles-repost.txt"][0] == "newsweek-iran-russia-missiles-niac"
    seed = next(d for d in with_index["documents"] if d["path"].endswith("reposts/niac-missiles-repost.txt"))
    assert seed["source"]["publisher"] == "Newsweek" and seed["source"]["spans"]


def test_index_info_shows_counts_parameters_and_hashing(tmp_path, capsys):
    index = tmp_path / "index.db"
    main(["index", "build", "--sources", str(SOURCES), "--index", str(index), "-q"])
    assert main(["index", "info", "--index", str(index), "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sources"] == 4 and info["band_keys"] > 0 and info["size_bytes"] > 0
    assert info["parameters"]["num_perm"] == MatchSettings().num_perm
    assert "datasketch affine32" in info["hashing"] and re.fullmatch(r"\d+\.\d+.*", info["datasketch"])
    assert main(["index", "info", "--index", str(index)]) == 0
    assert "sources:    4" in capsys.readouterr().out


def test_update_adds_changes_and_drops_sources(tmp_path, corpus, capsys):
    catalogue = tmp_path / "sources"
    shutil.copytree(SOURCES, catalogue)
    index = tmp_path / "index.db"
    main(["index", "build", "--sources", str(catalogue), "--index", str(index), "-q"])
    article = corpus["sh-1ace8c85aaee"]  # TechCrunch: not in the example catalogue
    reposts = tmp_path / "reposts"
    reposts.mkdir()
    write_txt(reposts, "copy.txt", article["title"], paragraphs(article))
    assert findings_by_path(json_report(tmp_path, str(reposts), "--index", str(index)))["copy.txt"][0] is None

    (catalogue / "new.md").write_text(f"---\nid: new-article\npublisher: {article['publisher']}\n---\n{article['text']}\n", encoding="utf-8")
    (catalogue / "venturebeat-wework-investigation.md").unlink()
    alj = catalogue / "aljazeera-nasa-moon-shot.md"
    alj.write_text(alj.read_text(encoding="utf-8").replace("publisher: Al Jazeera", "publisher: Al Jazeera English"), encoding="utf-8")
    capsys.readouterr()
    assert main(["index", "update", "--sources", str(catalogue), "--index", str(index)]) == 0
    assert "1 added, 1 changed, 1 removed, 2 unchanged" in capsys.readouterr().out
    assert findings_by_path(json_report(tmp_path, str(reposts), "--index", str(index)))["copy.txt"][0] == "new-article"
    assert main(["index", "update", "--sources", str(catalogue), "--index", str(index)]) == 0
    assert "0 added, 0 changed, 0 removed, 4 unchanged" in capsys.readouterr().out
    report = json_report(tmp_path, str(REPOSTS), "--index", str(index))
    assert findings_by_path(report)["wework-investigation.md"][0] is None
    moon = next(d for d in report["documents"] if d["path"].endswith("reposts/nasa-moon-shot.html"))
    assert moon["source"]["publisher"] == "Al Jazeera English"


def test_an_update_waits_for_a_scan_reading_the_index_and_says_so_when_it_gives_up(tmp_path, monkeypatch, capsys):
    catalogue = tmp_path / "sources"
    shutil.copytree(SOURCES, catalogue)
    index = tmp_path / "index.db"
    main(["index", "build", "--sources", str(catalogue), "--index", str(index), "-q"])
    scanning = IndexStore.open(index)
    scanning._pid = -1  # as in a forked scan worker, which opens the index anew
    before = scanning.read_source("id", "aljazeera-nasa-moon-shot")
    alj = catalogue / "aljazeera-nasa-moon-shot.md"
    alj.write_text(alj.read_text(encoding="utf-8").replace("publisher: Al Jazeera", "publisher: Al Jazeera English"), encoding="utf-8")
    monkeypatch.setattr("compliance.similarity.store.WAIT_FOR_SCANS", 0.2)
    capsys.readouterr()
    assert main(["index", "update", "--sources", str(catalogue), "--index", str(index), "-q"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "being read by a scan" in error and str(index) in error
    assert scanning.read_source("id", "aljazeera-nasa-moon-shot") == before  # the scan reads what it started with
    scanning.close()  # the scan ends
    assert main(["index", "update", "--sources", str(catalogue), "--index", str(index), "-q"]) == 0
    assert IndexStore.open(index).read_source("id", "aljazeera-nasa-moon-shot").publisher == "Al Jazeera English"


def test_a_scan_reads_one_version_of_the_index_from_its_band_keys_to_its_last_source(tmp_path, monkeypatch, capsys):
    """An update committing after a scan loaded the band keys would have them point at sources
    renumbered or changed under it: the update waits for the scan, then goes through."""
    from compliance import pipeline
    from compliance.checks import load_pack
    from compliance.pipeline import open_sources

    catalogue = tmp_path / "sources"
    shutil.copytree(SOURCES, catalogue)
    index = tmp_path / "index.db"
    main(["index", "build", "--sources", str(catalogue), "--index", str(index), "-q"])
    alj = catalogue / "aljazeera-nasa-moon-shot.md"
    alj.write_text(alj.read_text(encoding="utf-8").replace("publisher: Al Jazeera", "publisher: Al Jazeera English"), encoding="utf-8")
    update = ["index", "update", "--sources", str(catalogue), "--index", str(index), "-q"]
    monkeypatch.setattr("compliance.similarity.store.WAIT_FOR_SCANS", 0.2)

    sources = open_sources(load_pack(), [], index)
    sources.matcher(documents=1000)  # every band key loaded, as a large scan does
    assert main(update) == 2 and "being read by a scan" in capsys.readouterr().err
    assert sources.by_id["aljazeera-nasa-moon-shot"].publisher == "Al Jazeera"  # read as the band keys were
    sources.done()
    assert main(update) == 0

    alj.write_text(alj.read_text(encoding="utf-8").replace("Al Jazeera English", "Al Jazeera"), encoding="utf-8")
    opened = []  # the scan's sources, kept: it must let go of the index itself, not leave it to the collector
    monkeypatch.setattr(pipeline, "open_sources", lambda *args: opened.append(open_sources(*args)) or opened[-1])
    report = tmp_path / "report.json"
    assert main(["scan", str(REPOSTS), "--index", str(index), "--no-state", "--format", "json", "--output", str(report), "-q"]) == 1
    assert opened and main(update) == 0


def test_a_scan_with_sources_and_index_brings_the_index_up_to_date(tmp_path, corpus):
    catalogue = tmp_path / "sources"
    shutil.copytree(SOURCES, catalogue)
    index = tmp_path / "index.db"
    main(["index", "build", "--sources", str(catalogue), "--index", str(index), "-q"])
    article = corpus["sh-1ace8c85aaee"]
    (catalogue / "new.md").write_text(f"---\nid: new-article\npublisher: {article['publisher']}\n---\n{article['text']}\n", encoding="utf-8")
    reposts = tmp_path / "reposts"
    reposts.mkdir()
    write_txt(reposts, "copy.txt", article["title"], paragraphs(article))
    report = json_report(tmp_path, str(reposts), "--index", str(index), "--sources", str(catalogue))
    assert findings_by_path(report)["copy.txt"][0] == "new-article"
    assert IndexStore.open(index).info()["sources"] == 5


def test_an_index_built_with_other_parameters_is_refused(tmp_path, capsys):
    index = tmp_path / "index.db"
    main(["index", "build", "--sources", str(SOURCES), "--index", str(index), "-q"])
    pack = tmp_path / "desk.yaml"
    pack.write_text("extends: default\nmatching:\n  window: 30\n", encoding="utf-8")
    assert main(["scan", str(REPOSTS), "--index", str(index), "--rules", str(pack)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0
    assert f"{index}: index was built with other matching parameters: window 40 (now 30)" in error


@pytest.mark.parametrize("content", [b"not a database at all", b""])
def test_a_broken_index_is_a_one_line_error(tmp_path, capsys, content):
    index = tmp_path / "index.db"
    index.write_bytes(content)
    assert main(["scan", str(REPOSTS), "--index", str(index)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and str(index) in error and "Traceback" not in error


def test_a_missing_index_says_how_to_build_one(tmp_path, capsys):
    assert main(["index", "info", "--index", str(tmp_path / "nope.db")]) == 2
    assert "compliance index build" in capsys.readouterr().err


def test_an_interrupted_build_leaves_the_previous_index_intact(tmp_path, monkeypatch):
    index = tmp_path / "index.db"
    sources = load_catalogue([SOURCES]).sources
    build_index(index, sources, IndexParameters.of(MatchSettings()))
    before = index.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("compliance.similarity.store.keys_in_chunks", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_index(index, load_catalogue([DATA / "corpus.jsonl"]).sources, IndexParameters.of(MatchSettings()))
    assert index.read_bytes() == before
    named = [Path(file["path"]).name for file in IndexStore.open(index).band_files()]
    assert len(named) == 1 and sorted(p.name for p in tmp_path.iterdir()) == sorted(["index.db", *named])
    assert sqlite3.connect(index).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_worker_processes_give_the_same_report_as_one_process(tmp_path):
    reposts = tmp_path / "reposts"
    for copy in range(14):  # 70 files: enough for the scan to fork workers
        shutil.copytree(REPOSTS, reposts / f"batch{copy:02d}")
    one = json_report(tmp_path, str(reposts), "--sources", str(SOURCES), "--jobs", "1", "--no-state")
    two = json_report(tmp_path, str(reposts), "--sources", str(SOURCES), "--jobs", "2", "--no-state")  # texts left behind
    assert one == two and len(one["documents"]) == 70
    assert findings_by_path(one)["batch13/niac-missiles-repost.txt"][0] == "newsweek-iran-russia-missiles-niac"
    # Workers render each document's JSON line; a baseline marking findings afterwards must show.
    baseline = tmp_path / "base.json"
    assert main(["baseline", "create", str(reposts), "--sources", str(SOURCES), "--jobs", "2", "--output", str(baseline)]) == 0
    accepted = json_report(tmp_path, str(reposts), "--sources", str(SOURCES), "--jobs", "2", "--no-state", "--baseline", str(baseline))
    marks = [f.get("suppressed", {}).get("kind") for d in accepted["documents"] for f in d["findings"]]
    assert marks and set(marks) == {"baseline"} and accepted["summary"]["findings"] == 0
    reports = tmp_path / "reports"  # the HTML report shows texts: workers send them back
    assert main(["scan", str(reposts), "--sources", str(SOURCES), "--jobs", "2", "--no-state", "--format", "html",
                 "--report-dir", str(reports), "--fail-on", "never", "-q"]) == 0
    source_text = (SOURCES / "newsweek-iran-russia-missiles-niac.md").read_text(encoding="utf-8")
    shown = "".join(page.read_text(encoding="utf-8") for page in reports.rglob("*.html"))
    assert html_lib.escape(source_text.split("\n\n")[-1].strip()[:60], quote=False) in shown


def test_a_worker_that_dies_stops_the_scan_with_one_line_instead_of_hanging(tmp_path, monkeypatch, capsys):
    import os

    from compliance import pipeline

    reposts = tmp_path / "reposts"
    for copy in range(14):  # 70 files: enough for the scan to fork workers
        shutil.copytree(REPOSTS, reposts / f"batch{copy:02d}")
    read = pipeline._Checker._read

    def killed_on_one_file(self, file, report_path):
        if "/batch07/" in report_path:
            os._exit(9)  # as the kernel's out-of-memory killer would
        return read(self, file, report_path)

    monkeypatch.setattr(pipeline._Checker, "_read", killed_on_one_file)
    code = main(["scan", str(reposts), "--sources", str(SOURCES), "--jobs", "2", "--no-state", "-q",
                 "--format", "json", "--output", str(tmp_path / "report.json")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "worker process stopped" in error and "--jobs" in error and len(error.splitlines()) == 1
    assert not (tmp_path / "report.json").exists()


def test_band_index_ignores_stock_passages_shared_by_many_sources():
    shared = np.array([7], dtype=np.uint64)
    crowded = BandIndex.build([np.concatenate([shared, np.array([10_000 + n], dtype=np.uint64)]) for n in range(MAX_BUCKET + 1)])
    assert crowded.candidates(shared, limit=10) == []
    assert crowded.candidates(np.array([10_005], dtype=np.uint64), limit=10) == [5]
    full = BandIndex.build([np.concatenate([shared, np.array([10_000 + n], dtype=np.uint64)]) for n in range(MAX_BUCKET)])
    assert len(full.candidates(shared, limit=10)) == 10


@pytest.mark.parametrize("large", [False, True])  # a large catalogue starts its workers first
def test_a_scan_with_sources_builds_a_missing_index(tmp_path, monkeypatch, large):
    from compliance.similarity import catalogue as catalogue_module

    if large:
        monkeypatch.setattr(catalogue_module, "_PARALLEL_FROM_BYTES", 0)
    index = tmp_path / "state" / "index.db"
    report = json_report(tmp_path, str(REPOSTS), "--index", str(index), "--sources", str(SOURCES), "--jobs", "2")
    assert findings_by_path(report)["niac-missiles-repost.txt"][0] == "newsweek-iran-russia-missiles-niac"
    assert IndexStore.open(index).info()["sources"] == 4


@pytest.mark.parametrize("damage", [
    "UPDATE arrays SET data = substr(data, 1, 100) WHERE name = 'keys'",
    "DELETE FROM meta WHERE name = 'parameters'",
    "UPDATE sources SET record = '{broken'",
    "UPDATE meta SET value = '{broken' WHERE name = 'bands'",
])
def test_an_index_with_damaged_contents_is_a_one_line_error(tmp_path, capsys, damage):
    index = tmp_path / "index.db"
    main(["index", "build", "--sources", str(SOURCES), "--index", str(index), "-q"])
    if "arrays" in damage:
        as_schema_4(index)
    files = sorted(tmp_path.glob("index.db.bands-*"))
    with sqlite3.connect(index) as db:
        db.execute(damage)
    assert main(["scan", str(REPOSTS), "--index", str(index), "--no-state"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and str(index) in error and "rebuild it" in error
    if "bands" in damage:  # an update neither reads through it nor takes the files for unused
        assert main(["index", "update", "--sources", str(DATA / "corpus.jsonl"), "--index", str(index), "-q"]) == 2
        error = capsys.readouterr().err.strip()
        assert error.count("\n") == 0 and str(index) in error and "rebuild it" in error
        assert sorted(tmp_path.glob("index.db.bands-*")) == files and files


@pytest.mark.parametrize("damage", ["missing", "truncated", "another index's", "renamed index"])
@pytest.mark.parametrize("documents", [1, 20])  # a few reposts, or more than one looks keys up in place for
def test_a_missing_or_mismatching_band_keys_file_is_a_one_line_error_naming_it(tmp_path, capsys, damage, documents):
    """The band keys lie in a file beside the index, which `meta` names (token and size): a
    missing, cut or foreign one is refused before the scan reads a key."""
    index, other = tmp_path / "index.db", tmp_path / "other.db"
    reposts = tmp_path / "reposts"
    reposts.mkdir()
    for number in range(documents):
        shutil.copy(sorted(REPOSTS.glob("*.txt"))[number % 2], reposts / f"r{number}.txt")
    for path in (index, other):
        assert main(["index", "build", "--sources", str(SOURCES), "--index", str(path), "-q"]) == 0
    (keys_file,) = [Path(file["path"]) for file in IndexStore.open(index).band_files()]
    (other_file,) = [Path(file["path"]) for file in IndexStore.open(other).band_files()]
    if damage == "missing":
        keys_file.unlink()
    elif damage == "truncated":
        os.truncate(keys_file, keys_file.stat().st_size - 8)
    elif damage == "another index's":  # same size, same keys: another build's
        os.replace(other_file, keys_file)
    else:
        os.replace(index, tmp_path / "moved.db")  # moved without its band keys file
        os.replace(other, index)
        keys_file = other_file.with_name(other_file.name.replace("other.db", "index.db"))
        other_file.unlink()
    assert main(["scan", str(reposts), "--index", str(index), "--no-state", "-q"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and str(keys_file) in error and "rebuild it" in error, error
    # an update that changes keys reads them first (one that changes nothing needs none)
    assert main(["index", "update", "--sources", str(DATA / "corpus.jsonl"), "--index", str(index), "-q"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and str(keys_file) in error, error


def copies_catalogue(path: Path, corpus: dict, cut: bool = False) -> Path:
    """A JSONL catalogue of 1,200 sources, numbered copies of the corpus's articles (each cut
    short by its number of characters, if `cut`, so that no two have the same keys)."""
    records = list(corpus.values())
    with path.open("w", encoding="utf-8") as out:
        for number in range(1200):
            record = records[number % len(records)]
            text = record["text"][number:] if cut else record["text"]
            out.write(json.dumps({"id": f"s{number}", "publisher": record["publisher"], "text": f"Copy {number}.\n\n{text}"}) + "\n")
    return path


def test_index_builds_and_scans_draw_progress_on_a_terminal_only(tmp_path, monkeypatch, corpus):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    catalogue = copies_catalogue(tmp_path / "sources.jsonl", corpus)  # the build reports three chunks of work
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    index = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(catalogue), "--index", str(index), "--jobs", "1"]) == 0
    drawn = terminal.getvalue()
    assert "\rindexing [" in drawn and "500/1200" in drawn and "1200/1200" in drawn and drawn.endswith("\r\033[K")

    terminal.seek(0), terminal.truncate()
    assert main(["scan", str(REPOSTS), "--index", str(index), "--no-state", "--format", "json",
                 "--output", str(tmp_path / "r.json"), "--fail-on", "never"]) == 0
    reposts = len([p for p in REPOSTS.iterdir() if p.suffix in (".txt", ".md", ".html")])
    assert "\rscanning [" in terminal.getvalue() and f"{reposts}/{reposts}" in terminal.getvalue()

    piped = io.StringIO()  # under cron stderr is a file or a pipe: no bar
    monkeypatch.setattr("sys.stderr", piped)
    assert main(["index", "build", "--sources", str(catalogue), "--index", str(index), "--jobs", "1"]) == 0
    assert "indexing" not in piped.getvalue()


def assert_same_candidates(in_place, loaded, corpus, seed: int, by_shingles: bool = False) -> None:
    """Each corpus article's band keys (and keys no source has) get the same candidates from the
    index read in place as from its loaded arrays, and every article finds some."""
    parameters = IndexParameters.of(MatchSettings())
    rng = np.random.default_rng(seed)
    asked = 0
    for record in corpus.values():
        body = "\n\n".join(paragraphs(record)[1:])
        shingles = shingle_hashes(tokenize(body).hashes, parameters.shingle_words)
        query = np.union1d(window_keys(shingles, parameters, 10), rng.integers(0, 2**63, 50, dtype=np.uint64))
        assert in_place.candidates_with_hits(query, 20) == loaded.candidates_with_hits(query, 20)
        asked += bool(loaded.candidates_with_hits(query, 20))
        if by_shingles:
            assert in_place.shingle_candidates(shingles, parameters, 10, 20) == loaded.shingle_candidates(shingles, parameters, 10, 20)
    assert asked == len(corpus)


@pytest.mark.skipif(not hasattr(sqlite3.Connection, "blobopen"),
                    reason="Python 3.10's sqlite3 cannot read part of a blob: every scan loads the band keys")
def test_band_keys_looked_up_in_the_file_give_the_candidates_loaded_keys_give(tmp_path, corpus):
    from compliance.similarity.store import StoredBandIndex

    index_path = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(DATA / "corpus.jsonl"), "--index", str(index_path), "-q"]) == 0
    as_schema_4(index_path)
    store = IndexStore.open(index_path)
    loaded, in_place = store.band_index(), store.band_lookup(documents=1)
    assert isinstance(in_place, StoredBandIndex) and isinstance(store.band_lookup(documents=1000), BandIndex)
    assert_same_candidates(in_place, loaded, corpus, seed=5, by_shingles=True)


def test_an_index_of_schema_2_is_read_as_before_and_an_update_writes_the_current_schema(tmp_path, corpus):
    """Schema 2 stored a 64-bit directory with about four keys a prefix; schema 3 and later
    store a 32-bit one with one or two (lookups a third faster, in the same bytes)."""
    catalogue = tmp_path / "sources"
    shutil.copytree(SOURCES, catalogue)
    index_path = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(catalogue), "--index", str(index_path), "-q"]) == 0
    built = IndexStore.open(index_path).band_index()
    assert built.directory.dtype == np.uint32 and 1 < len(built) / (len(built.directory) - 1) <= 2
    parameters = IndexParameters.of(MatchSettings())
    queries = [window_keys(shingle_hashes(tokenize("\n\n".join(paragraphs(record)[1:])).hashes, 4), parameters, 10)
               for record in corpus.values()]
    expected = [built.candidates_with_hits(query, 20) for query in queries]
    assert sum(map(bool, expected)) >= 4

    coarser = np.ascontiguousarray(built.directory[::2]).astype(np.int64)  # what schema 2's builds wrote
    as_schema_4(index_path)
    with sqlite3.connect(index_path) as db:
        db.execute("UPDATE arrays SET data = ? WHERE name = 'directory'", (coarser.tobytes(),))
        db.execute("UPDATE meta SET value = '2' WHERE name = 'schema'")
    old = IndexStore.open(index_path)
    assert old.info()["schema"] == 2
    for lookup in (old.band_index(), old.band_lookup(documents=1)):
        assert [lookup.candidates_with_hits(query, 20) for query in queries] == expected
    old.close()  # its blobs hold a read lock

    (catalogue / "venturebeat-wework-investigation.md").unlink()
    assert main(["index", "update", "--sources", str(catalogue), "--index", str(index_path), "-q"]) == 0
    updated = IndexStore.open(index_path)
    assert updated.info()["schema"] == SCHEMA_VERSION and updated.band_index().directory.dtype == np.uint32
    assert len(updated.band_index()) < len(built) and not array_rows(index_path) and len(updated.band_files()) == 1


def test_lookups_in_a_loaded_or_built_index_use_the_kernels_warming_up_loaded(tmp_path):
    """Band keys read from an index file are read-only, those built in memory are not: both must
    reach the lookup kernel as the one array type warming up loads, or every worker would load
    (or compile) another."""
    from compliance.similarity import kernels

    kernels.warm_up()
    compiled = {name: len(getattr(kernels, name).signatures) for name in dir(kernels)
                if hasattr(getattr(kernels, name), "signatures")}
    sources = load_catalogue([SOURCES]).sources
    index = tmp_path / "index.db"
    build_index(index, sources, IndexParameters.of(MatchSettings()))
    query = source_keys(sources[0].text, IndexParameters.of(MatchSettings()))
    loaded = IndexStore.open(index).band_index()
    built = BandIndex.build([source_keys(s.text, IndexParameters.of(MatchSettings())) for s in sources])
    assert not loaded.keys.flags.writeable and not built.keys.flags.writeable
    store = IndexStore.open(index)
    assert store[loaded.candidates(query, 3)[0]].id == sources[built.candidates(query, 3)[0]].id == sources[0].id
    parameters = IndexParameters.of(MatchSettings())
    shingles = shingle_hashes(tokenize(sources[0].text).hashes, parameters.shingle_words)
    for lookup in (loaded, built):  # a scan's lookups, from shingles in one call: the same candidates
        assert lookup.shingle_candidates(shingles, parameters, 10, 3) == lookup.candidates_with_hits(query_keys(shingles, parameters, 10), 3)
    assert loaded.shingle_candidates(shingles, parameters, 10, 3)[0][0] == 1  # sources[0], numbered from 1
    assert {name: len(getattr(kernels, name).signatures) for name in compiled} == compiled


def test_a_fingerprinting_worker_needs_no_datasketch_of_its_own(corpus):
    """A worker is handed datasketch's permutations and banding with its texts: importing
    datasketch (and scipy) in each worker took half a second of an index build."""
    import pickle
    import subprocess
    import sys

    from compliance.similarity.index import _learned

    parameters = IndexParameters.of(MatchSettings())
    texts = [record["text"] for record in corpus.values()][:20]
    job = pickle.dumps((texts, parameters, _learned(parameters)))
    program = ("import pickle, sys\nfrom compliance.similarity import kernels\nfrom compliance.similarity.index import _keys_of_chunk\n"
               "kernels.warm_up()\n"  # as forked workers inherit them
               "keys = _keys_of_chunk(pickle.loads(sys.stdin.buffer.read()))\n"
               "sys.stdout.buffer.write(pickle.dumps(('datasketch' in sys.modules, 'scipy.integrate' in sys.modules, keys)))\n")
    worker = subprocess.run([sys.executable, "-c", program], input=job, capture_output=True, check=True)
    imported_datasketch, imported_scipy, keys = pickle.loads(worker.stdout)
    assert not imported_datasketch and not imported_scipy
    assert [k.tolist() for k in keys] == [source_keys(text, parameters).tolist() for text in texts]


@pytest.mark.parametrize("large", [False, True])  # workers forked with the catalogue loaded, or before it
def test_an_index_build_whose_worker_dies_stops_with_one_line(tmp_path, monkeypatch, capsys, large):
    import os

    from compliance.similarity import catalogue as catalogue_module
    from compliance.similarity import index as index_module

    if large:
        monkeypatch.setattr(catalogue_module, "_PARALLEL_FROM_BYTES", 0)

    catalogue = tmp_path / "catalogue.jsonl"
    words = "the desk copied this story from a wire service and changed a word here and there".split()
    catalogue.write_text("".join(json.dumps({"id": f"s{n}", "publisher": "Wire", "text": " ".join(words[n % 7:] + [str(n)] * 30)}) + "\n"
                                 for n in range(1200)), encoding="utf-8")

    def killed(text, parameters):
        os._exit(9)  # as the kernel's out-of-memory killer would

    monkeypatch.setattr(index_module, "source_keys", killed)  # forked workers inherit it
    code = main(["index", "build", "--sources", str(catalogue), "--index", str(tmp_path / "index.db"), "--jobs", "2", "-q"])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "worker process stopped" in error and len(error.splitlines()) == 1
    assert not (tmp_path / "index.db").exists()


def as_schema_4(index: Path, piece: int = 1 << 28) -> None:
    """Rewrite an index as schema 4 wrote it: its band keys in rows of `arrays` of at most
    `piece` bytes (whole values), named 'keys', 'keys.1', 'keys.2'..., no band keys files."""
    store = IndexStore.open(index)
    band = store.band_index()
    files = [Path(file["path"]) for file in store.band_files()]
    assert files and not array_rows(index)
    store.db.execute("BEGIN")
    for name in ("keys", "owners", "directory"):
        values = getattr(band, name)
        data = memoryview(np.ascontiguousarray(values)).cast("B")
        step = max(values.itemsize, piece // values.itemsize * values.itemsize)
        for number, start in enumerate(range(0, max(len(data), 1), step)):
            store.db.execute("INSERT INTO arrays VALUES (?, ?)", (f"{name}.{number}" if number else name, data[start : start + step]))
    store.db.execute("DELETE FROM meta WHERE name = 'bands'")
    store.db.execute("UPDATE meta SET value = '4' WHERE name = 'schema'")
    store.db.execute("COMMIT")
    store.close()
    for path in files:
        path.unlink()


def array_rows(index: Path) -> dict[str, int]:
    """Bytes of each row of the index's arrays, by row name."""
    with sqlite3.connect(index) as db:
        return dict(db.execute("SELECT name, length(data) FROM arrays ORDER BY name"))


def scan_report(tmp_path: Path, reposts: Path, index: Path, name: str) -> bytes:
    output = tmp_path / name
    assert main(["scan", str(reposts), "--index", str(index), "--no-state", "--format", "json", "--output", str(output),
                 "--fail-on", "never", "-q", "--jobs", "1"]) == 0
    return output.read_bytes()


@pytest.fixture
def some_reposts(tmp_path, corpus) -> Path:
    """More reposts than a scan looks band keys up in the file for: it loads them all."""
    reposts = tmp_path / "reposts"
    reposts.mkdir()
    records = list(corpus.values())
    for number in range(20):  # excerpts of the corpus's articles
        record = records[number % len(records)]
        write_txt(reposts, f"r{number:02d}.txt", record["title"], paragraphs(record)[1 + number // len(records):])
    return reposts


def test_arrays_stored_in_small_pieces_give_the_scan_the_same_report(tmp_path, corpus, monkeypatch, some_reposts):
    """SQLite refuses a blob over 1 GB (a million sources' keys are 1.9 GB): schema 4 stored
    each array in rows of at most 256 MB, read back as one array; schema 5 maps
    band keys files, and gives the scan the same report."""
    catalogue = copies_catalogue(tmp_path / "catalogue.jsonl", corpus, cut=True)
    whole, pieced, mapped = tmp_path / "whole.db", tmp_path / "pieced.db", tmp_path / "mapped.db"
    for path in (whole, pieced, mapped):
        assert main(["index", "build", "--sources", str(catalogue), "--index", str(path), "-q", "--jobs", "1"]) == 0
    as_schema_4(whole)
    assert sorted(array_rows(whole)) == ["directory", "keys", "owners"]  # a small catalogue's arrays fit one row each
    monkeypatch.setattr(store_module, "_PIECE", 1000)  # read in parts of a row too
    as_schema_4(pieced, 4 * 1024 + 3)  # (rounded down to whole values)
    rows = array_rows(pieced)
    keys = [rows["keys"]] + [rows[f"keys.{n}"] for n in range(1, len(rows)) if f"keys.{n}" in rows]
    assert len(keys) > 10 and set(keys[:-1]) == {4096} and 0 < keys[-1] <= 4096
    assert sum(size for name, size in rows.items() if name.startswith("keys")) == array_rows(whole)["keys"]
    assert any(name.startswith("owners.") for name in rows) and any(name.startswith("directory.") for name in rows)

    loaded = {path: IndexStore.open(path).band_index() for path in (whole, pieced)}
    for name in ("keys", "owners", "directory"):
        assert np.array_equal(getattr(loaded[whole], name), getattr(loaded[pieced], name))
    info = IndexStore.open(pieced).info()
    assert info["band_keys"] == len(loaded[whole]) and info["schema"] == 4
    reports = [scan_report(tmp_path, some_reposts, path, f"{path.stem}.json").replace(path.name.encode(), b"INDEX")
               for path in (whole, pieced, mapped)]
    assert reports[0] == reports[1] == reports[2]
    assert len(json.loads(reports[0])["documents"]) == 20
    one = some_reposts / "r03.txt"  # a handful of reposts looks the keys up where they lie: across pieces too
    assert len({scan_report(tmp_path, one, path, f"one-{path.stem}.json").replace(path.name.encode(), b"INDEX")
                for path in (whole, pieced, mapped)}) == 1


@pytest.mark.skipif(not hasattr(sqlite3.Connection, "blobopen"),
                    reason="Python 3.10's sqlite3 cannot read part of a blob: every scan loads the band keys")
def test_band_keys_looked_up_across_pieces_give_the_candidates_loaded_keys_give(tmp_path, corpus, monkeypatch):
    from compliance.similarity.store import StoredBandIndex

    index_path = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(DATA / "corpus.jsonl"), "--index", str(index_path), "-q"]) == 0
    as_schema_4(index_path, 100)  # keys 96 bytes a row: buckets straddle rows
    store = IndexStore.open(index_path)
    loaded, in_place = store.band_index(), store.band_lookup(documents=1)
    assert isinstance(in_place, StoredBandIndex) and len(array_rows(index_path)) > 30
    assert_same_candidates(in_place, loaded, corpus, seed=7)
    store.end_snapshot()


def single_rows(index: Path) -> None:
    """Rewrite the index as schema 3 wrote it: each array in one row named after it."""
    with sqlite3.connect(index) as db:
        whole: dict[str, list[tuple[int, bytes]]] = {}
        for name, data in db.execute("SELECT name, data FROM arrays").fetchall():
            base, _, number = name.partition(".")
            whole.setdefault(base, []).append((int(number or 0), data))
        db.execute("DELETE FROM arrays")
        db.executemany("INSERT INTO arrays VALUES (?, ?)",
                       [(base, b"".join(data for _, data in sorted(parts))) for base, parts in whole.items()])
        db.execute("UPDATE meta SET value = '3' WHERE name = 'schema'")


def test_an_index_of_schema_3_in_single_blobs_scans_as_before_and_an_update_writes_band_files(tmp_path, corpus, monkeypatch,
                                                                                         some_reposts):
    catalogue = tmp_path / "sources"
    shutil.copytree(SOURCES, catalogue)
    for number, record in enumerate(list(corpus.values())[:30]):
        (catalogue / f"extra-{number}.md").write_text(f"---\nid: extra-{number}\npublisher: {record['publisher']}\n---\n"
                                                      f"{record['text']}\n", encoding="utf-8")
    index = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(catalogue), "--index", str(index), "-q", "--jobs", "1"]) == 0
    one = some_reposts / "r01.txt"
    before = scan_report(tmp_path, some_reposts, index, "pieced.json"), scan_report(tmp_path, one, index, "one.json")
    as_schema_4(index, 4096)
    assert scan_report(tmp_path, some_reposts, index, "pieced.json") == before[0]
    single_rows(index)
    assert sorted(array_rows(index)) == ["directory", "keys", "owners"] and array_rows(index)["keys"] > 4096
    old = IndexStore.open(index)
    assert old.info()["schema"] == 3 and old.info()["band_keys"] == array_rows(index)["keys"] // 8
    old.close()
    assert (scan_report(tmp_path, some_reposts, index, "single.json"), scan_report(tmp_path, one, index, "one.json")) == before

    (catalogue / "extra-0.md").unlink()
    assert main(["index", "update", "--sources", str(catalogue), "--index", str(index), "-q"]) == 0
    assert IndexStore.open(index).info()["schema"] == SCHEMA_VERSION and not array_rows(index)
    assert len(IndexStore.open(index).band_files()) == 1
    assert scan_report(tmp_path, some_reposts, index, "updated.json") != before[0]  # extra-0 is gone


def test_a_catalogue_of_more_sources_than_an_index_numbers_is_refused_before_fingerprinting(tmp_path, monkeypatch, capsys):
    def fingerprinted(*args, **kwargs):
        raise AssertionError("fingerprinted")

    monkeypatch.setattr(store_module, "MAX_SOURCE_NUMBER", 3)
    monkeypatch.setattr(store_module, "keys_in_chunks", fingerprinted)
    code = main(["index", "build", "--sources", str(SOURCES), "--index", str(tmp_path / "index.db"), "-q", "--jobs", "1"])
    error = capsys.readouterr().err.strip()
    assert code == 2 and len(error.splitlines()) == 1, error
    assert "numbers at most 3 sources, and this one would need 4" in error
    assert not (tmp_path / "index.db").exists()

@pytest.mark.parametrize("large", [False, True])  # workers forked with the catalogue loaded, or before it
def test_an_index_built_on_workers_holds_what_one_built_in_one_process_holds(tmp_path, corpus, monkeypatch, large):
    from compliance.similarity import catalogue as catalogue_module

    if large:  # as a catalogue of tens of megabytes would be
        monkeypatch.setattr(catalogue_module, "_PARALLEL_FROM_BYTES", 0)
    catalogue = copies_catalogue(tmp_path / "catalogue.jsonl", corpus, cut=True)  # three chunks for the workers
    contents = []
    for jobs in ("1", "2"):
        index = tmp_path / f"index-{jobs}.db"
        assert main(["index", "build", "--sources", str(catalogue), "--index", str(index), "--jobs", jobs, "-q"]) == 0
        band = IndexStore.open(index).band_index()
        with sqlite3.connect(index) as db:
            contents.append(([getattr(band, name).tobytes() for name in ("keys", "owners", "directory")],
                             db.execute("SELECT number, id, content_hash, record, origin, text FROM sources ORDER BY number").fetchall()))
    assert contents[0] == contents[1] and len(contents[0][1]) == 1200


def desk_catalogues(tmp_path: Path, corpus: dict) -> tuple[Path, list[Path]]:
    """Reposts of the corpus's articles, and three desks' catalogues: the same articles under
    ids of each desk's own, among 300 others the desks share."""
    reposts = tmp_path / "reposts"
    reposts.mkdir()
    for record in corpus.values():
        write_txt(reposts, f"{record['id']}.txt", record["title"], paragraphs(record))
    catalogues = []
    for desk in range(3):
        catalogue = tmp_path / f"desk{desk}.jsonl"
        with catalogue.open("w", encoding="utf-8") as out:
            for number in range(300):
                record = list(corpus.values())[number % len(corpus)]
                out.write(json.dumps({"id": f"other-{number}", "publisher": record["publisher"],
                                      "text": f"Other {number}.\n\n" + record["text"][200 + number * 3:]}) + "\n")
            for record in corpus.values():
                out.write(json.dumps({**record, "id": f"desk{desk}-{record['id']}"}) + "\n")
        catalogues.append(catalogue)
    return reposts, catalogues


def assert_matched_in_desk(report_path: Path, desk: int, corpus: dict, why: str = "") -> None:
    matched = findings_by_path(json.loads(report_path.read_text(encoding="utf-8")))
    assert {path: found[0] for path, found in matched.items()} == {
        f"{record_id}.txt": f"desk{desk}-{record_id}" for record_id in corpus}, why


def test_an_update_between_a_scans_sync_and_its_reading_waits_for_the_scan(tmp_path, corpus, monkeypatch):
    """The moment another run's update could slip in (the scan's own update committed, its
    reading of the index not begun yet) is covered by the index's lock: the other update
    waits, and commits once the scan is done."""
    from compliance import pipeline

    reposts, catalogues = desk_catalogues(tmp_path, corpus)
    index = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(catalogues[0]), "--index", str(index), "-q"]) == 0
    opened, interloper = [], []
    real_open_index = pipeline.open_index

    def open_index(path, pack):
        opened.append(path)
        if len(opened) == 2:  # the scan's update is committed: another run updates the index now
            interloper.append(subprocess.Popen(
                [sys.executable, "-m", "compliance", "index", "update", "--sources", str(catalogues[2]), "--index", str(index), "-q"],
                env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True))
            with contextlib.suppress(subprocess.TimeoutExpired):
                interloper[0].wait(timeout=4)  # (it updated meanwhile, before the lock: the scan read desk 2)
        return real_open_index(path, pack)

    monkeypatch.setattr(pipeline, "open_index", open_index)
    report = tmp_path / "report.json"
    assert main(["scan", str(reposts), "--sources", str(catalogues[1]), "--index", str(index), "--no-state",
                 "--format", "json", "--output", str(report), "--fail-on", "never", "-q"]) == 0
    assert_matched_in_desk(report, 1, corpus)
    assert interloper[0].wait(timeout=120) == 0, interloper[0].stderr.read()
    assert IndexStore.open(index).read_source("id", "desk2-sh-1ace8c85aaee").id == "desk2-sh-1ace8c85aaee"


def test_scans_syncing_one_index_from_different_catalogues_at_once_each_use_their_own(tmp_path, corpus):
    """Each scan reads the index as it synced it: another scan's update (or build) waits until
    this one's snapshot is begun, then waits for this scan to end before committing."""
    reposts, catalogues = desk_catalogues(tmp_path, corpus)
    index = tmp_path / "shared" / "index.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_ in range(3):  # the first builds the index, the others update it
        scans = [subprocess.Popen([sys.executable, "-m", "compliance", "scan", str(reposts), "--sources", str(catalogue),
                                   "--index", str(index), "--no-state", "--format", "json", "-q", "--fail-on", "never",
                                   "--output", str(tmp_path / f"report{desk}.json")], env=env, stderr=subprocess.PIPE, text=True)
                 for desk, catalogue in enumerate(catalogues)]
        for desk, scan in enumerate(scans):
            assert scan.wait(timeout=300) == 0, scan.stderr.read()
            assert_matched_in_desk(tmp_path / f"report{desk}.json", desk, corpus, f"round {round_}, desk {desk}")
