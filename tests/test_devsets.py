"""benchmarks/devsets.py: the same seed writes the same sets, and their truth holds together."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import devsets  # noqa: E402

pytestmark = pytest.mark.skipif(not (devsets.SHARED / "corpus" / "articles.jsonl").exists(),
                                reason="needs the shared corpus beside the checkout (../shared/corpus)")
SIZES = {kind: 10 for kind in devsets.KINDS}
RULES = {"disclaimer-missing", "attribution-missing", "attribution-mismatch", "caption-duplicated", "excerpt-limit"}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    out = tmp_path_factory.mktemp("devsets")
    return out, devsets.generate(out, seed=3, sizes=SIZES)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def publisher(source: Path) -> str:
    return json.loads(re.search(r"^publisher: (.*)$", source.read_text(encoding="utf-8"), re.MULTILINE).group(1))


def test_the_same_seed_writes_the_same_bytes(written, tmp_path):
    out, _ = written
    devsets.generate(tmp_path, seed=3, sizes=SIZES)
    assert files(tmp_path) == files(out)


def test_every_repost_has_a_truth_and_every_truth_a_repost(written):
    out, truths = written
    for kind, truth in truths.items():
        on_disk = {str(p.relative_to(out / kind / "reposts")) for p in (out / kind / "reposts").rglob("*") if p.is_file()}
        assert on_disk == set(truth), kind
        assert len(truth) == SIZES[kind]
        assert json.loads((out / kind / "truth.json").read_text()) == truth


def test_truths_name_real_sources_primary_first_and_known_rules(written):
    out, truths = written
    for kind, truth in truths.items():
        catalogue = {p.stem for p in (out / kind / "sources").glob("*.md")}
        for path, t in truth.items():
            assert t["source"] == (t["sources"][0] if t["sources"] else None), path
            assert set(t["sources"]) <= catalogue and len(set(t["sources"])) == len(t["sources"]), path
            assert set(t["rules"]) <= RULES and "caption-duplicated" not in t["rules"], path


def test_roundups_copy_two_or_three_publishers_and_distractors_none(written):
    out, truths = written
    for path, t in truths["roundups"].items():
        pubs = [publisher(out / "roundups" / "sources" / f"{s}.md") for s in t["sources"]]
        assert len(pubs) in (2, 3) and devsets.distinct(pubs), path
    for path, t in truths["distractors"].items():
        assert t["sources"] == [] and not {"attribution-missing", "attribution-mismatch", "excerpt-limit"} & set(t["rules"]), path


def test_the_disclaimer_is_the_seed_reposts_unless_the_truth_says_missing(written):
    out, truths = written
    disclaimer = devsets.seed_disclaimer(devsets.SHARED)
    for kind, truth in truths.items():
        for path, t in truth.items():
            text = " ".join((out / kind / "reposts" / path).read_text(encoding="utf-8").split())
            assert (disclaimer in text) == ("disclaimer-missing" not in t["rules"]), path


@pytest.mark.parametrize(("copied", "credited", "rules"), [
    (["A"], ["A"], set()),
    (["A"], [], {"attribution-missing"}),
    (["A"], ["C"], {"attribution-mismatch"}),  # a wrong credit alone: the mismatch, as in the dev set
    (["A", "B"], ["A", "B"], set()),
    (["A", "B"], ["B"], {"attribution-missing"}),  # B is copied too: no mismatch
    (["A", "B"], ["A", "B", "C"], {"attribution-mismatch"}),
    (["A", "B"], ["B", "C"], {"attribution-missing", "attribution-mismatch"}),
    ([], [], set()),
])
def test_attribution_truth(copied, credited, rules):
    assert devsets.attribution_rules(copied, credited) == rules


def test_chrome_is_diffed_out_of_real_pages_and_credits_nobody():
    gen = devsets.Generator(devsets.SHARED / "corpus", 3, devsets.seed_disclaimer(devsets.SHARED))
    assert len(gen.chrome) >= 50
    for page in gen.chrome.values():
        article = devsets.norm(" ".join(gen.articles[page.page].paras))
        assert page.lines
        for line in page.lines:
            assert devsets.norm(line) not in article, line
            assert not devsets._CREDITISH.search(line) and not devsets._CODEISH.search(line), line
