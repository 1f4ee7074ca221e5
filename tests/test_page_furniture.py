"""A desk's template puts its disclaimer and credit line where templates do: a post footer
inside <article>, the page's footer, a sidebar box. The `page` scope (the default pack's for
those rules) reads them there; the rest of a page's text (other stories' bylines and
headline lists) credits and blames no one."""
from __future__ import annotations

import json
import re

import pytest

from compliance.checks.scope import Scope
from compliance.cli.main import main
from compliance.ingest import load_document

PAGE = "reposts/nasa-moon-shot.html"  # an Al Jazeera copy credited "Source: Reuters", its disclaimer in <article>
SOURCE_LINE = "<p>Source: Reuters</p>\n"
FOOTER = "<footer><p>About us | Contact</p></footer>"


def _page(desk) -> tuple[str, str]:
    text = (desk / PAGE).read_text(encoding="utf-8")
    [disclaimer] = re.findall(r"<p>Disclaimer:.*</p>", text)
    assert SOURCE_LINE in text and FOOTER in text
    return text, disclaimer


def _rules(desk, text: str) -> set[str]:
    (desk / PAGE).write_text(text, encoding="utf-8")
    main(["scan", PAGE, "--sources", "sources", "--no-state", "--format", "json", "--output", "r.json", "--fail-on", "never", "-q"])
    [document] = json.loads((desk / "r.json").read_text(encoding="utf-8"))["documents"]
    return {f["rule"] for f in document["findings"]} & {"disclaimer-missing", "attribution-missing", "attribution-mismatch"}


@pytest.mark.parametrize("place", ["post footer", "page footer", "sidebar", "after the body"])
def test_a_disclaimer_the_template_puts_outside_the_article_is_there(desk, place):
    text, disclaimer = _page(desk)
    text = text.replace(disclaimer + "\n", "").replace(SOURCE_LINE, "<p>Source: Al Jazeera</p>\n")
    assert _rules(desk, text) == {"disclaimer-missing"}  # taken out: missing
    moved = {
        "post footer": text.replace("</article>", f'<footer class="entry-footer">{disclaimer}</footer></article>'),
        "page footer": text.replace(FOOTER, f"<footer>{disclaimer}<p>About us | Contact</p></footer>"),
        "sidebar": text.replace("</article>", f'</article><aside class="disclaimer">{disclaimer}</aside>'),
        "after the body": text.replace("</body>", f"{disclaimer}</body>"),
    }[place]
    assert _rules(desk, moved) == set()


@pytest.mark.parametrize("place", ["post footer", "page footer", "sidebar"])
def test_a_credit_line_outside_the_article_credits_and_a_wrong_one_is_a_mismatch(desk, place):
    text, _ = _page(desk)
    text = text.replace(SOURCE_LINE, "")
    assert _rules(desk, text) == {"attribution-missing"}

    def put(line: str) -> str:
        return {
            "post footer": text.replace("</article>", f'<footer class="entry-footer"><p>{line}</p></footer></article>'),
            "page footer": text.replace(FOOTER, f"<footer><p>{line}</p><p>About us | Contact</p></footer>"),
            "sidebar": text.replace("</article>", f'</article><aside class="source-box"><p>{line}</p></aside>'),
        }[place]

    assert _rules(desk, put("Source: Al Jazeera")) == set()
    assert _rules(desk, put("Source: Reuters")) == {"attribution-mismatch"}


def test_other_stories_in_the_page_credit_and_blame_no_one(desk):
    """A sidebar's headline list ("Sources: ..." linked whole) and another story's byline."""
    text, _ = _page(desk)
    text = text.replace(SOURCE_LINE, "").replace("</article>", (
        '</article><aside><ul><li><a href="/a">Sources: Despite huge sales, developers are getting stiffed on bonuses</a></li>'
        "<li>By Jane Doe, CNN</li><li>Copyright 2024 The Associated Press</li></ul></aside>"))
    assert _rules(desk, text) == {"attribution-missing"}


def test_the_page_scope_is_all_blocks_and_the_furniture_in_file_order(desk):
    document = load_document(desk / PAGE, PAGE)
    assert [b.text for b in document.furniture] == ["Home | World", "About us | Contact"]  # the nav's and footer's
    page = Scope.parse("page").select(document)
    assert page[0].text == "Home | World" and page[-1].text == "About us | Contact"
    assert page[1:-1] == document.blocks
    text_document = load_document(desk / "reposts" / "niac-missiles-repost.txt", "x.txt")
    assert Scope.parse("page").select(text_document) == Scope.parse("all").select(text_document)
