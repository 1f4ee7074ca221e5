"""Whole saved pages: trafilatura picks the article, the parser's blocks keep their lines and
kinds, and what the rules need (captions, the desk's lines, a paragraph pasted twice) stays."""
from __future__ import annotations

import gzip
import html
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from compliance.checks.context import CheckContext
from compliance.checks.rules import RULE_TYPES
from compliance.ingest import extract
from compliance.ingest.html import parse_html
from compliance.ingest.load import parse_document
from compliance.model import BlockKind, Document

ROOT = Path(__file__).parent.parent
PAGES = Path(__file__).parent / "data" / "ingest" / "pages"  # saved publisher pages: see its README
SHARED_PAGES = ROOT.parent / "shared" / "corpus" / "pages"  # the 141 real pages, beside the checkout
ARTICLES = {record["id"]: record for record in map(json.loads, (PAGES / "articles.jsonl").read_text(encoding="utf-8").splitlines())}
DESK_PAGES = [ROOT / "examples" / "reposts" / "nasa-moon-shot.html", *sorted((Path(__file__).parent / "data" / "ingest").glob("*.html"))]
DISCLAIMER = ("Disclaimer: The copyright of this article belongs to the original author. Reposting this article is solely "
              "for the purpose of information dissemination and does not constitute any investment advice.")


def page(page_id: str) -> str:
    return gzip.decompress((PAGES / f"{page_id}.html.gz").read_bytes()).decode("utf-8")


def read(text: str, name: str = "page.html"):
    return parse_document(text, Path(name), name)


def words(text: str) -> Counter[str]:
    return Counter(word.lower() for word in re.findall(r"\w+", text))


def repeats(document, pack) -> list:
    rule = next(r for r in pack.enabled_rules if r.id == "caption-duplicated")
    return list(RULE_TYPES[rule.type].check(CheckContext(document, None, rule.scope.select(document), rule)))


@pytest.mark.parametrize("page_id", sorted(ARTICLES))
def test_a_saved_page_reads_as_its_article(page_id):
    article = ARTICLES[page_id]
    body = words(" ".join(block.text for block in read(page(page_id)).body))
    expected = words(article["text"])
    recall = sum((body & expected).values()) / sum(expected.values())
    noise = sum((body - words(article["text"] + " " + " ".join(article["captions"]))).values()) / sum(body.values())
    assert recall >= 0.97
    assert noise <= 0.03


@pytest.mark.parametrize("page_id", sorted(ARTICLES))
def test_every_block_of_a_saved_page_points_at_its_text_in_the_file(page_id):
    text = page(page_id)
    lines = text.split("\n")
    document = read(text)
    assert document.blocks
    for block in document.blocks:
        assert block.text.split()[0] in html.unescape(lines[block.line - 1])
        assert block.line <= block.end_line <= len(lines)


# Pages whose chrome repeats: teasers' copyright lines, a gallery, a video player's notice.
@pytest.mark.parametrize("page_id", ["sh-3cb5e2f46626", "sh-c7e39ac49fa1", "sh-eecd2575093b"])
def test_chrome_no_longer_reads_as_a_caption_pasted_twice(page_id, default_pack):
    text = page(page_id)
    plain = read_plain(text)
    assert repeats(plain, default_pack)  # timestamps, copyright lines, a gallery's captions, as read before
    assert repeats(read(text), default_pack) == []


def test_timestamps_repeated_in_teasers_are_no_repeat_even_read_whole(default_pack):
    plain = read_plain(page("sh-e372e42c0a3d"))  # The Jerusalem Post: "11/20/2019 01:08 AM" under each teaser
    assert sum(bool(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d [AP]M", block.text)) for block in plain.body) >= 3
    assert repeats(plain, default_pack) == []  # figures alone are data, not a caption pasted twice


def read_plain(text: str) -> Document:
    """The page as read before there was an extractor."""
    title, blocks, links = parse_html(text, extract=False)
    return Document("page.html", "html", title, blocks, links=links)


def test_a_gallery_caption_is_read_once_as_a_caption():
    captions = [block for block in read(page("sh-eecd2575093b")).blocks if block.kind is BlockKind.CAPTION]
    lebron = [block for block in captions if block.text.startswith("Los Angeles Lakers' LeBron James dunks")]
    assert len(lebron) == 1
    assert any(block.text == "Photo: Ringo H.W. Chiu, AP" for block in captions)


def test_the_title_is_the_pages_title_and_its_h1_is_not_body():
    document = read(page("sh-eecd2575093b"))
    assert document.title == "LeBron sets triple-double mark, Lakers hold off OKC 112-107 - San Antonio Express-News"
    title = [block for block in document.blocks if block.kind is BlockKind.TITLE]
    assert [block.text for block in title] == ["LeBron sets triple-double mark, Lakers hold off OKC 112-107"]
    assert title[0] not in document.body


# -- what the desk adds, and pastes twice ----------------------------------------------------

def sentra_page() -> tuple[str, str]:
    """The AutoIndustriya page and the last paragraph of its article, as it stands in the file."""
    text = page("sh-3cb5e2f46626")
    last = ARTICLES["sh-3cb5e2f46626"]["text"].split("\n\n")[-1]
    paragraph = re.search(r"<p>" + re.escape(last[:40]) + r".*?</p>", text).group(0)
    return text, paragraph


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_desks_lines_after_the_article_on_a_saved_page_are_kept():
    text, last = sentra_page()
    credit = "<p>Source: <a href='https://www.autoindustriya.com/'>AutoIndustriya</a></p>"
    text = text.replace(last, f"{last}\n{credit}\n<p>{DISCLAIMER}</p>", 1)
    text = text.replace("</body>", "<p>Originally published by AutoIndustriya.com</p>\n</body>", 1)  # after the footer
    document = read(text)
    tail = [(block.text, block.line) for block in document.body[-3:]]
    assert tail == [
        ("Source: AutoIndustriya", line_of(text, credit)),
        (DISCLAIMER, line_of(text, DISCLAIMER)),
        ("Originally published by AutoIndustriya.com", line_of(text, "Originally published by")),
    ]
    assert ("https://www.autoindustriya.com/", "AutoIndustriya") in [(link.url, link.text) for link in document.links]


def test_the_desks_header_before_the_article_on_a_saved_page_is_meta():
    text, _ = sentra_page()
    first = ARTICLES["sh-3cb5e2f46626"]["text"][:40]
    text = text.replace(first, f"Business · Post At: May 28/2024 03:54PM</p><p>{first}", 1)
    header = next(block for block in read(text).blocks if "Post At" in block.text)
    assert header.kind is BlockKind.META


def test_a_paragraph_pasted_twice_on_a_saved_page_is_kept_twice_and_reported(default_pack):
    text, last = sentra_page()
    text = text.replace(last, f"{last}\n{last}", 1)
    document = read(text)
    copies = [block for block in document.body if block.text.startswith("The all-new sedan is set to go on sale")]
    assert len(copies) == 2
    found = repeats(document, default_pack)
    assert [(f.evidence["first"]["line"], f.evidence["second"]["line"]) for f in found] == [(copies[0].line, copies[1].line)]


def test_a_figure_pasted_twice_on_a_saved_page_is_kept_twice_and_reported(default_pack):
    text, last = sentra_page()
    figure = '<figure><img src="sentra.jpg" alt=""><figcaption>The all-new 2020 Nissan Sentra at its unveiling in Los Angeles</figcaption></figure>'
    text = text.replace(last, f"{figure}\n{figure}\n{last}", 1)
    document = read(text)
    captions = [block for block in document.body if block.kind is BlockKind.CAPTION and block.text.startswith("The all-new 2020")]
    assert len(captions) == 2
    assert [f.message.split(" (")[0] for f in repeats(document, default_pack)] == [
        f"caption repeated on lines {captions[0].line} and {captions[1].line}"]


def test_two_pictures_captioned_alike_are_no_caption_pasted_twice(default_pack):
    text, last = sentra_page()
    caption = "<figcaption>The all-new 2020 Nissan Sentra at its unveiling in Los Angeles</figcaption>"
    figures = "\n".join(f'<figure><img data-src="sentra-{n}.jpg" src="data:image/gif;base64,R0lGOD"> {caption}</figure>'
                        for n in (1, 2))  # lazy-loaded: the placeholder in src is every picture's
    document = read(text.replace(last, f"{figures}\n{last}", 1))
    captions = [block for block in document.body if block.kind is BlockKind.CAPTION and block.text.startswith("The all-new 2020")]
    assert [block.image for block in captions] == ["sentra-1.jpg", "sentra-2.jpg"]
    assert repeats(document, default_pack) == []


@pytest.mark.skipif(not SHARED_PAGES.is_dir(), reason="needs the shared corpus beside the checkout (../shared/corpus)")
@pytest.mark.parametrize(("page_id", "caption"), [
    ("sh-8cad00dc22de", "2018 Jeongdong Theater Tradition Series Performance"),  # a blog: one caption under six photos
    ("sh-d0382c0d9573", "A shopper looks at extension cords at B&C Ace hardware store"),  # AP: two slides alike
])
def test_a_real_gallery_of_photos_captioned_alike_is_no_repeat(page_id, caption, default_pack):
    document = read(shared_page(page_id))
    alike = [block for block in document.body if block.kind is BlockKind.CAPTION and caption in block.text]
    assert len(alike) >= 2 and len({block.image for block in alike}) == len(alike)
    assert repeats(document, default_pack) == []


@pytest.mark.parametrize("path", DESK_PAGES, ids=lambda path: path.name)
def test_a_desks_page_reads_the_same_through_the_extractor(path):
    """Navigation and footer dropped, the "Post At" header, "Source:" line, captions pasted
    twice and disclaimer kept: on a desk's template the extractor changes nothing."""
    text = path.read_text(encoding="utf-8")
    plain, extracted = parse_html(text, extract=False), parse_html(text, extract=True)
    assert extracted[0] == plain[0]
    assert extracted[1] == plain[1]
    assert extracted[2] == plain[2]


# -- when the extractor is not used ----------------------------------------------------------

@pytest.mark.parametrize("path", DESK_PAGES, ids=lambda path: path.name)
def test_fragments_and_desk_templates_are_read_without_the_extractor(path, monkeypatch):
    monkeypatch.setattr(extract, "article_blocks", lambda *_: pytest.fail("extractor called"))
    assert parse_html(path.read_text(encoding="utf-8"))[1]


def test_a_page_trafilatura_cannot_read_falls_back_to_the_plain_reader(monkeypatch):
    import trafilatura

    def fail(*_, **__):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(trafilatura, "bare_extraction", fail)
    text = page("sh-e372e42c0a3d")
    assert parse_html(text) == parse_html(text, extract=False)


def test_the_extractor_stays_linear_on_a_page_of_thirty_thousand_blocks():
    chrome = "<html><head><script>" + "x" * 20_000 + "</script></head><body><nav>" + "<a href=/>Home</a>" * 200 + "</nav>"
    text = chrome + "<article>" + "<p>The same sentence of the article, said again and again.</p>" * 10_000 + "</article>"
    text += "<div>" + "".join(f"<div>item {n % 50} of a list</div>" for n in range(20_000)) + "</div></body></html>"
    started = time.perf_counter()
    _, blocks, _ = parse_html(text, extract=True)
    assert time.perf_counter() - started < 30  # 3 to 6 s on a slow, shared core
    assert len([block for block in blocks if block.text.startswith("The same sentence")]) == 10_000



def body_text(document) -> str:
    return "\n".join(block.text for block in document.body)


def test_calls_to_subscribe_or_comment_that_the_extractor_lets_through_are_dropped():
    # MoreBikes: a magazine offer inside the article's container, then "Tell us what YOU think...".
    bikes = read(page("sh-612cd2982662"))
    assert "Get Motor Cycle Monthly delivered" not in body_text(bikes)
    assert "Tell us what YOU think" not in body_text(bikes)
    assert bikes.body[-1].text.startswith("Working on your own bike can be incredibly rewarding")  # the article's end stays
    # The Paradigm: a linked "Click here to subscribe" heading and a widget's heading.
    paradigm = body_text(read(page("sh-e7301133baab")))
    assert "subscribe" not in paradigm.lower()


def test_a_players_notice_is_not_a_caption_and_the_real_captions_stay(default_pack):
    document = read(page("sh-c7e39ac49fa1"))  # BBC Sport: the notice under each of two videos
    assert not any("Media playback" in block.text for block in document.blocks)
    assert repeats(document, default_pack) == []
    assert any(block.kind is BlockKind.CAPTION for block in document.blocks)


def test_the_filters_never_drop_the_desks_lines_or_the_title():
    text = page("sh-612cd2982662").replace(
        "</article>", "<p>Source: MoreBikes. Click here to read the original.</p></article>", 1)
    document = read(text)
    assert any(block.text.startswith("Source: MoreBikes") for block in document.blocks)
    assert document.title


@pytest.mark.skipif(not SHARED_PAGES.is_dir(), reason="needs the shared corpus beside the checkout (../shared/corpus)")
@pytest.mark.parametrize(("page_id", "chrome", "kept"), [
    ("sh-9a440270bf86", "The U.S. won an ugly match on the road", "Euro 2020 qualifying is over"),  # teasers' sublines
    ("sh-4a44ab3e4c41", "Like this story? Share it with a friend!", "Bolivia"),
    ("sh-c13b9c0e04fb", "Subscribe to the Morning Review newsletter", "meth"),
    ("sh-04a6711caa7c", "Follow The New York Times Opinion section", "Americans have gone to the polls"),
    ("sh-ad826691a8a2", "Subscribe to the 9to5Toys YouTube Channel", "MacBook"),
    # Cards of other stories after the article, each in an element of its own.
    ("sh-d90bda7ed14d", "Kim Kardashian, Christian Bale support UCLA Promise Institute", "At least 106 protesters"),
    # After "You Might Also Like": a slideshow of other stories.
    ("rd-salon-1", "A photo contest winner", "What can we learn from this incident?"),
    # CNN's "Read More" button does not end the article: what it unfolds stays.
    ("sh-d605bdef2cde", "Read More", "The US government on Monday did extend a temporary general license"),
])
def test_site_chrome_on_real_pages_is_not_the_article(page_id, chrome, kept):
    document = read(gzip.decompress((SHARED_PAGES / f"{page_id}.html.gz").read_bytes()).decode("utf-8"))
    assert chrome not in body_text(document)
    assert kept in body_text(document)


def shared_page(page_id: str) -> str:
    return gzip.decompress((SHARED_PAGES / f"{page_id}.html.gz").read_bytes()).decode("utf-8")


@pytest.mark.skipif(not SHARED_PAGES.is_dir(), reason="needs the shared corpus beside the checkout (../shared/corpus)")
@pytest.mark.parametrize(("page_id", "standfirst"), [
    ("sh-7ab16ade3238", "NFL assaults have led to lawsuits before."),  # WSJ: an <h2> under the headline
    ("sh-624fcd903d56", "CHINA has sent troops to Hong Kong"),  # Express: an <h3> in the header
])
def test_the_standfirst_the_page_declares_its_description_is_meta_not_body(page_id, standfirst):
    text = shared_page(page_id)
    document = read(text)
    meta = [block for block in document.blocks if block.kind is BlockKind.META]
    assert [block.text[: len(standfirst)] for block in meta] == [standfirst]
    assert standfirst in text.splitlines()[meta[0].line - 1]  # still pointing at its line
    assert standfirst not in body_text(document)


@pytest.mark.skipif(not SHARED_PAGES.is_dir(), reason="needs the shared corpus beside the checkout (../shared/corpus)")
@pytest.mark.parametrize(("page_id", "lede"), [
    ("sh-4a44ab3e4c41", "Three people have died during protests in Bolivia"),  # RT: a summary paragraph, the lede
    ("rd-breitbart", "Snopes fact checker and staff writer David Emery"),  # a heading among the paragraphs
])
def test_a_description_that_is_the_articles_lede_stays_body(page_id, lede):
    assert lede in body_text(read(shared_page(page_id)))


@pytest.mark.skipif(not SHARED_PAGES.is_dir(), reason="needs the shared corpus beside the checkout (../shared/corpus)")
def test_the_pages_own_address_printed_alone_is_not_the_article():
    document = read(shared_page("sh-ef2b3f268a67"))  # mysanantonio: a share widget prints the page's URL
    assert "https://www.mysanantonio.com/news/article/" not in body_text(document)
    assert body_text(document).startswith("SANTA FE, N.M. (AP) — A cat who has been missing")
