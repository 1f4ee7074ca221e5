"""A catalogue change re-checks only the reposts it can affect, and the findings stay those of a
full scan: a seeded random sequence of sources added, edited and removed, and reposts added,
edited and removed, on real articles, each run compared with a fresh `--no-state` scan."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
from conftest import DISCLAIMER, ROOT, write_txt

from compliance.cli.main import main

sys.path.insert(0, str(ROOT / "benchmarks"))
import devsets  # noqa: E402

import bench_scan  # noqa: E402

ARTICLES = devsets.SHARED / "corpus" / "articles.jsonl"


def load_articles() -> list[dict]:
    """The shared corpus's real articles; where the checkout has none beside it (a clean CI
    clone), generated ones of the benchmark's kind, so that the property is still tested."""
    if ARTICLES.exists():
        return [json.loads(line) for line in ARTICLES.read_text(encoding="utf-8").splitlines()]
    words = bench_scan.vocabulary(random.Random(5))
    return [{"id": f"gen-{n:03d}", "publisher": f"Publisher {n % 23}", "title": f"Story {n}", "text": "\n".join(body)}
            for n, body in enumerate(bench_scan.articles(7, 120, words))]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if len(p.split()) >= 8]


class Desk:
    """A desk's catalogue (one JSONL file a source) and reposts, changed at random between runs."""

    def __init__(self, root: Path, seed: int, use_index: bool):
        self.root, self.rng, self.use_index = root, random.Random(seed), use_index
        articles = load_articles()
        articles = [a for a in articles if len(paragraphs(a["text"])) >= 6 and a.get("publisher")]
        self.rng.shuffle(articles)
        self.articles = {a["id"]: a for a in articles}
        self.pool = [a["id"] for a in articles[60:90]]  # not catalogued yet; some reposts copy them already
        self.catalogued: dict[str, dict] = {}
        (root / "sources").mkdir()
        (root / "reposts").mkdir()
        for article in articles[:60]:
            self.write_source(article["id"], article["text"], article["publisher"])
        self.reposts = 0
        for _ in range(30):
            self.add_repost()

    # --- the catalogue

    def write_source(self, source_id: str, text: str, publisher: str) -> None:
        article = self.articles.get(source_id.split("~")[0], {})
        record = {"id": source_id, "publisher": publisher, "title": article.get("title") or source_id, "text": text}
        (self.root / "sources" / f"{source_id}.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
        self.catalogued[source_id] = record

    def add_source(self) -> None:
        rng = self.rng
        if self.pool and rng.random() < 0.8:
            source_id = self.pool.pop(rng.randrange(len(self.pool)))
            self.write_source(source_id, self.articles[source_id]["text"], self.articles[source_id]["publisher"])
        else:  # another version of a catalogued story (a wire story's rewrite): near ties
            original = self.catalogued[rng.choice(sorted(self.catalogued))]
            body = paragraphs(original["text"])
            del body[rng.randrange(len(body))]
            self.write_source(f"{original['id'].split('~')[0]}~{rng.randrange(10**6)}", "\n".join(body), "Wire Service")

    def edit_source(self) -> None:
        source_id = self.rng.choice(sorted(self.catalogued))
        record = self.catalogued[source_id]
        if self.rng.random() < 0.5:
            self.write_source(source_id, record["text"], record["publisher"] + " Online")
        else:
            body = paragraphs(record["text"])
            keep = self.rng.sample(range(len(body)), max(2, len(body) // 2))
            self.write_source(source_id, "\n".join(body[i] for i in sorted(keep)), record["publisher"])

    def remove_source(self, source_id: str | None = None) -> str:
        source_id = source_id or self.rng.choice(sorted(self.catalogued))
        (self.root / "sources" / f"{source_id}.jsonl").unlink()
        del self.catalogued[source_id]
        return source_id

    # --- the reposts

    def body(self) -> list[str]:
        rng = self.rng
        kind = rng.random()
        known = sorted(self.catalogued) + self.pool
        if kind < 0.3:  # an edited copy
            body = paragraphs(self.text_of(rng.choice(known)))
            return [p.replace(" the ", " a ", 1) if rng.random() < 0.3 else p for p in body]
        if kind < 0.45:  # an excerpt
            body = paragraphs(self.text_of(rng.choice(known)))
            return body[: max(3, len(body) // 3)]
        if kind < 0.8:  # a roundup of two or three stories
            body = []
            for source_id in rng.sample(known, rng.choice((2, 3))):
                parts = paragraphs(self.text_of(source_id))
                start = rng.randrange(max(1, len(parts) - 5))
                body += [rng.choice(["Also making news:", "Elsewhere this morning:", "And from abroad:"]), *parts[start:start + 5]]
            return body
        # original writing: words of several articles, no run of them long enough to be copying
        words = [w for source_id in rng.sample(known, 3) for w in self.text_of(source_id).split()[:400]]
        rng.shuffle(words)
        return [" ".join(words[i:i + 60]) for i in range(0, 600, 60)]

    def text_of(self, source_id: str) -> str:
        record = self.catalogued.get(source_id)
        return record["text"] if record else self.articles[source_id]["text"]

    def add_repost(self) -> None:
        self.reposts += 1
        write_txt(self.root / "reposts", f"r{self.reposts:03d}.txt", f"Repost {self.reposts}", [*self.body(), DISCLAIMER])

    def edit_repost(self) -> None:
        path = self.rng.choice(sorted((self.root / "reposts").iterdir()))
        write_txt(self.root / "reposts", path.name, f"Edited {path.stem}", [*self.body(), DISCLAIMER])

    def remove_repost(self) -> None:
        self.rng.choice(sorted((self.root / "reposts").iterdir())).unlink()

    # --- scans

    def scan(self, *extra: str, name: str) -> dict:
        output = self.root / name
        index = ["--index", str(self.root / "index.db")] if self.use_index else []
        code = main(["scan", str(self.root / "reposts"), "--sources", str(self.root / "sources"), *index, "--format", "json",
                     "--output", str(output), "-q", "--fail-on", "never", "--jobs", "1", *extra])
        assert code == 0
        return json.loads(output.read_text(encoding="utf-8"))


@pytest.mark.parametrize("use_index", [True, False], ids=["index", "catalogue"])
def test_random_catalogue_changes_give_the_findings_of_a_full_scan(tmp_path, monkeypatch, use_index):
    monkeypatch.chdir(tmp_path)
    desk = Desk(tmp_path, 22, use_index)
    state = ("--state", str(tmp_path / "state.db"))
    first = desk.scan(*state, name="first.json")
    assert first["summary"]["incremental"]["rechecked"] == first["summary"]["documents"] == 30
    assert any(len(d["sources"]) >= 2 for d in first["documents"])  # roundups matched to several sources
    previous, rechecked, documents = first, 0, 0
    for run in range(6):
        rng = desk.rng
        for _ in range(rng.randint(1, 3)):
            desk.add_source()
        for _ in range(rng.randint(0, 2)):
            desk.edit_source()
        removed_second = None
        if run == 2:  # the second source of a roundup leaves the catalogue
            roundup = next(d for d in previous["documents"] if len(d["sources"]) >= 2)
            removed_second = (roundup["path"], desk.remove_source(roundup["sources"][1]["id"]))
        elif rng.random() < 0.7:
            desk.remove_source()
        if run == 4:  # the second source of a roundup is edited: its text is now another article's
            roundup = next(d for d in previous["documents"] if len(d["sources"]) >= 2 and d["sources"][1]["id"] in desk.catalogued)
            edited = roundup["sources"][1]["id"]
            copied = (desk.root / "reposts" / Path(roundup["path"]).name).read_text(encoding="utf-8")
            other = next(i for i in reversed(desk.pool) if not any(p in copied for p in paragraphs(desk.articles[i]["text"])))
            desk.pool.remove(other)  # an article the roundup does not copy
            desk.write_source(edited, desk.articles[other]["text"], "Renamed Publisher")
        if run % 2:  # every other run, the reposts change too
            desk.add_repost()
            desk.edit_repost()
            desk.remove_repost()
        report = desk.scan(*state, name=f"run{run}.json")
        full = desk.scan("--no-state", name=f"full{run}.json")
        assert report["documents"] == full["documents"], f"run {run}: the incremental scan differs from a full one"
        assert report["summary"]["findings"] == full["summary"]["findings"]
        if removed_second:
            path, source_id = removed_second
            after = next(d for d in report["documents"] if d["path"] == path)
            assert source_id not in [s["id"] for s in after["sources"]]
        if run == 4:
            assert edited not in [s["id"] for s in next(d for d in report["documents"] if d["path"] == roundup["path"])["sources"]]
        rechecked += report["summary"]["incremental"]["rechecked"]
        documents += report["summary"]["documents"]
        previous = report
    # most reposts are untouched by a few sources changing: they come from the state
    assert rechecked < documents / 2, (rechecked, documents)
