"""Each rule type, passing and failing, on real articles and the real repost."""
from __future__ import annotations

import dataclasses

import pytest
from conftest import DISCLAIMER, SEED_REPOST, load, paragraphs, write_txt

from compliance.checks import check_document, load_pack
from compliance.checks.attribution import names_agree, registrable_domain
from compliance.model import License

VB = "sh-06e5123e4ef7"
NASA = "sh-42aad16bde92"


def rules_found(path, matcher, pack):
    document = load(path)
    return {f.rule: f for f in check_document(document, matcher.match(document), pack)}


@pytest.fixture
def vb_body(corpus):
    return paragraphs(corpus[VB])


# -- the real repost ---------------------------------------------------------------------

def test_seed_repost_gives_exactly_attribution_missing_and_caption_duplicated(default_pack):
    from compliance.similarity import Matcher, load_catalogue

    sources = load_catalogue([SEED_REPOST.parent.parent / "sources"]).sources
    seed_matcher = Matcher.build(sources, default_pack.matching, (DISCLAIMER,))
    document = load(SEED_REPOST)
    findings = check_document(document, seed_matcher.match(document), default_pack)
    assert sorted(f.rule for f in findings) == ["attribution-missing", "caption-duplicated"]
    missing = next(f for f in findings if f.rule == "attribution-missing")
    assert "Newsweek" in missing.message
    caption = next(f for f in findings if f.rule == "caption-duplicated")
    assert caption.line == 18
    first, second = caption.evidence["first"], caption.evidence["second"]
    assert first["text"].endswith("hundreds of missiles...")
    assert second["text"].startswith("This illustrative image") and second["text"].endswith("between the allies.")
    assert first["chars"][1] <= second["chars"][0]


# -- disclaimer-missing (required-text) ----------------------------------------------------

@pytest.mark.parametrize("variant", [
    DISCLAIMER,
    DISCLAIMER.upper(),
    DISCLAIMER.replace(" ", "\u00a0").replace("article", "arrticle", 1).replace("Thank you", "Thank  you"),
    DISCLAIMER.replace("Disclaimer:", "Disclaimer -").replace("original", "origiinal"),
])
def test_disclaimer_with_case_spacing_and_typos_passes(tmp_path, matcher, default_pack, vb_body, variant):
    path = write_txt(tmp_path, "r.txt", "T", ["Source: VentureBeat"] + vb_body + [variant])
    assert "disclaimer-missing" not in rules_found(path, matcher, default_pack)


def test_disclaimer_split_over_lines_passes(tmp_path, matcher, default_pack, vb_body):
    wrapped = "\n".join(DISCLAIMER[i : i + 60] for i in range(0, len(DISCLAIMER), 60))
    path = write_txt(tmp_path, "r.txt", "T", ["Source: VentureBeat"] + vb_body + [wrapped])
    assert "disclaimer-missing" not in rules_found(path, matcher, default_pack)


def test_missing_disclaimer_fails(tmp_path, matcher, default_pack, vb_body):
    path = write_txt(tmp_path, "r.txt", "T", ["Source: VentureBeat"] + vb_body)
    finding = rules_found(path, matcher, default_pack)["disclaimer-missing"]
    assert "missing" in finding.message


def test_partial_disclaimer_fails_and_shows_what_was_found(tmp_path, matcher, default_pack, vb_body):
    first_sentence = DISCLAIMER.split(". ")[0] + "."
    path = write_txt(tmp_path, "r.txt", "T", ["Source: VentureBeat"] + vb_body + [first_sentence])
    finding = rules_found(path, matcher, default_pack)["disclaimer-missing"]
    assert "partly" in finding.message
    assert finding.evidence["closest"] == first_sentence
    assert finding.line == 6 + 2 * (len(vb_body) + 1)


# -- attribution-missing / attribution-mismatch ---------------------------------------------

@pytest.mark.parametrize("credit", [
    "Source: VentureBeat",
    "Originally published by venturebeat",
    "Originally published in VentureBeat.",
    "Credit: VENTUREBEAT",
    "Courtesy of VentureBeat",
    "Via venturebeat.com",
    "This article first appeared on VentureBeat",
    "Reprinted from VentureBeat",
    "Source: https://venturebeat.com/2019/11/18/some-story/",
])
def test_each_attribution_form_credits_the_source(tmp_path, matcher, default_pack, vb_body, credit):
    path = write_txt(tmp_path, "r.txt", "T", [credit] + vb_body + [DISCLAIMER])
    found = rules_found(path, matcher, default_pack)
    assert "attribution-missing" not in found and "attribution-mismatch" not in found


def test_an_alias_credits_the_source(tmp_path, catalogue, default_pack, vb_body):
    from compliance.similarity import Matcher

    sources = [dataclasses.replace(s, aliases=("VB News Desk",)) for s in catalogue.sources]
    aliased = Matcher.build(sources, default_pack.matching, (DISCLAIMER,))
    path = write_txt(tmp_path, "r.txt", "T", ["Source: VB News Desk"] + vb_body + [DISCLAIMER])
    assert "attribution-mismatch" not in rules_found(path, aliased, default_pack)


def test_copy_without_credit_fails_attribution_missing(tmp_path, matcher, default_pack, vb_body):
    path = write_txt(tmp_path, "r.txt", "T", vb_body + [DISCLAIMER])
    found = rules_found(path, matcher, default_pack)
    assert "VentureBeat" in found["attribution-missing"].message
    assert "attribution-mismatch" not in found


def test_credit_to_another_publisher_fails_attribution_mismatch(tmp_path, matcher, default_pack, vb_body):
    path = write_txt(tmp_path, "r.txt", "T", ["Source: TechCrunch"] + vb_body + [DISCLAIMER])
    found = rules_found(path, matcher, default_pack)
    assert found["attribution-mismatch"].line == 6
    assert "TechCrunch" in found["attribution-mismatch"].message
    assert "attribution-missing" not in found


def test_original_writing_needs_no_attribution(tmp_path, matcher, default_pack):
    body = ["We wrote this ourselves: the council met on Tuesday and agreed to repaint the bridge in spring.", DISCLAIMER]
    assert rules_found(write_txt(tmp_path, "r.txt", "T", body), matcher, default_pack) == {}


def test_a_link_to_the_source_site_counts_as_credit(tmp_path, matcher, default_pack, corpus, vb_body):
    html = "<article>" + "".join(f"<p>{p}</p>" for p in vb_body)
    html += f'<p><a href="{corpus[VB]["url"]}">Read more</a></p><p>{DISCLAIMER}</p></article>'
    path = tmp_path / "r.html"
    path.write_text(html, encoding="utf-8")
    assert rules_found(path, matcher, default_pack) == {}


@pytest.mark.parametrize("credited, publisher, agrees", [
    ("The Guardian", "Guardian", True),
    ("cnn.com", "CNN", True),
    ("Phys.org", "Phys", True),
    ("Business Insider", "Business Insider Deutschland", True),
    ("Fox Business", "Fox News", False),
    ("Reuters", "Newsweek", False),
])
def test_publisher_names_compare_as_desks_write_them(credited, publisher, agrees):
    assert names_agree(credited, publisher) is agrees


def test_registrable_domain_handles_country_second_levels():
    assert registrable_domain("https://www.express.co.uk/news/x") == "express.co.uk"
    assert registrable_domain("https://money.cnn.com/a") == "cnn.com"


# -- caption-duplicated (repetition) --------------------------------------------------------

def test_figcaption_pasted_twice_fails(tmp_path, matcher, default_pack, corpus):
    body = paragraphs(corpus[NASA])
    caption = corpus[NASA]["captions"][0]
    figure = f"<figure><img src='a.jpg'><figcaption>{caption}</figcaption></figure>\n"
    html = "<article>\n<p>Source: Al Jazeera</p>\n" + figure + figure + "".join(f"<p>{p}</p>\n" for p in body) + f"<p>{DISCLAIMER}</p></article>"
    path = tmp_path / "r.html"
    path.write_text(html, encoding="utf-8")
    finding = rules_found(path, matcher, default_pack)["caption-duplicated"]
    assert (finding.evidence["first"]["line"], finding.evidence["second"]["line"]) == (3, 4)


def test_single_caption_passes(tmp_path, matcher, default_pack, corpus):
    caption = corpus[NASA]["captions"][0]
    body = ["Source: Al Jazeera", caption] + paragraphs(corpus[NASA]) + [DISCLAIMER]
    assert rules_found(write_txt(tmp_path, "r.txt", "T", body), matcher, default_pack) == {}


def test_paragraph_pasted_twice_fails_but_short_labels_do_not(tmp_path, matcher, default_pack, vb_body):
    body = ["Source: VentureBeat", "Advertisement", vb_body[0], "Advertisement", vb_body[0]] + vb_body[1:] + [DISCLAIMER]
    found = rules_found(write_txt(tmp_path, "r.txt", "T", body), matcher, default_pack)
    assert found["caption-duplicated"].evidence["first"]["line"] == 10


def test_repetition_the_source_itself_has_passes(tmp_path, default_pack):
    from compliance.model import Source
    from compliance.similarity import Matcher

    chorus = "The river rose again last night and the town council met at dawn to plan the response."
    verses = [f"Verse {n}: residents of street number {n} described how the water reached their doors before midnight." for n in range(6)]
    text = "\n\n".join(verses[:3] + [chorus] + verses[3:] + [chorus])
    own_matcher = Matcher.build([Source("river", "Town Gazette", text)], default_pack.matching, (DISCLAIMER,))
    path = write_txt(tmp_path, "r.txt", "T", ["Source: Town Gazette"] + text.split("\n\n") + [DISCLAIMER])
    assert "caption-duplicated" not in rules_found(path, own_matcher, default_pack)


def test_a_line_the_source_itself_extends_later_passes_but_a_cut_off_copy_fails(tmp_path, default_pack):
    # A meal plan lists a dish, and later the same dish with a side: the author's, not a paste.
    from compliance.model import Source
    from compliance.similarity import Matcher

    dish = "Tomato Cucumber Salad with cherry tomatoes, cucumber slices, feta and balsamic vinegar"
    days = [f"Day {n}: walk for {20 + n} minutes after breakfast and drink water before every one of the meals." for n in range(6)]
    text = "\n\n".join(days[:3] + [dish] + days[3:] + [dish + ", and one cup of grapes"])
    own_matcher = Matcher.build([Source("plan", "Meal Gazette", text)], default_pack.matching, (DISCLAIMER,))
    path = write_txt(tmp_path, "r.txt", "T", ["Source: Meal Gazette"] + text.split("\n\n") + [DISCLAIMER])
    assert "caption-duplicated" not in rules_found(path, own_matcher, default_pack)
    cut = write_txt(tmp_path, "c.txt", "T", ["Source: Meal Gazette", dish[:50] + "...", *text.split("\n\n"), DISCLAIMER])
    assert "caption-duplicated" in rules_found(cut, own_matcher, default_pack)


def test_figures_alone_repeated_are_no_repeat(tmp_path, matcher, default_pack, vb_body):
    scores = "2, 3, 5, 2, 3, 12, 5, 3, 4, 7"  # a table's row, twice: data, not a caption pasted twice
    body = ["Source: VentureBeat", scores, *vb_body, scores, DISCLAIMER]
    assert "caption-duplicated" not in rules_found(write_txt(tmp_path, "r.txt", "T", body), matcher, default_pack)


# -- excerpt-limit ---------------------------------------------------------------------------

@pytest.fixture
def licensed_matcher(catalogue, default_pack):
    def build(license_, max_excerpt=None):
        from compliance.similarity import Matcher

        sources = [dataclasses.replace(s, license=license_, max_excerpt=max_excerpt) for s in catalogue.sources]
        return Matcher.build(sources, default_pack.matching, (DISCLAIMER,))
    return build


def test_excerpt_within_the_licence_passes(tmp_path, licensed_matcher, default_pack, vb_body):
    path = write_txt(tmp_path, "r.txt", "T", ["Source: VentureBeat"] + vb_body[:2] + [DISCLAIMER])
    assert "excerpt-limit" not in rules_found(path, licensed_matcher(License.EXCERPT, 0.3), default_pack)


def test_excerpt_over_the_licence_fails(tmp_path, licensed_matcher, default_pack, vb_body):
    path = write_txt(tmp_path, "r.txt", "T", ["Source: VentureBeat"] + vb_body + [DISCLAIMER])
    finding = rules_found(path, licensed_matcher(License.EXCERPT, 0.3), default_pack)["excerpt-limit"]
    assert "30%" in finding.message and finding.evidence["coverage"] > 0.9


def test_any_reuse_of_a_none_licence_fails(tmp_path, licensed_matcher, default_pack, vb_body):
    path = write_txt(tmp_path, "r.txt", "T", ["Source: VentureBeat"] + vb_body[:3] + [DISCLAIMER])
    assert "allows no reuse" in rules_found(path, licensed_matcher(License.NONE), default_pack)["excerpt-limit"].message


# -- forbidden-text, paths, disabled rules, custom messages ----------------------------------

def test_forbidden_text_and_pack_options(tmp_path, matcher, vb_body):
    pack_file = tmp_path / "desk.yaml"
    pack_file.write_text(
        "extends: default\nrules:\n"
        "  - id: no-player-debris\n    type: forbidden-text\n    severity: warning\n    patterns: ['media playback is unsupported']\n"
        "  - id: attribution-missing\n    message: 'credit {publisher}!'\n"
        "  - id: disclaimer-missing\n    enabled: false\n"
        "  - id: caption-duplicated\n    paths: ['politics/*']\n",
        encoding="utf-8",
    )
    pack = load_pack(pack_file)
    body = ["Media playback is unsupported on your device", vb_body[0], vb_body[0]] + vb_body[1:]
    found = rules_found(write_txt(tmp_path, "r.txt", "T", body), matcher, pack)
    assert set(found) == {"no-player-debris", "attribution-missing"}
    assert found["attribution-missing"].message == "credit VentureBeat!"


def _all_pairs_repeats(blocks, min_words, min_similarity):
    """The rule of `block_repeats` tried on every pair, as it was first written (the oracle)."""
    from compliance.checks.rules.repetition import _ELLIPSIS, _nearly_alike, _worded
    from compliance.similarity.tokens import normalize_text

    prepared = [(b, normalize_text(b.text)) for b in blocks if _worded(normalize_text(b.text).split()) >= min_words]
    found = []
    for i, (first, first_norm) in enumerate(prepared):
        cut_off = _ELLIPSIS.search(first.text[-4:]) is not None
        for second, second_norm in prepared[i + 1 :]:
            one, other = set(first_norm.split()), set(second_norm.split())
            related = len(one & other) * 2 >= min(len(one), len(other))
            if first_norm == second_norm or (related and _nearly_alike(first_norm, second_norm, min_similarity)) \
                    or (cut_off and second_norm.startswith(first_norm)):
                found.append((first.line, second.line))
                break
    return found


def test_block_repeats_finds_what_trying_every_pair_finds(corpus):
    import random

    from compliance.checks.rules.repetition import block_repeats
    from compliance.model import Block, BlockKind

    rng = random.Random(3)
    texts = [p for article in corpus.values() for p in paragraphs(article)]
    for _ in range(300):
        chosen = rng.sample(texts, rng.randint(2, 12))
        for _ in range(rng.randint(0, 3)):  # pasted again: whole, cut off, credited, or lightly edited
            text = rng.choice(chosen)
            words = text.split()
            variant = rng.choice([
                text, " ".join(words[: len(words) // 2]) + "...", text + " (AP Photo/Staff)",
                " ".join(w if rng.random() > 0.03 else "x" for w in words),
                # normalising changes these words' lengths ("ﬁ" is "fi", "ß" case-folds to "ss"),
                # or splits one in two (U+FDFA): the quick pair tests must allow for it
                text.replace("fi", "ﬁ").replace("ss", "ß"), text.replace("e", "é").upper(), text + " \ufdfa",
            ])
            chosen.insert(rng.randint(0, len(chosen)), variant)
        blocks = [Block(BlockKind.PARAGRAPH, text, 2 * i + 1, 2 * i + 1) for i, text in enumerate(chosen)]
        for min_similarity in (92.0, 80.0):
            ours = [(r.first_block.line, r.second_block.line) for r in block_repeats(blocks, 6, min_similarity)]
            assert ours == _all_pairs_repeats(blocks, 6, min_similarity)


@pytest.mark.parametrize("ellipsis", ["", "...", ". . .", ".\u00a0.\u00a0.", ".\n.", "…", "..", ". ."])
def test_blocks_that_may_hold_an_ellipsis_are_those_whose_own_text_does(corpus, ellipsis):
    """The whole text is searched once before the blocks are read one by one: a block's answer
    must be what its own text says, wherever the ellipsis stands and whatever separates its
    full stops."""
    import random
    import re

    from compliance.checks.rules.repetition import _ELLIPSIS, BlockText
    from compliance.model import Block, BlockKind

    rng = random.Random(len(ellipsis))
    texts = [p for article in corpus.values() for p in paragraphs(article)]
    for _ in range(50):
        chosen = rng.sample(texts, rng.randint(1, 8))
        if ellipsis:
            where = rng.randrange(len(chosen))
            text = chosen[where]
            at = rng.choice([0, len(text) // 2, len(text)])
            chosen[where] = text[:at] + ellipsis + text[at:]
        blocks = [Block(BlockKind.PARAGRAPH, text, i + 1, i + 1) for i, text in enumerate(chosen)]
        text = BlockText(blocks)
        assert text.may_hold_ellipses == [re.search(r"\.\s?\.|…", b.text) is not None for b in blocks]
        assert text.cut_off == [_ELLIPSIS.search(b.text[-4:]) is not None for b in blocks]
        assert any(text.may_hold_ellipses) or not ellipsis
