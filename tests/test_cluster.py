"""A sharded catalogue served by a real local Ray cluster: reports byte-identical to a single
machine's, a shard or a checker killed mid-scan, an update during a scan, a scan with another
rule pack than the checkers checked with before.

One Ray cluster for the module (it takes seconds to start), started in this process and shut
down with it; the shard actors are stopped after each test."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from compliance.checks import load_pack
from compliance.cli.main import main
from compliance.ingest import load_document
from compliance.cluster.shards import Manifest, shard_of
from compliance.similarity import load_catalogue
from compliance.similarity.fingerprint import shingle_hashes
from compliance.similarity.index import MAX_BUCKET, BandIndex, IndexParameters, merge_key_matches, query_keys, source_keys
from compliance.similarity.matcher import BodyText
from compliance.similarity.store import IndexStore

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_scan  # noqa: E402

ray = pytest.importorskip("ray")

DEV = ROOT.parent / "shared" / "eval" / "dev"
if not DEV.is_dir():
    DEV = Path("/work/shared/eval/dev")
# A wire header opening this many sources: one bucket of band keys too full for a whole
# catalogue (more than MAX_BUCKET), but not for either of two shards.
STOCK_SOURCES = MAX_BUCKET + 150
GENERATED_SOURCES = MAX_BUCKET + 300


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    """A generated catalogue (JSONL) and reposts; the first sources share a wire header."""
    folder = tmp_path_factory.mktemp("generated")
    sources, bodies, _ = bench_scan.build_bodies(GENERATED_SOURCES, 96, seed=11)
    header = ("This story was provided by the newswire under the syndication agreement of the member desks and "
              "may be republished in whole or in part provided that the original byline is kept and the wire "
              "is credited in the first paragraph of every copy that appears on a member desk or its partner sites")
    stocked = [type(s)(s.id, s.publisher, (header + "\n\n" + s.text) if i < STOCK_SOURCES else s.text)
               for i, s in enumerate(sources)]
    bodies = [([header] + body) if i % 3 == 0 else body for i, body in enumerate(bodies)]
    return bench_scan.write_corpus(folder, stocked, bodies)


@pytest.fixture(scope="module")
def cluster():
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, namespace="compliance",
             logging_level="ERROR", log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture
def served(cluster):
    """Serve the shards at a folder (`serve(folder)`); stopped after the test."""
    def serve(folder: Path, *options: str) -> None:
        assert main(["cluster", "serve", "--index", str(folder), *options]) == 0
    yield serve
    assert main(["cluster", "stop"]) == 0


def scan_json(out: Path, *args: str) -> bytes:
    code = main(["scan", *args, "--no-state", "--format", "json", "--output", str(out), "-q"])
    assert code in (0, 1)
    return out.read_bytes()


def build(catalogue: Path, folder: Path, shards: int) -> None:
    assert main(["index", "build", "--sources", str(catalogue), "--shards", str(shards), "--index", str(folder), "-q"]) == 0


def test_shards_partition_the_catalogue_by_id_and_keep_its_numbers(generated, tmp_path, capsys):
    catalogue, _ = generated
    build(catalogue, tmp_path / "shards", 3)
    manifest = Manifest.load(tmp_path / "shards")
    assert manifest.shards == 3 and manifest.files == ("shard-0.db", "shard-1.db", "shard-2.db")
    sources = load_catalogue([catalogue]).sources
    seen = {}
    for number, path in enumerate(manifest.paths(tmp_path / "shards")):
        store = IndexStore.open(path)
        for source_id, row in store.db.execute("SELECT id, number FROM sources"):
            assert shard_of(source_id, 3) == number
            seen[source_id] = row
        store.close()
    assert seen == {source.id: position for position, source in enumerate(sources, start=1)}
    assert main(["index", "info", "--index", str(tmp_path / "shards"), "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["manifest"]["shards"] == 3 and sum(shard["sources"] for shard in info["shards"]) == GENERATED_SOURCES


def test_one_shard_is_a_valid_single_machine_index(generated, tmp_path):
    catalogue, reposts = generated
    build(catalogue, tmp_path / "one", 1)
    from_shard = scan_json(tmp_path / "a.json", str(reposts), "--index", str(tmp_path / "one" / "shard-0.db"))
    from_catalogue = scan_json(tmp_path / "b.json", str(reposts), "--sources", str(catalogue))
    assert from_shard == from_catalogue
    assert json.loads(from_shard)["summary"]["sources"] == GENERATED_SOURCES


def test_merged_shard_answers_rank_as_one_index(generated):
    """Every repost's candidates from two shards' answers, merged, are those of one index of
    the whole catalogue, also where a bucket is full only in the whole (the wire header)."""
    catalogue, reposts = generated
    parameters, settings = IndexParameters.of(load_pack().matching), load_pack().matching
    sources = load_catalogue([catalogue]).sources
    keys = [source_keys(source.text, parameters) for source in sources]
    whole = BandIndex.build(keys)
    shards = []
    for shard in range(2):
        mine = [n for n, source in enumerate(sources) if shard_of(source.id, 2) == shard]
        shards.append(BandIndex.grouped(np.concatenate([keys[n] for n in mine]),
                                        np.repeat(np.array(mine, np.int32), [len(keys[n]) for n in mine])))
    header_key = keys[0][np.isin(keys[0], keys[1])][0]
    counts = [int(np.count_nonzero(index.keys == header_key)) for index in [whole, *shards]]
    assert counts[0] > MAX_BUCKET >= max(counts[1:])  # the case a naive merge gets wrong
    queries = []
    for path in sorted(reposts.iterdir()):
        tokens = BodyText.of(load_document(path, path.name)).tokens()
        queries.append(query_keys(shingle_hashes(tokens.hashes, settings.shingle_words), parameters, settings.query_stride))
    bounds, start = [], 0
    for part in queries:
        bounds.append((start, start + len(part)))
        start += len(part)
    everything = np.concatenate(queries)
    merged = merge_key_matches([index.key_matches(everything) for index in shards], bounds, settings.max_candidates)
    assert merged == [whole.candidates_with_hits(q, settings.max_candidates) for q in queries]
    assert sum(1 for ranked in merged if ranked) > 60


@pytest.mark.skipif(not (DEV / "sources").is_dir(), reason="needs the dev evaluation set (../shared/eval/dev)")
def test_cluster_scan_of_the_dev_set_equals_a_single_machine_scan(served, tmp_path):
    build(DEV / "sources", tmp_path / "shards", 2)
    served(tmp_path / "shards")
    single = scan_json(tmp_path / "single.json", str(DEV / "reposts"), "--sources", str(DEV / "sources"))
    assert scan_json(tmp_path / "cluster.json", str(DEV / "reposts"), "--cluster", "auto") == single
    assert any(d["source"] for d in json.loads(single)["documents"])


def test_cluster_scan_of_a_generated_catalogue_equals_a_single_machine_scan(served, generated, tmp_path):
    """Checked by the checker served by default (one: two CPUs, less two shards), then, with
    none served, by tasks."""
    catalogue, reposts = generated
    build(catalogue, tmp_path / "shards", 2)
    served(tmp_path / "shards")
    single = scan_json(tmp_path / "single.json", str(reposts), "--sources", str(catalogue))
    assert scan_json(tmp_path / "cluster.json", str(reposts), "--cluster", "auto") == single
    assert [checker["chunks"] for checker in checkers()] == [3]  # 96 reposts, 32 a chunk
    ray.kill(checker_actor(0), no_restart=True)
    assert scan_json(tmp_path / "tasks.json", str(reposts), "--cluster", "auto") == single
    report = json.loads(single)
    assert sum(1 for d in report["documents"] if d["source"]) > 60 and report["summary"]["sources"] == GENERATED_SOURCES


def checker_actor(number: int):
    return ray.get_actor(f"checker-{number}", namespace="compliance")


def checkers() -> list[dict]:
    from compliance.cluster.service import checkers_status

    return checkers_status()


def shard_actor(number: int):
    return ray.get_actor(f"shard-{number}", namespace="compliance")


@pytest.fixture(scope="module")
def many(generated, tmp_path_factory) -> Path:
    """The generated reposts three times over, in three folders: nine chunks of work."""
    _, reposts = generated
    folder = tmp_path_factory.mktemp("many")
    for copy in "abc":
        (folder / copy).mkdir()
        for path in reposts.iterdir():
            (folder / copy / path.name).write_bytes(path.read_bytes())
    return folder


@pytest.fixture
def after_first_chunk(monkeypatch):
    """Run `action` when the scan has the results of its first chunk, and others are still to
    look up (the CLI's progress callback, which a quiet scan has none of); then the list holds
    (reposts done then, what `action` returned)."""
    done = []

    def install(action) -> list:
        class Once:
            def __call__(self, finished: int, total: int) -> None:
                if not done:
                    done.append((finished, action()))

            def finish(self) -> None:
                pass

        monkeypatch.setattr("compliance.cli.main.Progress.for_terminal", lambda *args, **kwargs: Once())
        return done
    return install


def test_a_shard_killed_mid_scan_is_restarted_and_the_report_is_complete(served, generated, many, after_first_chunk, tmp_path):
    catalogue, _ = generated
    build(catalogue, tmp_path / "shards", 2)
    served(tmp_path / "shards")
    single = scan_json(tmp_path / "single.json", str(many), "--sources", str(catalogue))
    killed = after_first_chunk(lambda: ray.kill(shard_actor(0), no_restart=False))
    report = scan_json(tmp_path / "cluster.json", str(many), "--cluster", "auto")
    assert killed and killed[0][0] < 288
    assert report == single
    assert ray.get(shard_actor(0).describe.remote())["restarted"]


def test_a_checker_killed_mid_scan_loses_nothing(served, generated, many, after_first_chunk, tmp_path):
    """One checker killed and restarted by Ray (its chunks run again), then, in another scan,
    one stopped for good (its chunks sent to the other): every repost reported once."""
    catalogue, _ = generated
    build(catalogue, tmp_path / "shards", 2)
    served(tmp_path / "shards", "--checkers", "2")
    single = scan_json(tmp_path / "single.json", str(many), "--sources", str(catalogue))
    killed = after_first_chunk(lambda: ray.kill(checker_actor(0), no_restart=False))
    assert scan_json(tmp_path / "restarted.json", str(many), "--cluster", "auto") == single
    assert killed and killed[0][0] < 288
    assert [checker["restarted"] for checker in checkers()] == [True, False]
    killed.clear()
    after_first_chunk(lambda: ray.kill(checker_actor(1), no_restart=True))
    assert scan_json(tmp_path / "stopped.json", str(many), "--cluster", "auto") == single
    assert killed and killed[0][0] < 288
    assert [checker["checker"] for checker in checkers()] == [0]


def test_a_scan_with_another_rule_pack_than_the_checkers_hold(served, generated, tmp_path):
    """The checkers keep the job of a scan with the default pack; a scan with another pack is
    checked with that pack, and the next default one with the default again."""
    catalogue, reposts = generated
    build(catalogue, tmp_path / "shards", 2)
    served(tmp_path / "shards")
    pack = tmp_path / "pack.yaml"
    pack.write_text("extends: default\nrules:\n  - id: attribution-missing\n    severity: warning\n", encoding="utf-8")
    default = scan_json(tmp_path / "default.json", str(reposts), "--cluster", "auto")
    other = scan_json(tmp_path / "other.json", str(reposts), "--cluster", "auto", "--rules", str(pack))
    assert other == scan_json(tmp_path / "single.json", str(reposts), "--sources", str(catalogue), "--rules", str(pack))
    assert other != default
    severities = {f["severity"] for d in json.loads(other)["documents"] for f in d["findings"] if f["rule"] == "attribution-missing"}
    assert severities == {"warning"}
    assert scan_json(tmp_path / "again.json", str(reposts), "--cluster", "auto") == default
    assert [checker["jobs"] for checker in checkers()] == [2]


def test_an_update_during_a_scan_goes_online_and_loses_nothing(served, generated, many, after_first_chunk, tmp_path):
    catalogue, reposts = generated
    build(catalogue, tmp_path / "shards", 2)
    served(tmp_path / "shards")
    before = json.loads(scan_json(tmp_path / "before.json", str(many), "--cluster", "auto"))
    # new sources: the bodies of reposts that copy nothing catalogued
    unmatched = sorted({Path(d["path"]).name for d in before["documents"] if d["source"] is None})[:20]
    assert len(unmatched) >= 10
    grown = tmp_path / "grown.jsonl"
    lines = catalogue.read_text().splitlines()
    for n, name in enumerate(unmatched):
        body = "\n\n".join((reposts / name).read_text().split("\n\n")[1:-1])  # no title, no disclaimer
        lines.append(json.dumps({"id": f"new-{n}", "publisher": "Newcomer", "text": body}))
    grown.write_text("\n".join(lines) + "\n")

    updated = after_first_chunk(lambda: main(["index", "update", "--sources", str(grown), "--cluster", "auto", "-q"]))
    during = json.loads(scan_json(tmp_path / "during.json", str(many), "--cluster", "auto"))
    assert updated and updated[0][1] == 0
    paths = [d["path"] for d in during["documents"]]
    assert paths == [d["path"] for d in before["documents"]]  # every repost once, none twice
    assert all(old == new for old, new in zip(before["documents"], during["documents"]) if Path(old["path"]).name not in unmatched)
    found_during = {d["path"] for d in during["documents"] if d["source"] and d["source"]["id"].startswith("new-")}
    assert found_during  # chunks checked after the update saw the new sources
    # after it, as a single machine's index updated with the same catalogue
    index = tmp_path / "index.db"
    assert main(["index", "build", "--sources", str(catalogue), "--index", str(index), "-q"]) == 0
    assert main(["index", "update", "--sources", str(grown), "--index", str(index), "-q"]) == 0
    single = scan_json(tmp_path / "single.json", str(reposts), "--index", str(index))
    after = scan_json(tmp_path / "after.json", str(reposts), "--cluster", "auto")
    assert after == single
    assert sum(1 for d in json.loads(after)["documents"] if d["source"] and d["source"]["id"].startswith("new-")) >= 10
    # persisted: a shard restarted from its file serves the new sources too
    ray.kill(shard_actor(1), no_restart=False)
    assert scan_json(tmp_path / "restarted.json", str(reposts), "--cluster", "auto") == single


def test_cluster_mistakes_are_one_line_errors(cluster, generated, tmp_path, capsys):
    catalogue, reposts = generated
    assert main(["scan", str(reposts), "--cluster", "auto", "--no-state", "-q"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "compliance: error: no shards are served on this cluster; start them with `compliance cluster serve --index DIR`"]
    assert main(["cluster", "serve", "--index", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    assert main(["scan", str(reposts), "--cluster", "auto", "--sources", str(catalogue), "--no-state"]) == 2
    assert "drop --index and --sources" in capsys.readouterr().err
    # shard files of two builds mixed in one folder: refused, nothing left served
    build(catalogue, tmp_path / "a", 2)
    lines = catalogue.read_text().splitlines()
    (tmp_path / "other.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    build(tmp_path / "other.jsonl", tmp_path / "b", 2)
    (tmp_path / "a" / "shard-1.db").write_bytes((tmp_path / "b" / "shard-1.db").read_bytes())
    assert main(["cluster", "serve", "--index", str(tmp_path / "a")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "served as shard 1 of 2" in error[0], error
    # more checkers than the cluster has CPUs for: refused before a shard starts
    assert main(["cluster", "serve", "--index", str(tmp_path / "b"), "--checkers", "3"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "compliance: error: --checkers 3: the cluster has 2 CPUs, and each checker takes one"]
    assert main(["cluster", "status"]) == 2


def test_shards_stopped_mid_scan_end_it_with_one_line(served, generated, many, after_first_chunk, tmp_path, capsys):
    catalogue, _ = generated
    build(catalogue, tmp_path / "shards", 2)
    served(tmp_path / "shards")
    stopped = after_first_chunk(lambda: ray.kill(shard_actor(1), no_restart=True))
    code = main(["scan", str(many), "--cluster", "auto", "--no-state", "-q", "--format", "json", "--output", str(tmp_path / "r.json")])
    assert stopped and code == 2 and not (tmp_path / "r.json").exists()
    assert capsys.readouterr().err.strip().splitlines() == [
        "compliance: error: shard 1 is no longer served (stopped by `compliance cluster stop`?); serve the index again and scan again"]
