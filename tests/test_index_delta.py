"""Index updates that cost what changed: new and edited sources' band keys go to a small delta
beside the main keys, removed and replaced sources' main keys are masked, and lookups answer
exactly what a freshly built index of the same catalogue answers (same candidates, same hits,
same ties, buckets over `MAX_BUCKET` left out alike)."""
from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, paragraphs, write_txt

from compliance.cli.main import main
from compliance.similarity import MatchSettings, load_catalogue
from compliance.similarity import store as store_module
from compliance.similarity.fingerprint import shingle_hashes
from compliance.similarity.index import MAX_BUCKET, BandIndex, IndexParameters, LayeredBandIndex, window_keys
from compliance.similarity.store import IndexStore, build_index
from compliance.similarity.tokens import tokenize

PARAMETERS = IndexParameters.of(MatchSettings())


def stock_passage(corpus: dict) -> str:
    """A wire footer long enough to fill whole windows, which every stock source starts with
    (the corpus's words, in an order of its own: no article shares its keys)."""
    words = sorted({word for record in corpus.values() for word in record["text"].split()})
    return " ".join(random.Random(11).choices(words, k=400))


def write_catalogue(path: Path, records: dict[str, str]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for source_id, text in records.items():
            out.write(json.dumps({"id": source_id, "publisher": "Wire", "text": text}) + "\n")


def queries(corpus: dict, stock: str, seed: int) -> list[np.ndarray]:
    """Band keys of each corpus article's body (windows every 10 shingles, as a repost's), of
    the stock passage, and keys no source has."""
    rng = np.random.default_rng(seed)
    texts = ["\n\n".join(paragraphs(record)[1:]) for record in corpus.values()] + [stock]
    keys = [window_keys(shingle_hashes(tokenize(text).hashes, PARAMETERS.shingle_words), PARAMETERS, 10) for text in texts]
    return [np.union1d(k, rng.integers(0, 2**63, 30, dtype=np.uint64)) for k in keys]


def assert_same_as_fresh(index: Path, catalogue: Path, tmp_path: Path, asked: list[np.ndarray]) -> BandIndex:
    """The updated index answers every lookup as an index built afresh from the catalogue, its
    sources numbered alike, does."""
    store = IndexStore.open(index)
    numbering = dict(store.db.execute("SELECT id, number FROM sources"))
    fresh_path = tmp_path / "fresh.db"
    fresh_path.unlink(missing_ok=True)
    build_index(fresh_path, load_catalogue([catalogue]).sources, PARAMETERS, numbering=numbering)
    updated, fresh = store.band_index(), IndexStore.open(fresh_path).band_index()
    assert type(fresh) is BandIndex
    found = 0
    for query in asked:
        assert updated.candidates_with_hits(query, 20) == fresh.candidates_with_hits(query, 20)
        assert updated.candidates_with_hits(query, 3) == fresh.candidates_with_hits(query, 3)  # ties cut alike
        assert np.array_equal(updated.bucket_sizes(query), fresh.bucket_sizes(query))
        (counts, owners), (fresh_counts, fresh_owners) = updated.key_matches(query), fresh.key_matches(query)
        assert np.array_equal(counts, fresh_counts) and sorted(owners.tolist()) == sorted(fresh_owners.tolist())
        found += bool(fresh.candidates_with_hits(query, 20))
    assert found >= len(asked) - 1  # (the stock passage's keys may all be over the bucket limit)
    assert np.array_equal(updated.overfull_keys(), fresh.overfull_keys())
    return updated


@pytest.fixture
def catalogue(corpus) -> dict[str, str]:
    """Cut copies of the corpus's articles, and `MAX_BUCKET` + 3 stock sources sharing a footer."""
    records = list(corpus.values())
    stock = stock_passage(corpus)
    sources = {f"a{n}": records[n % len(records)]["text"][n * 7 % 500:] for n in range(300)}
    sources.update({f"stock{n}": f"{stock}\n\nStock item {n}: " + records[n % len(records)]["title"] * 3
                    for n in range(MAX_BUCKET + 3)})
    return sources


def test_updates_write_a_delta_whose_lookups_equal_a_fresh_build_and_fold_when_large(tmp_path, corpus, catalogue, monkeypatch):
    monkeypatch.setattr(store_module, "FOLD_FRACTION", 1.0)  # a small catalogue: every update a delta
    path, index = tmp_path / "catalogue.jsonl", tmp_path / "index.db"
    asked = queries(corpus, stock_passage(corpus), seed=3)
    records = list(corpus.values())
    write_catalogue(path, catalogue)
    assert main(["index", "build", "--sources", str(path), "--index", str(index), "-q", "--jobs", "1"]) == 0
    built = IndexStore.open(index)
    assert type(built.band_index()) is BandIndex and len(built.band_files()) == 1
    assert len(assert_same_as_fresh(index, path, tmp_path, asked).overfull_keys()) > 0  # the stock buckets are full

    rng = random.Random(5)
    # 1. stock sources removed (their buckets fall under the limit), articles edited and added
    for n in range(5):
        del catalogue[f"stock{n}"]
    for n in rng.sample(range(300), 6):
        catalogue[f"a{n}"] = catalogue[f"a{n}"][40:] + " Corrected."
    for n in range(4):
        catalogue[f"new{n}"] = records[n]["text"][3:]
    write_catalogue(path, catalogue)
    assert main(["index", "update", "--sources", str(path), "--index", str(index), "-q"]) == 0
    updated = assert_same_as_fresh(index, path, tmp_path, asked)
    assert isinstance(updated, LayeredBandIndex) and len(updated.delta.keys) and updated.masked.sum() == 5 + 6
    assert len(updated.overfull_keys()) == 0
    files = [Path(file["path"]) for file in IndexStore.open(index).band_files()]
    assert [file["layer"] for file in IndexStore.open(index).band_files()] == ["main", "delta"]
    assert sorted(p.name for p in tmp_path.glob("index.db.bands-*")) == sorted(p.name for p in files)

    # 2. stock sources back under new ids (full again), delta sources edited and removed
    for n in range(5):
        catalogue[f"stock-again{n}"] = f"{stock_passage(corpus)}\n\nAgain {n}."
    catalogue["new0"] += " Edited again."
    del catalogue["new1"]
    write_catalogue(path, catalogue)
    assert main(["index", "update", "--sources", str(path), "--index", str(index), "-q"]) == 0
    updated = assert_same_as_fresh(index, path, tmp_path, asked)
    assert isinstance(updated, LayeredBandIndex) and len(updated.overfull_keys()) > 0
    (main_file,) = [Path(file["path"]) for file in IndexStore.open(index).band_files() if file["layer"] == "main"]
    assert main_file == files[0] and not files[1].exists()  # the main keys stay; the old delta is gone

    # 3. past the fraction: the delta is folded into new main keys
    monkeypatch.setattr(store_module, "FOLD_FRACTION", 0.0)
    catalogue["a1"] += " Folded."
    write_catalogue(path, catalogue)
    assert main(["index", "update", "--sources", str(path), "--index", str(index), "-q"]) == 0
    folded = assert_same_as_fresh(index, path, tmp_path, asked)
    assert type(folded) is BandIndex and len(folded) == len(IndexStore.open(tmp_path / "fresh.db").band_index())
    assert [p.name for p in tmp_path.glob("index.db.bands-*")] == [Path(IndexStore.open(index).band_files()[0]["path"]).name]


def test_a_scan_against_an_updated_index_reports_as_against_a_fresh_one(tmp_path, corpus, catalogue, monkeypatch):
    monkeypatch.setattr(store_module, "FOLD_FRACTION", 1.0)
    path, index, fresh = tmp_path / "catalogue.jsonl", tmp_path / "index.db", tmp_path / "fresh.db"
    reposts = tmp_path / "reposts"
    reposts.mkdir()
    for number, record in enumerate(list(corpus.values()) * 4):  # more than a scan looks keys up in place for
        write_txt(reposts, f"r{number:02d}.txt", record["title"], paragraphs(record)[1 + number // len(corpus):])
    write_catalogue(path, catalogue)
    assert main(["index", "build", "--sources", str(path), "--index", str(index), "-q", "--jobs", "1"]) == 0
    for n in range(0, 300, 7):  # the articles the reposts copy are edited, removed, added anew
        catalogue[f"a{n}"] = catalogue[f"a{n}"][100:]
    for n in range(1, 300, 11):
        catalogue[f"moved{n}"] = catalogue.pop(f"a{n}")
    write_catalogue(path, catalogue)
    assert main(["index", "update", "--sources", str(path), "--index", str(index), "-q"]) == 0
    assert isinstance(IndexStore.open(index).band_index(), LayeredBandIndex)
    numbering = dict(IndexStore.open(index).db.execute("SELECT id, number FROM sources"))
    build_index(fresh, load_catalogue([path]).sources, PARAMETERS, numbering=numbering)
    reports = []
    for used in (index, fresh):
        for documents in (reposts, reposts / "r03.txt"):
            output = tmp_path / f"{used.stem}-{documents.stem}.json"
            assert main(["scan", str(documents), "--index", str(used), "--no-state", "--format", "json", "--output", str(output),
                         "--fail-on", "never", "-q", "--jobs", "2"]) == 0
            reports.append(output.read_bytes().replace(used.name.encode(), b"INDEX"))
    assert reports[:2] == reports[2:]
    matched = [d for d in json.loads(reports[0])["documents"] if d["source"]]
    assert len(matched) >= len(corpus) * 3 and any(d["source"]["id"].startswith("moved") for d in matched)


def test_band_keys_files_of_killed_runs_go_at_the_next_update_and_a_copy_with_its_files_scans_alike(tmp_path, corpus, catalogue):
    path, index = tmp_path / "catalogue.jsonl", tmp_path / "desk" / "index.db"
    write_catalogue(path, catalogue)
    assert main(["index", "build", "--sources", str(path), "--index", str(index), "-q", "--jobs", "1"]) == 0
    named = sorted(Path(file["path"]).name for file in IndexStore.open(index).band_files())
    killed = [index.with_name("index.db.bands-0123456789abcdef"),  # renamed, its commit never came
              index.with_name(".index.db.bands-fedcba9876543210.999999999.tmp")]  # being written (no such process)
    other = index.with_name("other.db.bands-0123456789abcdef")  # another index's: not this one's to remove
    for leftover in (*killed, other):
        leftover.write_bytes(b"partial")
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in index.parent.glob("index.db*"):  # cp index.db* copy/
        shutil.copy(file, copy / file.name)
    reports = []
    for used in (index, copy / "index.db"):
        output = tmp_path / f"{used.parent.name}.json"
        assert main(["scan", str(EXAMPLES / "reposts"), "--index", str(used), "--no-state", "--format", "json", "--output",
                     str(output), "--fail-on", "never", "-q"]) == 0
        reports.append(output.read_bytes().replace(str(used).encode(), b"INDEX"))
    assert reports[0] == reports[1]
    assert all(leftover.exists() for leftover in killed)  # a scan writes nothing there
    catalogue["a0"] += " Changed."
    write_catalogue(path, catalogue)
    assert main(["index", "update", "--sources", str(path), "--index", str(index), "-q"]) == 0
    now = sorted(Path(file["path"]).name for file in IndexStore.open(index).band_files())
    assert sorted(p.name for p in index.parent.iterdir() if ".bands-" in p.name) == sorted(now + [other.name])
    assert now[0] in named or now[1] in named  # the main keys stay; a delta joined them


def test_a_scan_keeps_the_band_keys_it_began_with_when_a_build_replaces_the_index(tmp_path, corpus, catalogue):
    """A scan maps the band keys files when its snapshot begins: a build that replaces the index
    meanwhile (and removes the files the old one named) leaves the scan its keys."""
    path, index = tmp_path / "catalogue.jsonl", tmp_path / "index.db"
    write_catalogue(path, catalogue)
    assert main(["index", "build", "--sources", str(path), "--index", str(index), "-q", "--jobs", "1"]) == 0
    asked = queries(corpus, stock_passage(corpus), seed=4)
    expected = [IndexStore.open(index).band_index().candidates_with_hits(query, 20) for query in asked]
    scan = IndexStore.open(index)
    scan.begin_snapshot()
    old_files = sorted(tmp_path.glob("index.db.bands-*"))
    write_catalogue(path, dict(list(catalogue.items())[:100]))
    assert main(["index", "build", "--sources", str(path), "--index", str(index), "-q", "--jobs", "1"]) == 0
    assert not any(file.exists() for file in old_files)  # the old index's files are gone
    for documents in (1, 100):
        lookup = scan.band_lookup(documents)
        assert [lookup.candidates_with_hits(query, 20) for query in asked] == expected
    scan.end_snapshot()
