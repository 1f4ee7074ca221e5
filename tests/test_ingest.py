"""Ingest: real reposts on disk -> Documents whose blocks remember their lines; bad files -> InputError."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.ingest import discover, load_document
from compliance.model import BlockKind

ROOT = Path(__file__).parent.parent
INGEST = Path(__file__).parent / "data" / "ingest"
SEED = ROOT / "examples" / "reposts" / "niac-missiles-repost.txt"
MD = INGEST / "wework-repost.md"  # front matter on lines 1-5, body from line 6
PAGE = INGEST / "moon-shot-page.html"  # a whole page: nav, script, <article>, footer
FRAGMENT = INGEST / "moon-shot-fragment.html"  # no <html>, no <body>


def load(path: Path, max_bytes: int = 5 * 1024 * 1024):
    return load_document(path, path.name, max_bytes)


def block_starting(document, prefix: str):
    return next(b for b in document.blocks if b.text.startswith(prefix))


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- plain text: the seed repost -----------------------------------------------------------

def test_txt_title_is_the_first_line():
    document = load(SEED)
    assert document.format == "txt"
    assert document.title == "Iran's Missile Deal With Russia Result of Trump, Biden Policies: NIAC"
    assert document.blocks[0].kind is BlockKind.TITLE
    assert document.blocks[0].line == 1


def test_txt_desk_header_block_is_meta():
    document = load(SEED)
    header = document.blocks[1]
    assert header.kind is BlockKind.META
    assert header.text == "War Post At: Sep 07/2024 07:50PM"
    assert (header.line, header.end_line) == (3, 4)
    assert header not in document.body


def test_txt_paragraphs_keep_their_line_numbers():
    document = load(SEED)
    image = block_starting(document, "This illustrative image")
    assert image.kind is BlockKind.PARAGRAPH
    assert (image.line, image.end_line) == (18, 18)
    assert block_starting(document, "The deepening military ties").line == 6
    assert [b.line for b in document.body] == list(range(6, 37, 2))


def test_txt_last_block_is_the_disclaimer():
    document = load(SEED)
    assert document.blocks[-1].text.startswith("Disclaimer:")
    assert document.blocks[-1].line == 36


def test_txt_report_path_and_file_path_are_kept_apart():
    document = load_document(SEED, "desk/niac.txt")
    assert document.path == "desk/niac.txt"
    assert document.file_path == str(SEED)


# -- Markdown --------------------------------------------------------------------------------

def test_md_front_matter_gives_title_and_metadata():
    document = load(MD)
    assert document.format == "md"
    assert document.title == "WeWork under investigation by New York attorney general"
    assert document.metadata["category"] == "Business"
    assert document.metadata["posted"] == dt.date(2024, 9, 7)


def test_md_line_numbers_count_the_front_matter():
    document = load(MD)
    reuters = block_starting(document, "(Reuters)")
    assert (reuters.line, reuters.end_line) == (11, 14)
    assert block_starting(document, "“We received an inquiry").line == 20


def test_md_h1_is_the_title_block_and_h2_a_heading():
    document = load(MD)
    title = document.blocks[0]
    assert title.kind is BlockKind.TITLE
    assert title.text == "New York State Attorney General investigating WeWork and former CEO"
    assert title.line == 7
    heading = block_starting(document, "A spokesperson declined")
    assert heading.kind is BlockKind.HEADING
    assert heading.line == 18


def test_md_h1_is_the_title_when_there_is_no_front_matter(tmp_path):
    path = write(tmp_path, "plain.md", b"# Heading One\n\nThe body.\n")
    document = load(path)
    assert document.title == "Heading One"
    assert document.metadata == {}
    assert [(b.kind, b.line) for b in document.blocks] == [(BlockKind.TITLE, 1), (BlockKind.PARAGRAPH, 3)]


def test_md_image_only_paragraph_is_a_caption_with_the_alt_text():
    document = load(MD)
    caption = block_starting(document, "A WeWork office")
    assert caption.kind is BlockKind.CAPTION
    assert caption.text == "A WeWork office building in New York"
    assert caption.line == 16


def test_md_links_are_recorded_with_url_text_and_line():
    document = load(MD)
    assert [(link.url, link.text, link.line) for link in document.links] == [
        ("https://venturebeat.com/2019/11/18/new-york-state-attorney-general-investigating-wework-and-former-ceo/",
         "VentureBeat", 9),
    ]
    assert block_starting(document, "Source:").text == "Source: VentureBeat"


# -- HTML ------------------------------------------------------------------------------------

def test_html_title_comes_from_the_title_element():
    document = load(PAGE)
    assert document.format == "html"
    assert document.title == "NASA’s commercial moon shot: Musk's and Bezos's firms to bid"


def test_html_keeps_only_the_article():
    text = "\n".join(b.text for b in load(PAGE).blocks)
    assert "Getting to the Moon" in text
    for dropped in ("Home", "World", "Subscribe", "About us", "script text", "color: red"):
        assert dropped not in text


def test_html_paragraph_line_numbers():
    document = load(PAGE)
    washington = block_starting(document, "Washington, DC")
    assert washington.kind is BlockKind.PARAGRAPH
    assert (washington.line, washington.end_line) == (12, 13)
    assert washington.text.endswith("has been done. Staying on the Moon and reaching Mars, however, haven’t.")
    assert block_starting(document, "“This is based").line == 15


def test_html_figcaption_is_a_caption():
    caption = block_starting(load(PAGE), "This illustration")
    assert caption.kind is BlockKind.CAPTION
    assert caption.text == "This illustration of SpaceX's concept for a commercial lunar lander [SpaceX via Nasa]"
    assert caption.line == 14


def test_html_post_at_line_is_meta():
    document = load(PAGE)
    header = document.blocks[0]
    assert (header.kind, header.text, header.line) == (BlockKind.META, "Business · Post At: May 28/2024", 10)
    assert header not in document.body


def test_html_links_inside_the_article_are_recorded_and_nav_links_are_not():
    links = load(PAGE).links
    assert [(link.url, link.text, link.line) for link in links] == [
        ("https://www.aljazeera.com/economy/2019/11/19/nasas-commercial-moon-shot", "Al Jazeera", 11),
    ]


def test_html_fragment_without_html_or_body():
    document = load(FRAGMENT)
    assert document.title == "NASA’s commercial moon shot"
    assert [(b.kind, b.line) for b in document.blocks] == [
        (BlockKind.TITLE, 1), (BlockKind.PARAGRAPH, 2), (BlockKind.PARAGRAPH, 3),
    ]
    assert document.blocks[2].text.startswith("NASA believes this discovery")


def test_html_svg_icon_title_does_not_leak_into_the_page_title(tmp_path):
    page = (b"<html><head><title>Real title</title></head><body><article>"
            b"<svg><title>Close icon</title></svg><p>Body.</p></article></body></html>")
    assert load(write(tmp_path, "icon.html", page)).title == "Real title"


def test_html_element_whose_class_names_a_caption_is_a_caption(tmp_path):
    page = (b'<article><div class="wp-caption"><img src="a.jpg"><p class="wp-caption-text">A drone over Kermanshah</p></div>'
            b'<p class="no-caption">Body text.</p><span class="image__caption">A second picture</span></article>')
    assert [(b.kind, b.text) for b in load(write(tmp_path, "captions.html", page)).blocks] == [
        (BlockKind.CAPTION, "A drone over Kermanshah"), (BlockKind.PARAGRAPH, "Body text."), (BlockKind.CAPTION, "A second picture"),
    ]


def test_html_hidden_elements_are_not_read(tmp_path):
    page = (b'<article><p>Shown.</p><div style="display: none"><p>A copy for search engines.</p></div>'
            b'<p hidden>Hidden.</p><p style="color: red">Also shown.</p></article>')
    assert [b.text for b in load(write(tmp_path, "hidden.html", page)).blocks] == ["Shown.", "Also shown."]


# -- files that cannot be read ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.html"])
def test_empty_file_loads_with_no_blocks(tmp_path, name):
    document = load(write(tmp_path, name, b""))
    assert document.blocks == []
    assert document.title == ""


def test_binary_file_is_unreadable(tmp_path):
    with pytest.raises(InputError) as caught:
        load(write(tmp_path, "photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    assert caught.value.rule == "input-unreadable"
    assert "binary" in str(caught.value)


def test_invalid_utf8_names_the_line_of_the_bad_byte(tmp_path):
    path = write(tmp_path, "latin1.txt", "Title\n\nCafé au lait\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.rule == "input-unreadable"
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: ")


def test_invalid_utf8_after_a_bom_names_the_line_of_the_bad_byte(tmp_path):
    path = write(tmp_path, "bom.txt", b"\xef\xbb\xbfT\n\nab\n\xff\n")  # the bad byte is on line 4
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.line == 4


EXAMPLE_PAGE = Path(__file__).parent.parent / "examples" / "reposts" / "nasa-moon-shot.html"


@pytest.mark.parametrize("label", ["windows-1252", "iso-8859-1", "latin1"])
def test_an_html_page_in_the_encoding_it_declares_reads_as_its_utf8_twin(tmp_path, label):
    """A saved page keeps its site's encoding: its curly quotes are bytes 0x91-0x94 in
    windows-1252, which browsers also use for pages declaring ISO-8859-1."""
    text = EXAMPLE_PAGE.read_text(encoding="utf-8")
    assert "’" in text
    legacy = text.replace('<meta charset="utf-8">', f'<meta http-equiv="Content-Type" content="text/html; charset={label}">')
    path = write(tmp_path, "legacy.html", legacy.encode("cp1252"))
    twin = write(tmp_path, "twin.html", legacy.encode("utf-8"))
    read, expected = load(path), load(twin)
    assert read.blocks == expected.blocks and read.title == expected.title


@pytest.mark.parametrize("codec", ["utf-16", "utf-32", "utf-8-sig"])
def test_a_text_with_a_byte_order_mark_reads_in_its_encoding(tmp_path, codec):
    """Windows editors save "Unicode" as UTF-16 with a mark; the seed repost so saved reads alike."""
    text = (Path(__file__).parent.parent / "examples" / "reposts" / "niac-missiles-repost.txt").read_text(encoding="utf-8")
    marked, plain = write(tmp_path, "marked.txt", text.encode(codec)), write(tmp_path, "plain.txt", text.encode("utf-8"))
    assert load(marked).blocks == load(plain).blocks


def test_an_undeclared_legacy_page_is_unreadable_with_a_hint(tmp_path):
    page = EXAMPLE_PAGE.read_text(encoding="utf-8").replace('<meta charset="utf-8">', "")
    path = write(tmp_path, "legacy.html", page.encode("cp1252"))
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.rule == "input-unreadable"
    assert "<meta charset>" in str(caught.value)


def test_a_page_declaring_an_encoding_its_bytes_are_not_is_unreadable(tmp_path):
    page = EXAMPLE_PAGE.read_text(encoding="utf-8").replace('<meta charset="utf-8">', '<meta charset="shift_jis">')
    path = write(tmp_path, "wrong.html", page.encode("cp1252"))
    with pytest.raises(InputError) as caught:
        load(path)
    assert "not valid shift_jis, as it declares" in str(caught.value)


def test_malformed_front_matter_names_its_line(tmp_path):
    path = write(tmp_path, "bad.md", b"---\ntitle: ok\nsource: Reuters: London\n---\n\nBody.\n")
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.rule == "input-unreadable"
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{path}:3: front matter")


def test_unclosed_front_matter_is_unreadable(tmp_path):
    path = write(tmp_path, "open.md", b"---\ntitle: ok\n\nBody without a closing fence.\n")
    with pytest.raises(InputError) as caught:
        load(path)
    assert caught.value.rule == "input-unreadable"
    assert "never closed" in str(caught.value)


def test_file_over_max_bytes_is_too_large_and_at_the_limit_is_not(tmp_path):
    data = b"Title\n\n" + b"x" * 93  # 100 bytes
    assert load(write(tmp_path, "fits.txt", data), max_bytes=100).title == "Title"
    with pytest.raises(InputError) as caught:
        load(write(tmp_path, "big.txt", data + b"x"), max_bytes=100)
    assert caught.value.rule == "input-too-large"
    assert "101" in str(caught.value)


# -- discover --------------------------------------------------------------------------------

@pytest.fixture
def desk(tmp_path) -> Path:
    files = ["b.txt", "A.md", "desk/story.html", "desk/2024/column.markdown", "desk/2024/page.HTM",
             ".hidden.txt", ".drafts/secret.md", "notes.docx", "desk/data.csv"]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    return tmp_path


def test_discover_walks_folders_recursively_in_sorted_order(desk):
    found = discover([desk], desk)
    assert [report for _, report in found.files] == [
        "A.md", "b.txt", "desk/2024/column.markdown", "desk/2024/page.HTM", "desk/story.html",
    ]
    assert all(file == desk / report for file, report in found.files)


def test_discover_skips_hidden_files_and_folders_without_counting_them(desk):
    found = discover([desk], desk)
    assert not any("hidden" in report or "drafts" in report for _, report in found.files)
    assert found.skipped == 2  # notes.docx and desk/data.csv


def test_discover_report_paths_are_relative_to_the_project_root_not_the_folder_scanned(desk, monkeypatch):
    monkeypatch.chdir(desk / "desk" / "2024")  # the working folder does not matter either
    found = discover([desk / "desk", Path("..")], desk)
    assert [report for _, report in found.files] == ["desk/2024/column.markdown", "desk/2024/page.HTM", "desk/story.html"]
    assert found.skipped == 1  # data.csv, once although its folder is named twice


def test_discover_single_file_argument(desk):
    found = discover([desk / "desk" / "story.html"], desk)
    assert found.files == [(desk / "desk" / "story.html", "desk/story.html")]
    assert found.skipped == 0


def test_two_scanned_folders_with_the_same_file_names_stay_apart(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.html").write_text("<p>x</p>", encoding="utf-8")
    found = discover([tmp_path / "a", tmp_path / "b"], tmp_path)
    assert [report for _, report in found.files] == ["a/x.html", "b/x.html"]


def test_files_outside_the_project_root_are_named_by_their_absolute_path(desk, tmp_path):
    found = discover([desk / "desk" / "story.html"], desk / "desk" / "2024")
    assert found.files[0][1] == (desk / "desk" / "story.html").resolve().as_posix()


def test_the_source_catalogue_is_not_scanned_as_reposts_even_file_by_file(desk):
    """A scan of the whole project, or a pre-commit hook naming every staged file, would
    otherwise report each source as a repost copying itself."""
    found = discover([desk, desk / "desk" / "story.html"], desk, excluded=[desk / "desk"])
    assert [report for _, report in found.files] == ["A.md", "b.txt"]
    assert found.skipped == 1  # notes.docx; desk/data.csv lies in the catalogue


def test_unclosed_paragraphs_are_separate_blocks_with_their_lines(tmp_path):
    page = tmp_path / "scraped.html"
    page.write_text("<article>\n" + "".join(f"<p>paragraph number {n}\n" for n in range(300)) + "</article>\n", encoding="utf-8")
    blocks = load_document(page, "scraped.html").body
    assert len(blocks) == 300
    assert (blocks[0].text, blocks[0].line, blocks[299].line) == ("paragraph number 0", 2, 301)


def test_deeply_nested_markup_is_read(tmp_path):
    page = tmp_path / "deep.html"
    depth = 50_000
    page.write_text("<article>" + "<div>" * depth + "<p>deep text</p>" + "</div>" * depth + "</article>", encoding="utf-8")
    assert [b.text for b in load_document(page, "deep.html").body] == ["deep text"]


@pytest.mark.parametrize("markup", [
    "<a" * 100_000,  # a tag that never closes: 43 s before
    "<p>text</p>" + "<!--" * 50_000,
    "<p>" + "<a href=x>link " * 50_000 + "</a>" * 50_000,  # links left open, each inside the last: 58 s before
])
def test_html_that_never_closes_its_tags_is_read_in_linear_time(tmp_path, markup):
    import time

    page = write(tmp_path, "bad.html", markup.encode())
    started = time.perf_counter()
    load_document(page, "bad.html")
    assert time.perf_counter() - started < 20  # a few hundredths of a second to 2 s on a slow core, 6 s on a busy one


def test_a_link_opened_inside_a_link_closes_it_as_browsers_do(tmp_path):
    page = write(tmp_path, "links.html", b'<p><a href="/1">one <a href="/2">two</a> three</a></p>')
    assert [(link.url, link.text) for link in load(page).links] == [("/1", "one"), ("/2", "two")]


def test_a_fifo_among_the_reposts_is_reported_not_waited_for(tmp_path):
    import os

    from compliance.errors import InputError
    from compliance.ingest.load import read_text

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_text(fifo)


@pytest.mark.parametrize("ahead", [False, True])  # one by one, or all at once before a scan's workers fork
def test_real_paths_locate_files_as_resolving_each_does(tmp_path, monkeypatch, ahead):
    import os

    from compliance.ingest.discover import RealPaths

    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    (work / "desk").mkdir(parents=True)
    elsewhere.mkdir()
    files = [work / "a.txt", work / "desk" / "b.txt", elsewhere / "c.txt"]
    for file in files:
        file.write_text("x", encoding="utf-8")
    (work / "link.txt").symlink_to(elsewhere / "c.txt")  # a linked file is named where it really is
    (work / "linked-desk").symlink_to(work / "desk", target_is_directory=True)
    files += [work / "link.txt", work / "linked-desk" / "b.txt", work / "desk" / ".." / "a.txt"]
    monkeypatch.chdir(work)
    files += [Path("a.txt"), Path("desk") / "b.txt", Path("link.txt")]  # named from the working folder
    paths = RealPaths()
    if ahead:
        paths.resolve_ahead([*files, tmp_path / "gone" / "d.txt"])  # a folder it cannot read is left for later
        assert paths(work / "link.txt") == str((elsewhere / "c.txt").resolve())
    for root in (work, work / "desk", tmp_path):
        for file in files:
            relative = os.path.relpath(file.resolve(), root)
            expected = file.resolve().as_posix() if relative.startswith("..") else Path(relative).as_posix()
            assert paths.location(file, root) == expected
    assert paths.location(work / "link.txt", tmp_path) == "elsewhere/c.txt"
    assert paths.location(work / "link.txt", work) == (elsewhere / "c.txt").resolve().as_posix()  # outside the root


def test_the_walk_names_each_file_by_the_real_path_the_state_would_resolve(tmp_path, monkeypatch):
    """Discovery keeps the real path of every file it walked to (folders resolved once, links
    followed): the state takes them instead of resolving each file again."""
    import os
    import shutil

    from conftest import EXAMPLES

    from compliance.ingest.discover import RealPaths

    shutil.copytree(EXAMPLES / "reposts", tmp_path / "real" / "reposts")
    (tmp_path / "desk").mkdir()
    (tmp_path / "desk" / "reposts").symlink_to(tmp_path / "real" / "reposts")  # the scanned folder is a link
    (tmp_path / "real" / "reposts" / "again.txt").symlink_to(tmp_path / "real" / "reposts" / "home-depot-sales.txt")
    monkeypatch.chdir(tmp_path / "desk")
    found = discover([Path("reposts")], Path.cwd())
    assert len(found.files) == 6 and set(found.real_paths) == {os.fspath(file) for file, _ in found.files}
    for file, _ in found.files:
        assert found.real_paths[os.fspath(file)] == RealPaths()(file), file
    assert found.real_paths[os.fspath(Path("reposts/again.txt"))] == str(tmp_path / "real" / "reposts" / "home-depot-sales.txt")
