"""The source catalogue: real sources with front matter, JSONL and HTML; bad entries are collected, not fatal."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from compliance.cli.main import main
from compliance.model import License
from compliance.similarity import load_catalogue

# Three real sources copied from the dev evaluation set (shared/eval/dev/sources).
REAL_SOURCES = Path(__file__).parent / "data" / "ingest" / "catalogue"
RT, NBC, REMEMBER = "sh-4a44ab3e4c41", "sh-5a822960e9a2", "sh-b6fb53e9fb04"


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "sources"
    shutil.copytree(REAL_SOURCES, root)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, *records) -> Path:
    return write(path, "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")


def by_id(catalogue) -> dict:
    return {source.id: source for source in catalogue.sources}


def only_error(catalogue):
    assert len(catalogue.errors) == 1, [str(e) for e in catalogue.errors]
    return catalogue.errors[0]


# -- good sources ----------------------------------------------------------------------------

def test_folder_of_markdown_sources_loads_front_matter_fields(folder):
    catalogue = load_catalogue([folder])
    assert catalogue.errors == []
    sources = by_id(catalogue)
    assert sorted(sources) == [RT, NBC, REMEMBER]
    nbc = sources[NBC]
    assert nbc.publisher == "NBC News"
    assert nbc.title == "House Hitler was born in to become police station"
    assert nbc.url.startswith("https://www.nbcnews.com/news/world/house-hitler")
    assert nbc.license is License.FULL and nbc.max_excerpt is None
    assert nbc.text.startswith("VIENNA — The house where Adolf Hitler was born")
    assert not nbc.text.startswith("---")
    assert nbc.origin == str(folder / f"{NBC}.md")


def test_excerpt_license_with_max_excerpt(folder):
    remember = by_id(load_catalogue([folder]))[REMEMBER]
    assert remember.license is License.EXCERPT
    assert remember.max_excerpt == 0.3
    assert remember.author == "Rmb"


def test_id_defaults_to_file_stem_and_license_to_full(folder):
    write(folder / "desk" / "reuters-bolivia.md", "---\npublisher: Reuters\n---\n\nThree people have died during protests.\n")
    source = by_id(load_catalogue([folder]))["reuters-bolivia"]
    assert source.publisher == "Reuters"
    assert source.license is License.FULL
    assert source.text == "Three people have died during protests."


def test_hidden_files_and_other_suffixes_are_ignored(folder):
    write(folder / ".draft.md", "---\npublisher: Reuters\n---\n\nDraft.\n")
    write(folder / "notes.csv", "id,publisher\n")
    catalogue = load_catalogue([folder])
    assert catalogue.errors == []
    assert sorted(by_id(catalogue)) == [RT, NBC, REMEMBER]


def test_jsonl_file_loads_one_source_per_line(tmp_path):
    path = write_jsonl(
        tmp_path / "wire.jsonl",
        {"id": "rt-bolivia", "publisher": "RT International", "aliases": ["RT"], "published": "2019-11-19",
         "text": "Three people have died during protests in Bolivia."},
        "",
        {"publisher": "NBC News", "license": "excerpt", "max_excerpt": 0.25,
         "text": "VIENNA — The house where Adolf Hitler was born will be turned into a police station."},
    )
    catalogue = load_catalogue([path])
    assert catalogue.errors == []
    rt, nbc = catalogue.sources
    assert (rt.id, rt.aliases, rt.published, rt.origin) == ("rt-bolivia", ("RT",), "2019-11-19", f"{path}:1")
    assert (nbc.id, nbc.license, nbc.max_excerpt) == ("wire-3", License.EXCERPT, 0.25)


def test_html_source_keeps_article_text_only(tmp_path):
    path = write(tmp_path / "aljazeera-moon.html", "---\npublisher: Al Jazeera\nlicense: none\n---\n"
                 "<html><head><title>NASA’s commercial moon shot</title></head><body>"
                 "<nav>Home | World</nav><article><h1>NASA’s commercial moon shot</h1>"
                 "<p>Getting to the Moon, while not easy, has been done.</p>"
                 "<p>Staying on the Moon and reaching Mars, however, haven’t.</p></article>"
                 "<footer>About us</footer></body></html>\n")
    catalogue = load_catalogue([path])
    assert catalogue.errors == []
    (source,) = catalogue.sources
    assert (source.id, source.publisher, source.license) == ("aljazeera-moon", "Al Jazeera", License.NONE)
    assert "Getting to the Moon, while not easy" in source.text
    assert "Home" not in source.text and "About us" not in source.text


# -- bad sources: reported, the rest still load ----------------------------------------------

@pytest.mark.parametrize("front_matter, complaint", [
    ("title: No publisher\n", "no 'publisher'"),
    ("publisher: Reuters\nlicense: sometimes\n", "'license' must be full, excerpt or none"),
    ("publisher: Reuters\nlicense: excerpt\n", "needs 'max_excerpt'"),
    ("publisher: Reuters\nlicense: excerpt\nmax_excerpt: 1.5\n", "'max_excerpt' must be a fraction from 0 to 1"),
    ("publisher: Reuters\nmax_excerpt: -0.1\n", "'max_excerpt' must be a fraction from 0 to 1"),
])
def test_bad_front_matter_is_an_error_naming_the_file(folder, front_matter, complaint):
    bad = write(folder / "bad-source.md", f"---\n{front_matter}---\n\nSome article text.\n")
    catalogue = load_catalogue([folder])
    error = only_error(catalogue)
    assert complaint in str(error)
    assert str(bad) in str(error)
    assert sorted(by_id(catalogue)) == [RT, NBC, REMEMBER]


def test_malformed_front_matter_yaml_names_file_and_line(folder):
    bad = write(folder / "broken.md", "---\npublisher: Reuters\ntitle: Bolivia: protests: deaths\n---\n\nText.\n")
    catalogue = load_catalogue([folder])
    assert str(only_error(catalogue)).startswith(f"{bad}:3: ")
    assert len(catalogue.sources) == 3


def test_invalid_json_line_names_file_and_line(tmp_path):
    path = write_jsonl(
        tmp_path / "wire.jsonl",
        {"id": "good-1", "publisher": "Reuters", "text": "First article."},
        '{"id": "broken", "publisher": "Reuters", text: }',
        {"id": "good-3", "publisher": "Reuters", "text": "Third article."},
    )
    catalogue = load_catalogue([path])
    error = only_error(catalogue)
    assert str(error).startswith(f"{path}:2: invalid JSON")
    assert [s.id for s in catalogue.sources] == ["good-1", "good-3"]


@pytest.mark.parametrize("record, complaint", [
    ({"id": "x", "publisher": "Reuters"}, "no 'text'"),
    ({"id": "x", "text": "Article."}, "no 'publisher'"),
    ({"id": "x", "publisher": "Reuters", "license": "excerpt", "text": "Article."}, "needs 'max_excerpt'"),
    ({"id": "x", "publisher": "Reuters", "max_excerpt": True, "text": "Article."}, "'max_excerpt' must be a fraction"),
    (["not", "an", "object"], "must be a JSON object"),
])
def test_bad_jsonl_record_is_an_error_naming_file_and_line(tmp_path, record, complaint):
    path = write_jsonl(tmp_path / "wire.jsonl", {"id": "good", "publisher": "Reuters", "text": "Article."}, record)
    catalogue = load_catalogue([path])
    error = only_error(catalogue)
    assert str(error).startswith(f"{path}:2: ")
    assert complaint in str(error)
    assert [s.id for s in catalogue.sources] == ["good"]


def test_duplicate_id_keeps_the_first_and_reports_the_second(folder):
    extra = write_jsonl(
        folder / "wire.jsonl",  # sorts after the .md files, so the .md source is seen first
        {"id": NBC, "publisher": "Someone Else", "text": "A different text."},
        {"id": "fresh", "publisher": "Reuters", "text": "New text."},
    )
    catalogue = load_catalogue([folder])
    error = only_error(catalogue)
    assert f"'{NBC}' is already used by {folder / (NBC + '.md')}" in str(error)
    assert str(extra) in str(error)
    sources = by_id(catalogue)
    assert sorted(sources) == sorted([RT, NBC, REMEMBER, "fresh"])
    assert sources[NBC].publisher == "NBC News"


def test_missing_path_is_an_error_not_a_crash(tmp_path):
    catalogue = load_catalogue([tmp_path / "nowhere"])
    assert catalogue.sources == []
    assert str(only_error(catalogue)) == f"{tmp_path / 'nowhere'}: no such file or folder"


def test_a_missing_path_named_twice_is_said_once(tmp_path, capsys, monkeypatch):
    """Found by benchmarks/fuzz.py: a configuration's `sources: [out, index.db, out]`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reposts").mkdir()
    config = tmp_path / ".compliance.yaml"
    config.write_text("sources:\n- out\n- index.db\n- out\n", encoding="utf-8")
    assert main(["scan", str(tmp_path / "reposts"), "--config", str(config), "--no-state", "-q"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("compliance: error: ")]
    assert sorted(errors) == [f"compliance: error: {tmp_path / name}: no such file or folder" for name in ("index.db", "out")]


@pytest.mark.parametrize("bytes_per_job", [997, 10])  # runs of several lines; runs shorter than a line
def test_a_large_jsonl_catalogue_parsed_on_workers_loads_what_one_process_loads(tmp_path, monkeypatch, bytes_per_job):
    from compliance.similarity import catalogue as catalogue_module

    path = tmp_path / "big.jsonl"
    lines = [json.dumps({"id": f"s{n}", "publisher": f"Pub {n % 7}", "text": f"Article {n} says something."}) for n in range(500)]
    lines[17] = "{not json"
    lines[230] = json.dumps({"id": "s230", "text": "no publisher"})
    lines[301] = json.dumps({"id": "s5", "publisher": "Dup", "text": "a duplicate id"})
    lines[444] = ""
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "bad", "text": "\xff"}\n' + b'{"id": "after"}\n')

    one = load_catalogue([path], jobs=1)
    monkeypatch.setattr(catalogue_module, "_PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(catalogue_module, "_BYTES_PER_JOB", bytes_per_job)  # many runs, one cut by the bad bytes
    two = load_catalogue([path], jobs=2)
    assert [s.id for s in two.sources] == [s.id for s in one.sources] and len(one.sources) == 496
    assert [str(e) for e in two.errors] == [str(e) for e in one.errors]
    assert [e.line for e in one.errors[:3]] == [18, 231, 501]  # the unreadable line ends the file
    assert "s5" in str(one.errors[3]) and "big.jsonl:302" in str(one.errors[3])  # the duplicate id


def test_the_listing_is_the_files_a_recursive_glob_finds_in_its_order(tmp_path):
    """`list_catalogue` stats each file once, where the catalogue globbed then stat'ed every path."""
    from compliance.similarity.catalogue import SOURCE_SUFFIXES, list_catalogue

    root = tmp_path / "sources"
    for name in ["a-b.md", "a/b.md", "a/c/d.txt", "a.md", "A.MD", "wire.jsonl", "notes.csv", ".hidden.md", ".git/x.md",
                 "h/.drafts/y.md", "h/z.htm", "page.HTML", "odd.md.", "no-suffix"]:
        write(root / name, "---\npublisher: Reuters\n---\n\nText.\n")
    (root / "linked-folder").symlink_to(root / "a", target_is_directory=True)  # a glob does not follow it
    (root / "linked.md").symlink_to(root / "a" / "b.md")
    (root / "dangling.md").symlink_to(root / "nowhere.md")
    (root / "folder.md").mkdir()
    globbed = [str(path) for path in sorted(root.rglob("*")) if path.is_file()
               and not any(part.startswith(".") for part in path.relative_to(root).parts)
               and path.suffix.lower() in SOURCE_SUFFIXES | {".jsonl"}]
    single = root / "notes.csv"  # named itself, a file is listed whatever its suffix
    listing = list_catalogue([root, tmp_path / "nowhere", single])
    assert [file.path for file in listing.files[:-1]] == globbed and len(globbed) == 9
    assert [(before, str(error)) for before, error in listing.errors] == [(9, f"{tmp_path / 'nowhere'}: no such file or folder")]
    assert listing.files[-1].path == str(single) and not listing.files[-1].jsonl
    assert [file.jsonl for file in listing.files].count(True) == 1
