"""An index update reads only the catalogue files whose stat signature changed since it read them."""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import EXAMPLES

from compliance.checks import load_pack
from compliance.cli.main import main
from compliance.pipeline import catalogue_for_index, update_index
from compliance.similarity import catalogue as catalogue_module
from compliance.similarity.store import SCHEMA_VERSION, IndexStore

SOURCES = EXAMPLES / "sources"
ALJ = "aljazeera-nasa-moon-shot.md"


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The catalogue files read, as they are read."""
    read: list[str] = []
    load_file, load_jsonl = catalogue_module._load_file, catalogue_module._load_jsonl

    def counted_file(path):
        read.append(path.name)
        return load_file(path)

    def counted_jsonl(path, *args):
        read.append(path.name)
        return load_jsonl(path, *args)

    monkeypatch.setattr(catalogue_module, "_load_file", counted_file)
    monkeypatch.setattr(catalogue_module, "_load_jsonl", counted_jsonl)
    return read


@pytest.fixture
def settled(monkeypatch):
    """Files count as written long enough before an update that read them: racy files are the
    concern of their own tests."""
    monkeypatch.setattr("compliance.similarity.store.RACY_NS", 0)


def update(catalogue: Path, index: Path, capsys) -> str:
    capsys.readouterr()
    assert main(["index", "update", "--sources", str(catalogue), "--index", str(index)]) == 0
    return capsys.readouterr().out


def counts(output: str) -> tuple[str, str]:
    """What an update printed: its sources' counts, and how many of how many files it read."""
    found = re.search(r"(\d+ added, \d+ changed, \d+ removed, \d+ unchanged); ([\d,]+ of [\d,]+) files read", output)
    assert found, output
    return found.group(1), found.group(2)


def rewrite_keeping_stat(path: Path, old: str, new: str) -> None:
    """Edit a file in place to the same size, and set its times back as they were."""
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)


@pytest.fixture
def indexed(tmp_path, capsys, settled) -> tuple[Path, Path]:
    catalogue = tmp_path / "sources"
    shutil.copytree(SOURCES, catalogue)
    index = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(catalogue), "--index", str(index), "-q"]) == 0
    return catalogue, index


def test_an_update_with_nothing_changed_reads_no_file(indexed, capsys, reads):
    catalogue, index = indexed
    assert counts(update(catalogue, index, capsys)) == ("0 added, 0 changed, 0 removed, 4 unchanged", "0 of 4")
    assert reads == []
    store = IndexStore.open(index)
    assert len(store) == 4 and store.read_source("id", "aljazeera-nasa-moon-shot").publisher == "Al Jazeera"


def test_a_changed_file_is_read_even_with_its_size_and_mtime_kept(indexed, capsys, reads):
    """Its ctime tells: git compares it too."""
    catalogue, index = indexed
    rewrite_keeping_stat(catalogue / ALJ, "publisher: Al Jazeera\n", "publisher: Al Jazeerb\n")
    assert counts(update(catalogue, index, capsys)) == ("0 added, 1 changed, 0 removed, 3 unchanged", "1 of 4")
    assert reads == [ALJ]
    assert IndexStore.open(index).read_source("id", "aljazeera-nasa-moon-shot").publisher == "Al Jazeerb"
    assert counts(update(catalogue, index, capsys))[1] == "0 of 4"


def test_a_file_replaced_by_another_of_the_same_size_and_mtime_is_read(indexed, capsys, reads):
    """Written beside it and moved over it, as editors save: another inode."""
    catalogue, index = indexed
    original = catalogue / ALJ
    before = original.stat()
    replacement = catalogue / ".save.tmp"
    replacement.write_text(original.read_text(encoding="utf-8").replace("Laura Winter", "Laura Summer"), encoding="utf-8")
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, original)
    assert original.stat().st_ino != before.st_ino and original.stat().st_size == before.st_size
    assert counts(update(catalogue, index, capsys)) == ("0 added, 1 changed, 0 removed, 3 unchanged", "1 of 4")
    assert IndexStore.open(index).read_source("id", "aljazeera-nasa-moon-shot").author == "Laura Summer"


def test_a_file_written_again_as_the_update_read_it_is_read_again_next_time(tmp_path, capsys, reads, monkeypatch):
    """Git's racy files: on a filesystem whose timestamps are coarse, a file changed again in
    the tick the update read it in keeps its stat. Simulated by a signature without ctime (as
    if the rewrite fell in the same tick) and the mtime set back: only the racy rule can see it."""
    monkeypatch.setattr(catalogue_module, "_signature", lambda status: (status.st_size, status.st_mtime_ns, status.st_ino, 0))
    catalogue = tmp_path / "sources"
    shutil.copytree(SOURCES, catalogue)
    for path in catalogue.iterdir():
        os.utime(path, (1_600_000_000, 1_600_000_000))  # written long ago
    fresh = catalogue / ALJ
    os.utime(fresh)  # ... but this one just now
    index = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(catalogue), "--index", str(index), "-q"]) == 0
    rewrite_keeping_stat(fresh, "publisher: Al Jazeera\n", "publisher: Al Jazeerb\n")
    reads.clear()
    assert counts(update(catalogue, index, capsys)) == ("0 added, 1 changed, 0 removed, 3 unchanged", "1 of 4")
    assert reads == [ALJ]

    # The same rewrite of a file remembered long ago goes unseen by this signature: it was the
    # racy rule that saw the first one.
    os.utime(fresh, (1_600_000_000, 1_600_000_000))
    update(catalogue, index, capsys)  # remembered now, no longer racy
    rewrite_keeping_stat(fresh, "publisher: Al Jazeerb\n", "publisher: Al Jazeerc\n")
    assert counts(update(catalogue, index, capsys))[1] == "0 of 4"


def test_new_removed_and_renamed_files(indexed, capsys, reads):
    catalogue, index = indexed
    (catalogue / "desk").mkdir()
    (catalogue / "desk" / "reuters-bolivia.md").write_text("---\npublisher: Reuters\n---\n\nThree people have died during protests.\n",
                                                          encoding="utf-8")
    (catalogue / "venturebeat-wework-investigation.md").unlink()
    assert counts(update(catalogue, index, capsys)) == ("1 added, 0 changed, 1 removed, 3 unchanged", "1 of 4")
    assert reads == ["reuters-bolivia.md"]
    store = IndexStore.open(index)
    assert sorted(store.by_id()) == ["aljazeera-nasa-moon-shot", "foxbusiness-home-depot-sales",
                                     "newsweek-iran-russia-missiles-niac", "reuters-bolivia"]
    store.close()

    reads.clear()  # renamed: its id comes from its name, so the source is another
    (catalogue / "desk" / "reuters-bolivia.md").rename(catalogue / "desk" / "reuters-la-paz.md")
    assert counts(update(catalogue, index, capsys)) == ("1 added, 0 changed, 1 removed, 3 unchanged", "1 of 4")
    # renamed, its id in its front matter: the same source, found in its new file from now on
    (catalogue / ALJ).rename(catalogue / "desk" / ALJ)
    assert counts(update(catalogue, index, capsys)) == ("0 added, 0 changed, 0 removed, 4 unchanged", "1 of 4")
    assert reads == ["reuters-la-paz.md", ALJ]
    reads.clear()
    assert counts(update(catalogue, index, capsys)) == ("0 added, 0 changed, 0 removed, 4 unchanged", "0 of 4")
    store = IndexStore.open(index)
    assert "reuters-la-paz" in store.by_id() and "reuters-bolivia" not in store.by_id()
    assert sorted(store.begin_update().signatures) == sorted(str(path) for path in catalogue.rglob("*.md"))
    assert reads == []


def test_a_file_with_an_error_is_read_and_reported_every_time(indexed, capsys, reads):
    catalogue, index = indexed
    bad = catalogue / "bad-source.md"
    bad.write_text("---\ntitle: No publisher\n---\n\nSome article text.\n", encoding="utf-8")
    shutil.copy(catalogue / ALJ, catalogue / "zz-copy.md")  # the same id again: the later file is at fault
    for _ in range(2):
        reads.clear()
        capsys.readouterr()
        assert main(["index", "update", "--sources", str(catalogue), "--index", str(index)]) == 2
        output = capsys.readouterr()
        errors = output.err.strip().splitlines()
        assert len(errors) == 2 and f"{bad}: source has no 'publisher'" in errors[0]
        assert f"{catalogue / 'zz-copy.md'}: source id 'aljazeera-nasa-moon-shot' is already used by {catalogue / ALJ}" in errors[1]
        assert counts(output.out)[0] == "0 added, 0 changed, 0 removed, 4 unchanged"
        assert sorted(reads) == ["bad-source.md", "zz-copy.md"]


def test_a_file_unchanged_whose_id_a_new_file_takes_first_is_reported(indexed, capsys, reads):
    catalogue, index = indexed
    first = catalogue / "aaa-first.md"  # sorts before the file that had the id
    first.write_text((catalogue / ALJ).read_text(encoding="utf-8").replace("Laura Winter", "Laura Summer"), encoding="utf-8")
    for expected_reads in (["aaa-first.md"], [ALJ]):  # then the file at fault, until it is fixed
        reads.clear()
        capsys.readouterr()
        assert main(["index", "update", "--sources", str(catalogue), "--index", str(index)]) == 2
        output = capsys.readouterr()
        assert output.err.strip() == (f"compliance: error: {catalogue / ALJ}: source id 'aljazeera-nasa-moon-shot' "
                                      f"is already used by {first}")
        assert reads == expected_reads
    assert IndexStore.open(index).read_source("id", "aljazeera-nasa-moon-shot").author == "Laura Summer"


def test_a_jsonl_catalogue_unchanged_is_not_read(tmp_path, capsys, reads, settled):
    catalogue = tmp_path / "wire.jsonl"
    records = [{"id": f"s{n}", "publisher": "Wire", "text": f"Article {n} says {'something ' * n}."} for n in range(1, 30)]
    catalogue.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    index = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(catalogue), "--index", str(index), "-q"]) == 0
    reads.clear()
    assert counts(update(catalogue, index, capsys)) == ("0 added, 0 changed, 0 removed, 29 unchanged", "0 of 1")
    assert reads == []
    with catalogue.open("a", encoding="utf-8") as more:
        more.write(json.dumps({"id": "s30", "publisher": "Wire", "text": "A thirtieth article."}) + "\n")
    assert counts(update(catalogue, index, capsys)) == ("1 added, 0 changed, 0 removed, 29 unchanged", "1 of 1")
    assert reads == ["wire.jsonl"]

    with catalogue.open("a", encoding="utf-8") as more:  # a bad line: the file is read, and the line reported, every time
        more.write('{"id": "s31", "text": "no publisher"}\n')
    for _ in range(2):
        capsys.readouterr()
        assert main(["index", "update", "--sources", str(catalogue), "--index", str(index)]) == 2
        output = capsys.readouterr()
        assert f"{catalogue}:31: source has no 'publisher'" in output.err
        assert counts(output.out) == ("0 added, 0 changed, 0 removed, 30 unchanged", "1 of 1")


def test_an_index_written_without_files_is_read_and_its_first_update_remembers_them(indexed, capsys, reads):
    """As the previous version wrote it: no tables of files, no triggers."""
    catalogue, index = indexed
    with sqlite3.connect(index) as db:
        db.executescript("DROP TRIGGER source_inserted; DROP TRIGGER source_deleted; DROP TRIGGER source_updated; "
                         "DROP TABLE files; DROP TABLE file_sources;")
        assert [name for (name,) in db.execute("SELECT name FROM sqlite_master")] == [
            "meta", "sqlite_autoindex_meta_1", "sources", "sqlite_autoindex_sources_1", "arrays", "sqlite_autoindex_arrays_1"]
    report = index.parent / "report.json"
    assert main(["scan", str(EXAMPLES / "reposts"), "--index", str(index), "--no-state", "--format", "json",
                 "--output", str(report), "--fail-on", "never", "-q"]) == 0
    assert json.loads(report.read_text(encoding="utf-8"))["summary"]["documents"] > 0
    (catalogue / "venturebeat-wework-investigation.md").unlink()
    assert counts(update(catalogue, index, capsys)) == ("0 added, 0 changed, 1 removed, 3 unchanged", "3 of 3")
    assert counts(update(catalogue, index, capsys)) == ("0 added, 0 changed, 0 removed, 3 unchanged", "0 of 3")
    assert len(reads) == 3 and IndexStore.open(index).info()["schema"] == SCHEMA_VERSION
    with sqlite3.connect(index) as db:  # the previous version updates it again, and drops a source
        db.execute("DELETE FROM sources WHERE id = 'foxbusiness-home-depot-sales'")
    assert counts(update(catalogue, index, capsys)) == ("1 added, 0 changed, 0 removed, 2 unchanged", "1 of 3")


def test_a_file_whose_sources_another_update_changed_is_read_again(indexed, capsys, reads):
    """An update by a version that keeps no files (or with another catalogue) changes sources
    without telling the files they came from: such files are read again, their sources fingerprinted."""
    catalogue, index = indexed
    with sqlite3.connect(index) as db:  # as that version writes: a row replaced, a row deleted
        db.execute("INSERT OR REPLACE INTO sources(number, id, content_hash, record, origin, text) "
                   "SELECT number, id, 'another', replace(record, 'Al Jazeera', 'Other'), origin, text FROM sources "
                   "WHERE id = 'aljazeera-nasa-moon-shot'")
        db.execute("DELETE FROM sources WHERE id = 'foxbusiness-home-depot-sales'")
    assert counts(update(catalogue, index, capsys)) == ("1 added, 1 changed, 0 removed, 2 unchanged", "2 of 4")
    assert sorted(reads) == [ALJ, "foxbusiness-home-depot-sales.md"]
    assert IndexStore.open(index).read_source("id", "aljazeera-nasa-moon-shot").publisher == "Al Jazeera"


def test_an_update_holds_the_index_from_reading_what_it_remembers_to_writing(indexed, capsys, monkeypatch):
    """What it remembers stays true meanwhile: another update waits (and gives up, here at once)."""
    catalogue, index = indexed
    monkeypatch.setattr("compliance.similarity.store.WAIT_FOR_SCANS", 0.2)
    pack = load_pack()
    with catalogue_for_index(index, pack, [catalogue]) as (read, pool):
        assert len(read.unchanged) == 4 and not read.read
        capsys.readouterr()
        assert main(["index", "update", "--sources", str(catalogue), "--index", str(index), "-q"]) == 2
        assert "another run kept the index for an update; gave up after 0.4s" in capsys.readouterr().err
        assert update_index(index, pack, read, pool=pool).unchanged == 4
    assert main(["index", "update", "--sources", str(catalogue), "--index", str(index), "-q"]) == 0


def test_a_scan_with_sources_and_index_reads_only_changed_files(indexed, tmp_path, capsys, reads):
    catalogue, index = indexed
    (catalogue / "foxbusiness-home-depot-sales.md").unlink()
    report = tmp_path / "report.json"
    scan = ["scan", str(EXAMPLES / "reposts"), "--index", str(index), "--sources", str(catalogue), "--no-state",
            "--format", "json", "--output", str(report), "--fail-on", "never", "-q"]
    assert main(scan) == 0 and reads == []
    assert "foxbusiness-home-depot-sales" not in IndexStore.open(index).by_id()
    found = {d["path"].rsplit("/", 1)[-1]: (d["source"] or {}).get("id") for d in json.loads(report.read_text(encoding="utf-8"))["documents"]}
    assert found["niac-missiles-repost.txt"] == "newsweek-iran-russia-missiles-niac"
