"""Real-world copies, on real articles: roundups of several sources, wire stories wrapped in
site debris, several versions of one story in the catalogue, and same-event reporting that
must not be taken for copying."""
from __future__ import annotations

import dataclasses
import json

import jsonschema
import pytest
from conftest import DATA, DISCLAIMER, ROOT, load, paragraphs, write_txt

from compliance.checks import check_document
from compliance.checks.attribution import credit_test
from compliance.cli.main import main
from compliance.model import License, Source
from compliance.similarity import Matcher
from compliance.similarity.tokens import tokenize

VB, NASA, FOX, HILL = "sh-06e5123e4ef7", "sh-42aad16bde92", "sh-51374560f400", "sh-156770d676ce"
CBS, NBC, NJ = "sh-2c46804d9db4", "sh-51d066b0602c", "sh-3f65af7b6b98"
BARRONS, FORBES, MSN = "sh-f8ff621a0b9b", "sh-a078b3656adc", "sh-9eef8162bbb6"

# What a page around a syndicated story holds besides the story: written for these tests,
# after the chrome of real news sites.
CHROME_TOP = [
    "Subscribe now and get unlimited access to every story for just $1 a week. Already a subscriber? Log in",
    "SIGN UP",
    "Home | News | Business | Politics | Sports | Entertainment | Opinion | Weather",
    "Trending now: Holiday travel forecast; High school football playoffs; City council votes on the new budget",
]
CHROME_BOTTOM = [
    "Share this article: Facebook Twitter Email Print",
    "Get the morning briefing: the day's top stories, delivered to your inbox every weekday. Enter your email address",
    "More from our newsroom",
    "Police identify driver in fatal crash on the interstate",
    "Five restaurants opening downtown this winter",
    "High school basketball: scores and highlights from Friday night",
    "Letters to the editor: readers weigh in on the proposed library closures",
    "Copyright 2019 The Daily Courier. All rights reserved. This material may not be published, broadcast, "
    "rewritten or redistributed. Terms of Service | Privacy Policy | Cookie Settings | Contact us",
]
# Another site's: a catalogued page wrapped in chrome shares none of the repost's.
OTHER_SITE = [
    "You have 3 free articles left this month. Become a member to keep reading.",
    "Markets | Tech | Retail | Personal Finance | Video",
    "Sign up for the Markets Daily newsletter and never miss a move. By signing up you agree to our terms.",
    "Related: Target raises its forecast as holiday shopping starts early",
    "Related: Lowe's beats estimates and lifts its outlook for the year",
    "Comments (0) Log in to join the conversation",
]


@pytest.fixture(scope="module")
def more(corpus) -> dict[str, dict]:
    """The corpus and the same-event articles, by id."""
    lines = (DATA / "same-event.jsonl").read_text(encoding="utf-8").splitlines()
    return {**corpus, **{record["id"]: record for record in map(json.loads, lines)}}


def build(default_pack, sources: list[Source], **settings) -> Matcher:
    matching = dataclasses.replace(default_pack.matching, **settings)
    return Matcher.build(sources, matching, (DISCLAIMER,))


def source(record: dict, text: str | None = None, **changes) -> Source:
    return Source(record["id"], record["publisher"], record["text"] if text is None else text,
                  url=record.get("url"), title=record.get("title"), **changes)


def rules_of(findings) -> list[str]:
    return sorted(f.rule for f in findings)


# -- roundups -------------------------------------------------------------------------------

INTROS = ["Here is what happened overnight.", "Also making news this morning:", "And finally, from elsewhere:"]


def roundup(corpus, *parts: tuple[str, slice]) -> list[str]:
    """Paragraphs of each article in turn, each section opened by a line of the desk's own."""
    body = []
    for intro, (article, which) in zip(INTROS, parts):
        body.append(intro)
        body += paragraphs(corpus[article])[which]
    return body


def teasers(corpus, *articles: str) -> list[str]:
    """The site's other stories, by their first paragraphs (each far shorter than a long run)."""
    return [paragraphs(corpus[article])[0] for article in articles]


def test_a_roundup_of_two_articles_matches_both_the_most_copied_first(tmp_path, corpus, matcher):
    body = roundup(corpus, (FOX, slice(4, 8)), (NASA, slice(0, 5)))  # 156 words of Fox Business, 217 of Al Jazeera
    matches = matcher.all_matches(load(write_txt(tmp_path, "r.txt", "Roundup", body + [DISCLAIMER])))
    assert [m.source.id for m in matches] == [NASA, FOX]
    assert matches[0].copied_words > matches[1].copied_words > 140
    assert matcher.match(load(tmp_path / "r.txt")).source.id == NASA
    nasa_lines = {line for span in matches[0].spans for line in range(span.line, span.end_line + 1)}
    fox_lines = {line for span in matches[1].spans for line in range(span.line, span.end_line + 1)}
    assert not nasa_lines & fox_lines and min(nasa_lines) > max(fox_lines)


def test_a_roundup_of_three_articles_matches_each(tmp_path, corpus, matcher):
    body = roundup(corpus, (HILL, slice(0, 6)), (FOX, slice(4, 8)), (NASA, slice(0, 5)))
    matches = matcher.all_matches(load(write_txt(tmp_path, "r.txt", "Roundup", body)))
    assert [m.source.id for m in matches] == [NASA, HILL, FOX]
    assert all(m.containment < 0.45 and m.coverage < 0.75 for m in matches)  # each a minority of the roundup


def test_a_roundup_crediting_one_source_misses_the_others_by_name(tmp_path, corpus, matcher, default_pack):
    """Crediting the source copied less is no mismatch: the one copied more is the one not credited."""
    body = ["Source: Fox Business"] + roundup(corpus, (FOX, slice(4, 8)), (NASA, slice(0, 5))) + [DISCLAIMER]
    document = load(write_txt(tmp_path, "r.txt", "Roundup", body))
    findings = check_document(document, matcher.all_matches(document), default_pack)
    assert rules_of(findings) == ["attribution-missing"]
    assert "Al Jazeera" in findings[0].message and "Fox Business" not in findings[0].message
    assert findings[0].evidence["source"] == NASA
    assert findings[0].line == min(span.line for span in matcher.match(document).spans)

    body = ["Source: Al Jazeera"] + roundup(corpus, (HILL, slice(0, 6)), (FOX, slice(4, 8)), (NASA, slice(0, 5))) + [DISCLAIMER]
    document = load(write_txt(tmp_path, "r3.txt", "Roundup", body))
    findings = check_document(document, matcher.all_matches(document), default_pack)
    assert rules_of(findings) == ["attribution-missing", "attribution-missing"]
    assert sorted(f.evidence["source"] for f in findings) == sorted([HILL, FOX])
    assert len({f.line for f in findings}) == 2  # each where its own text starts


def test_a_roundup_crediting_all_its_sources_or_none_of_them(tmp_path, corpus, matcher, default_pack):
    parts = roundup(corpus, (HILL, slice(0, 6)), (FOX, slice(4, 8)), (NASA, slice(0, 5))) + [DISCLAIMER]
    credited = load(write_txt(tmp_path, "all.txt", "Roundup", ["Sources: The Hill, Fox Business, Al Jazeera"] + parts))
    assert check_document(credited, matcher.all_matches(credited), default_pack) == []

    wrong = load(write_txt(tmp_path, "wrong.txt", "Roundup", ["Source: Reuters"] + parts))
    findings = check_document(wrong, matcher.all_matches(wrong), default_pack)
    assert rules_of(findings) == ["attribution-mismatch"]
    assert all(name in findings[0].message for name in ("Reuters", "Al Jazeera", "The Hill", "Fox Business"))

    uncredited = load(write_txt(tmp_path, "none.txt", "Roundup", parts))
    findings = check_document(uncredited, matcher.all_matches(uncredited), default_pack)
    assert rules_of(findings) == ["attribution-missing"] * 3


def test_each_source_of_a_roundup_is_held_to_its_own_licence(tmp_path, corpus, catalogue, default_pack):
    licences = {FOX: dict(license=License.EXCERPT, max_excerpt=0.25), HILL: dict(license=License.NONE),
                NASA: dict(license=License.EXCERPT, max_excerpt=0.5)}
    sources = [dataclasses.replace(s, **licences.get(s.id, {})) for s in catalogue.sources]
    licensed = build(default_pack, sources)
    body = roundup(corpus, (HILL, slice(0, 6)), (FOX, slice(4, 8)), (NASA, slice(0, 5)))
    document = load(write_txt(tmp_path, "r.txt", "Roundup", ["Sources: The Hill, Fox Business, Al Jazeera"] + body + [DISCLAIMER]))
    matches = licensed.all_matches(document)
    findings = [f for f in check_document(document, matches, default_pack) if f.rule == "excerpt-limit"]
    assert sorted(f.evidence["source"] for f in findings) == sorted([HILL, FOX])  # Al Jazeera: 36 % of at most 50 %
    by_source = {m.source.id: m for m in matches}
    for finding in findings:
        assert finding.line == min(span.line for span in by_source[finding.evidence["source"]].spans)
    assert "allows no reuse" in next(f.message for f in findings if f.evidence["source"] == HILL)


# -- wire copies wrapped in debris ----------------------------------------------------------

def test_a_few_paragraphs_of_a_story_wrapped_in_site_debris_are_a_copy(tmp_path, corpus, matcher, default_pack):
    """150 words copied verbatim are a minority of a page of chrome and other headlines (and
    of the source): neither share reaches its threshold, the long runs do."""
    story = paragraphs(corpus[VB])[9:14]  # five paragraphs, 185 words
    page = CHROME_TOP + story[:3] + ["Advertisement"] + story[3:] + CHROME_BOTTOM + teasers(corpus, CBS, HILL, NJ, NBC, NASA)
    path = write_txt(tmp_path, "wrapped.txt", corpus[VB]["title"], page)
    matches = matcher.all_matches(load(path))
    assert [m.source.id for m in matches] == [VB]
    assert matches[0].containment < 0.45 and matches[0].coverage < 0.5
    relative_only = build(default_pack, matcher.sources, min_long_words=10**6)
    assert relative_only.match(load(path)) is None  # what the shares alone said


def test_a_partial_copy_matches_a_catalogued_page_that_is_itself_wrapped_in_debris(tmp_path, corpus, default_pack, catalogue):
    record = corpus[FOX]
    page = "\n\n".join(OTHER_SITE[:3] + paragraphs(record)[:5] + ["SIGN UP"] + paragraphs(record)[5:] + OTHER_SITE[3:])
    sources = [s for s in catalogue.sources if s.id != FOX] + [source(record, page)]
    wrapped = build(default_pack, sources)
    copied = paragraphs(record)[4:7]  # 123 words, two fifths of the catalogued page
    body = CHROME_TOP + copied + CHROME_BOTTOM + teasers(corpus, CBS, HILL, NJ, NBC, NASA)
    match = wrapped.match(load(write_txt(tmp_path, "r.txt", "Home Depot", body)))
    assert match is not None and match.source.id == FOX
    assert match.containment < 0.45 and match.coverage < 0.5


def test_independent_reports_quoting_the_same_statements_match_nothing(tmp_path, more, default_pack):
    """Real pairs: Barron's quotes Fox Business twice (32 words each); Forbes and MSN quote
    one patient's account in four runs of 26 to 33 words (112 words in all)."""
    sources = [source(more[i]) for i in (FOX, MSN, NASA)]
    only_others = build(default_pack, sources)
    for reporting in (BARRONS, FORBES):
        path = write_txt(tmp_path, f"{reporting}.txt", more[reporting]["title"], paragraphs(more[reporting]))
        assert only_others.all_matches(load(path)) == []


def test_an_unrelated_article_quoting_three_passages_of_a_source_matches_only_itself(tmp_path, corpus, matcher):
    """Three passages of 12 to 25 words of the Al Jazeera story, quoted in The Hill's."""
    words = corpus[NASA]["text"].split()
    quotes = [" ".join(words[start:start + length]) for start, length in ((40, 25), (200, 18), (420, 12))]
    body = paragraphs(corpus[HILL])
    for at, quote in zip((2, 6, 10), quotes):
        body.insert(at, f'As another outlet put it, "{quote}," according to its report.')
    matches = matcher.all_matches(load(write_txt(tmp_path, "quotes.txt", "Meth", body)))
    assert [m.source.id for m in matches] == [HILL]


# -- versions of one story ------------------------------------------------------------------

@pytest.fixture(scope="module")
def versions(corpus, default_pack):
    """The VentureBeat story, and a wire version of it: cut after 12 paragraphs, with a
    subscription banner and a local follow-up (three paragraphs of the Al Jazeera story,
    which this catalogue does not hold)."""
    story = paragraphs(corpus[VB])
    local = paragraphs(corpus[NASA])[5:8]
    wire = story[:12] + ["Subscribe to our business newsletter for the stories that move markets"] + local
    catalogue = [source(corpus[VB]), Source("wire-version", "Daily Courier", "\n\n".join(wire), url="https://courier.example/wework")]
    return build(default_pack, catalogue), story, wire, local


def test_a_copy_of_one_version_does_not_report_the_other(tmp_path, versions):
    matcher, story, wire, _ = versions
    full = matcher.all_matches(load(write_txt(tmp_path, "full.txt", "WeWork", story)))
    assert [m.source.id for m in full] == [VB]  # the wire version shares 12 of its paragraphs, and explains no word alone
    cut = matcher.all_matches(load(write_txt(tmp_path, "wire.txt", "WeWork", wire)))
    assert [m.source.id for m in cut] == ["wire-version"]


def test_another_version_is_reported_for_the_words_it_alone_explains(tmp_path, versions):
    matcher, story, _, local = versions
    path = write_txt(tmp_path, "both.txt", "WeWork", story + local)
    first, second = matcher.all_matches(load(path))
    assert (first.source.id, second.source.id) == (VB, "wire-version")
    assert second.copied_words == len(tokenize("\n\n".join(local)))
    first_line = 6 + 2 * len(story)  # write_txt: the body starts on line 6, a blank line between paragraphs
    assert all(span.line >= first_line for span in second.spans)
    assert all(span.end_line < first_line for span in first.spans)


def test_of_two_versions_copied_alike_the_one_the_repost_credits_is_its_source(tmp_path, versions, default_pack):
    matcher, story, _, _ = versions
    for credit, expected in (("Daily Courier", "wire-version"), ("VentureBeat", VB)):
        body = story[:12] + [f"Source: {credit}", DISCLAIMER]
        document = load(write_txt(tmp_path, f"credits-{expected}.txt", "WeWork", body))
        matches = matcher.matches(matcher.find_candidates(document), credit_test(document))
        assert [m.source.id for m in matches] == [expected]
        assert not {"attribution-missing", "attribution-mismatch"} & set(rules_of(check_document(document, matches, default_pack)))


def test_a_credited_version_copied_far_less_does_not_displace_the_source(tmp_path, versions, default_pack):
    matcher, story, _, _ = versions
    document = load(write_txt(tmp_path, "whole.txt", "WeWork", story + ["Source: Daily Courier", DISCLAIMER]))
    matches = matcher.matches(matcher.find_candidates(document), credit_test(document))
    assert [m.source.id for m in matches] == [VB]  # the credited copy holds 12 of its paragraphs only
    assert "attribution-mismatch" in rules_of(check_document(document, matches, default_pack))


def test_a_story_catalogued_a_hundred_times_is_still_found(tmp_path, corpus, default_pack):
    """A wire story in every member paper's copy: its passages fill buckets of 100 sources."""
    copies = [Source(f"member-{n:03d}", f"Member Paper {n}", corpus[VB]["text"]) for n in range(100)]
    matcher = build(default_pack, copies)
    document = load(write_txt(tmp_path, "wire.txt", "WeWork", paragraphs(corpus[VB]) + ["Source: Member Paper 7"]))
    matches = matcher.matches(matcher.find_candidates(document), credit_test(document))
    assert len(matches) == 1 and matches[0].source.id.startswith("member-")
    assert matches[0].coverage > 0.9


# -- candidates -----------------------------------------------------------------------------

def test_candidates_include_a_source_copied_in_part_next_to_a_long_page_copied_whole(tmp_path, corpus, default_pack, catalogue):
    """A live page of three stories, copied whole, shares far more band keys than four
    paragraphs of another source; that source is still verified, and found."""
    live = Source("live-page", "Live Desk", "\n\n".join(corpus[i]["text"] for i in (NASA, CBS, NJ)))
    matcher = build(default_pack, [live, *catalogue.sources])
    body = paragraphs(corpus[NASA]) + paragraphs(corpus[CBS]) + paragraphs(corpus[NJ]) + paragraphs(corpus[FOX])[4:8]
    document = load(write_txt(tmp_path, "live.txt", "Live", body))
    hits = dict(matcher.find_candidates(document).ranked)
    fox = next(n for n, s in enumerate(matcher.sources) if s.id == FOX)
    assert hits[fox] * 8 < hits[0]  # an eighth of the top candidate's keys: what used to stop verification
    assert [m.source.id for m in matcher.all_matches(document)] == ["live-page", FOX]


def test_candidates_include_a_long_page_of_which_a_minority_is_copied(tmp_path, corpus, default_pack, catalogue):
    live = Source("live-page", "Live Desk", "\n\n".join(corpus[i]["text"] for i in (NASA, CBS, NJ, HILL)))
    matcher = build(default_pack, [live])
    body = CHROME_TOP + paragraphs(corpus[CBS])[1:4] + CHROME_BOTTOM + teasers(corpus, VB, FOX, NBC)
    document = load(write_txt(tmp_path, "minority.txt", "Rescue", body))
    assert [number for number, _ in matcher.find_candidates(document).ranked] == [0]
    match = matcher.match(document)
    assert match is not None and match.coverage < 0.1 and match.containment < 0.45


# -- reports and the state ------------------------------------------------------------------

SCHEMA = json.loads((ROOT / "compliance" / "report" / "report.schema.json").read_text(encoding="utf-8"))


def scan_json(desk, name: str, *extra: str) -> dict:
    output = desk / name
    assert main(["scan", "reposts", "--sources", "sources", "--state", "state.db", "--format", "json",
                 "--output", str(output), "-q", "--fail-on", "never", *extra]) == 0
    report = json.loads(output.read_text(encoding="utf-8"))
    jsonschema.validate(report, SCHEMA)
    return report


def test_the_json_report_lists_every_source_and_the_state_keeps_them(desk, corpus):
    """The examples' catalogue holds the Al Jazeera and Fox Business stories (Fox Business's
    licence allows excerpts of 25 %)."""
    write_txt(desk / "reposts", "roundup.txt", "Roundup", roundup(corpus, (FOX, slice(4, 8)), (NASA, slice(0, 5))) + [DISCLAIMER])
    first, second = scan_json(desk, "first.json"), scan_json(desk, "second.json")
    full = scan_json(desk, "full.json", "--no-state")
    assert second["summary"]["incremental"]["cached"] == 6
    second["summary"].pop("incremental")
    assert second == full  # every source, its figures and spans, from the state as from a full scan

    document = next(d for d in first["documents"] if d["path"] == "reposts/roundup.txt")
    nasa, fox = document["sources"]
    assert (nasa["id"], nasa["publisher"], fox["id"], fox["publisher"]) == (
        "aljazeera-nasa-moon-shot", "Al Jazeera", "foxbusiness-home-depot-sales", "Fox Business")
    assert document["source"] == nasa and nasa["copied_words"] > fox["copied_words"] > 140
    assert fox["spans"] and fox["spans"][0]["end_line"] < nasa["spans"][0]["line"]
    findings = sorted((f["rule"], f["evidence"]["source"]) for f in document["findings"])
    assert findings == [("attribution-missing", "aljazeera-nasa-moon-shot"), ("attribution-missing", "foxbusiness-home-depot-sales"),
                        ("excerpt-limit", "foxbusiness-home-depot-sales")]
    assert all(d["sources"] == ([d["source"]] if d["source"] else []) for d in first["documents"] if d is not document)

    broken = json.loads(json.dumps(first))
    del next(d for d in broken["documents"] if d["path"] == "reposts/roundup.txt")["sources"][1]["coverage"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_a_stored_result_keeps_every_source(tmp_path, corpus, matcher, default_pack):
    from compliance.model import DocumentResult
    from compliance.state.incremental import result_from_json, result_json

    document = load(write_txt(tmp_path, "r.txt", "Roundup", roundup(corpus, (HILL, slice(0, 6)), (FOX, slice(4, 8)), (NASA, slice(0, 5)))))
    matches = matcher.all_matches(document)
    result = DocumentResult("r.txt", "txt", "Roundup", matches[0], check_document(document, matches, default_pack), document,
                            matches=matches)
    restored = result_from_json(result_json(result), "r.txt", "r.txt", lambda: document, {s.id: s for s in matcher.sources})
    assert restored.matches == matches and restored.match is restored.matches[0]
    assert restored.findings == result.findings


def test_every_format_names_each_source_of_a_roundup(tmp_path, corpus, matcher, default_pack):
    """One finding per source, each naming it: apart in SARIF's fingerprints too, so that code
    scanning keeps them as two alerts."""
    from compliance.model import DocumentResult
    from compliance.report import ReportInput, to_github, to_junit, to_sarif, to_text

    document = load(write_txt(tmp_path, "r.txt", "Roundup", roundup(corpus, (FOX, slice(4, 8)), (NASA, slice(0, 5))) + [DISCLAIMER]))
    matches = matcher.all_matches(document)
    report = ReportInput([DocumentResult("r.txt", "txt", "Roundup", matches[0], check_document(document, matches, default_pack),
                                         document, matches=matches)])
    results = json.loads(to_sarif(report))["runs"][0]["results"]
    assert len({json.dumps(r["partialFingerprints"]) for r in results}) == len(results) == 2
    for text in (to_text(report), to_junit(report), to_github(report), json.dumps(results)):
        assert "no line credits Al Jazeera" in text and "no line credits Fox Business" in text


def test_a_roundup_quoting_two_paragraphs_of_a_second_source_finds_it(tmp_path, corpus, matcher):
    """A briefing's second item is often a paragraph or two: 75 words of Fox Business here,
    a fifth of the roundup, in runs long past any quote."""
    body = roundup(corpus, (NASA, slice(0, 6)), (FOX, slice(5, 7)))
    matches = matcher.all_matches(load(write_txt(tmp_path, "r.txt", "Roundup", body + [DISCLAIMER])))
    assert [m.source.id for m in matches] == [NASA, FOX]
    assert 60 <= matches[1].copied_words < 100 and matches[1].containment < 0.45


def test_shared_site_chrome_does_not_make_a_catalogued_page_a_source(tmp_path, corpus, default_pack, catalogue):
    """The catalogue holds a page of the same site as the repost's wrapper, chrome and all:
    menus, sign-up lines and lists of other headlines, long runs of short lines, are not its
    article copied. (Each headline here is one block of a few words.)"""
    menu = ["Skip to main content", "Subscribe", "Search", "Home", "Business", "Entertainment", "Sport", "Opinion",
            "The Node", "Slideshows", "Social media links", "Top 100 Brands Are Worth More Than the GDP of Germany",
            "Dubai's Non-Oil Trade with Africa to Exceed $272 Billion", "Bank Employees Resume Work After Week-Long Strike",
            "Loading content", "Footer menu", "About Us", "Advertise With Us", "Become a Subscriber", "Our Team",
            "Solve a Technical Question", "Terms and Conditions", "Privacy Policy", "Contact Us", "Careers at the Paper"]
    record = corpus[HILL]
    chromed = source(record, "\n\n".join(menu + paragraphs(record)))
    sources = [s for s in catalogue.sources if s.id != HILL] + [chromed]
    page_matcher = build(default_pack, sources)
    body = menu + paragraphs(corpus[FOX])[4:8] + [DISCLAIMER]  # Fox Business, in the chrome Hill's page has too
    matches = page_matcher.all_matches(load(write_txt(tmp_path, "r.txt", "Home Depot", body)))
    assert [m.source.id for m in matches] == [FOX]
    counting_menus = build(default_pack, sources, min_prose_words=1)  # were short lines counted, Hill's page would be a source
    assert [m.source.id for m in counting_menus.all_matches(load(tmp_path / "r.txt"))] == [FOX, HILL]
