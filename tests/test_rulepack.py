"""Rule packs: the default pack, `extends`, errors that name file and line, scopes and path globs."""
from __future__ import annotations

from pathlib import Path

import pytest

from compliance.checks import load_pack
from compliance.checks.scope import Scope
from compliance.errors import ComplianceError
from compliance.ingest import load_document
from compliance.model import Severity

ROOT = Path(__file__).parent.parent
SEED = next(
    path for path in (ROOT / "examples" / "seed" / "reposts" / "niac-missiles-repost.txt",
                      ROOT / "examples" / "reposts" / "niac-missiles-repost.txt")
    if path.exists()
)
DEFAULT_IDS = ["disclaimer-missing", "attribution-missing", "attribution-mismatch", "caption-duplicated", "excerpt-limit",
               "attribution-unverified"]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> ComplianceError:
    with pytest.raises(ComplianceError) as caught:
        load_pack(path)
    return caught.value


def rules(pack) -> dict:
    return {rule.id: rule for rule in pack.rules}


# -- the default pack ------------------------------------------------------------------------

def test_default_pack_rule_ids_and_severities():
    pack = load_pack()
    assert [rule.id for rule in pack.rules] == DEFAULT_IDS
    assert [rule.severity for rule in pack.rules] == [
        Severity.ERROR, Severity.ERROR, Severity.ERROR, Severity.WARNING, Severity.ERROR, Severity.WARNING,
    ]
    assert all(rule.enabled for rule in pack.rules)


def test_default_pack_options_and_matching():
    pack = load_pack("default")
    caption = rules(pack)["caption-duplicated"]
    assert caption.type == "repetition"
    assert caption.options == {"min_words": 6, "min_similarity": 92.0}
    assert rules(pack)["disclaimer-missing"].options["text"].startswith("Disclaimer: The copyright of this article")
    assert (pack.matching.shingle_words, pack.matching.min_containment) == (4, 0.45)


# -- extends ---------------------------------------------------------------------------------

EXTENDS_DEFAULT = """\
version: 1
extends: default
matching:
  min_containment: 0.6
rules:
  - id: caption-duplicated
    severity: error
  - id: excerpt-limit
    enabled: false
  - id: scraping-debris
    type: forbidden-text
    severity: warning
    patterns: ["media playback is unsupported", "we use cookies"]
"""


def test_extends_default_overrides_disables_and_adds(tmp_path):
    pack = load_pack(write(tmp_path, "desk.yaml", EXTENDS_DEFAULT))
    by_id = rules(pack)
    assert [rule.id for rule in pack.rules] == [*DEFAULT_IDS, "scraping-debris"]
    assert by_id["caption-duplicated"].severity is Severity.ERROR
    assert by_id["caption-duplicated"].options == {"min_words": 6, "min_similarity": 92.0}  # inherited
    assert by_id["excerpt-limit"].enabled is False
    assert "excerpt-limit" not in [rule.id for rule in pack.enabled_rules]
    debris = by_id["scraping-debris"]
    assert (debris.type, debris.severity) == ("forbidden-text", Severity.WARNING)
    assert debris.options == {"patterns": ["media playback is unsupported", "we use cookies"]}
    assert pack.matching.min_containment == 0.6
    assert pack.matching.min_coverage == 0.5  # inherited from the default pack


def test_extends_changes_the_fingerprint(tmp_path):
    assert load_pack(write(tmp_path, "desk.yaml", EXTENDS_DEFAULT)).fingerprint() != load_pack().fingerprint()


def test_extends_with_a_path_relative_to_the_pack(tmp_path, monkeypatch):
    write(tmp_path, "shared/base.yaml", """\
version: 1
rules:
  - id: debris
    type: forbidden-text
    severity: info
    patterns: ["Media playback is unsupported"]
""")
    child = write(tmp_path, "desks/news.yaml", "version: 1\nextends: ../shared/base.yaml\nrules:\n  - id: debris\n    severity: warning\n")
    monkeypatch.chdir(tmp_path / "shared")  # resolved against the pack, not the working folder
    pack = load_pack(child)
    (debris,) = pack.rules
    assert debris.severity is Severity.WARNING
    assert debris.options == {"patterns": ["Media playback is unsupported"]}
    assert [Path(file).resolve() for file in pack.files] == [(tmp_path / "shared/base.yaml").resolve(), child.resolve()]


# -- errors name the file and the line -------------------------------------------------------

@pytest.mark.parametrize("text, line, complaint", [
    pytest.param("version: 1\nrules:\n  - id: a\n    type: forbidden-text\n     severity: warning\n",
                 5, "invalid YAML", id="yaml-syntax"),
    pytest.param("version: 1\nrules:\n  - id: a\n    type: forbidden-text\n    patterns: [x]\n"
                 "  - id: b\n    severity: warning\n    type: no-such-type\n",
                 8, "unknown type 'no-such-type'", id="unknown-type"),
    pytest.param("version: 1\nrules:\n  - id: a\n    type: forbidden-text\n    patterns: [x]\n    severity: critical\n",
                 6, "severity must be one of info, warning, error", id="bad-severity"),
    pytest.param("version: 1\nrules:\n  - id: a\n    type: forbidden-text\n    patterns: [x]\n    min_words: 3\n",
                 6, "unknown option 'min_words' for type forbidden-text", id="unknown-option"),
    pytest.param("version: 1\nrules:\n  - id: a\n    type: repetition\n    severity: info\n    min_words: many\n",
                 6, "option 'min_words' must be a whole number", id="wrong-option-type"),
    pytest.param("version: 1\nrules:\n  - id: a\n    type: repetition\n    min_similarity: 150\n",
                 5, "option 'min_similarity' must be from 0 to 100", id="option-out-of-range"),
    pytest.param("version: 1\nrules:\n  - id: a\n    type: forbidden-text\n    patterns: [x]\n    scope: middle:3\n",
                 6, "unknown scope 'middle:3'", id="invalid-scope"),
    pytest.param("version: 1\nrules:\n  - id: a\n    type: forbidden-text\n    patterns: [x]\n"
                 "  - type: forbidden-text\n    patterns: [y]\n",
                 6, "rule has no 'id'", id="missing-id"),
    pytest.param("version: 1\nrules: []\nsettings:\n  strict: true\n",
                 3, "unknown field 'settings'", id="unknown-top-level-field"),
    pytest.param("version: 1\nextends: default\nmatching:\n  shingle_words: 4\n  min_containment: 1.5\n",
                 5, "matching: 'min_containment' must be from 0.0 to 1.0, not 1.5", id="matching-out-of-range"),
    pytest.param("version: 1\nmatching:\n  shingle_words: 4\n  min_overlap: 0.5\n",
                 4, "unknown matching setting 'min_overlap'", id="matching-unknown-setting"),
    pytest.param("version: 1\nmatching:\n  shingle_words: 4.5\n",
                 3, "'shingle_words' must be a whole number", id="matching-wrong-type"),
    pytest.param("version: 1\nextends: default\nmatching:\n  min_long_words: 0\n",
                 4, "matching: 'min_long_words' must be at least 1, not 0", id="matching-long-words-out-of-range"),
    pytest.param("version: 1\nmatching:\n  long_span_words: 40.5\n",
                 3, "'long_span_words' must be a whole number", id="matching-long-span-wrong-type"),
])
def test_pack_error_names_file_and_line(tmp_path, text, line, complaint):
    path = write(tmp_path, "pack.yaml", text)
    error = load_error(path)
    assert error.line == line
    assert str(error).startswith(f"{path}:{line}: ")
    assert complaint in str(error)


def test_extends_cycle_is_an_error_naming_both_files(tmp_path):
    first = write(tmp_path, "first.yaml", "version: 1\nextends: second.yaml\nrules: []\n")
    write(tmp_path, "second.yaml", "version: 1\nextends: first.yaml\nrules: []\n")
    message = str(load_error(first))
    assert "'extends' makes a cycle" in message
    assert "first.yaml" in message and "second.yaml" in message


def test_extends_cycle_names_the_extends_line(tmp_path):
    path = write(tmp_path, "self.yaml", "version: 1\nextends: self.yaml\nrules: []\n")
    error = load_error(path)
    assert str(error).startswith(f"{path}:2: ")


def test_error_in_an_inherited_field_names_the_file_it_is_in(tmp_path):
    base = write(tmp_path, "base.yaml", "version: 1\nrules:\n  - id: repeats\n    type: repetition\n"
                                        "    severity: warning\n    min_words: many\n")
    child = write(tmp_path, "child.yaml", "version: 1\nextends: base.yaml\nrules:\n  - id: repeats\n    severity: error\n")
    assert str(load_error(child)).startswith(f"{base}:6: ")


def test_rule_that_is_not_a_mapping_names_its_line(tmp_path):
    path = write(tmp_path, "pack.yaml", "version: 1\nrules:\n  - id: a\n    type: forbidden-text\n    patterns: [x]\n  - 5\n")
    assert str(load_error(path)).startswith(f"{path}:6: ")


# -- scopes and paths ------------------------------------------------------------------------

def test_scope_last_2_picks_the_last_two_body_blocks():
    document = load_document(SEED, SEED.name)
    picked = Scope.parse("last:2").select(document)
    assert [block.line for block in picked] == [34, 36]
    assert picked[0].text.startswith("Tehran has also asked")
    assert picked[1].text.startswith("Disclaimer:")


def test_scope_first_n_skips_title_and_desk_header():
    document = load_document(SEED, SEED.name)
    assert [block.line for block in Scope.parse("first:2").select(document)] == [6, 8]
    assert [block.line for block in Scope.parse(["title", "last:1"]).select(document)] == [1, 36]


def test_rule_paths_limit_where_a_rule_applies(tmp_path):
    pack = load_pack(write(tmp_path, "pack.yaml", """\
version: 1
rules:
  - id: columns-only
    type: forbidden-text
    patterns: ["sponsored"]
    paths: ["columns/*.md", "*.html"]
  - id: everywhere
    type: forbidden-text
    patterns: ["sponsored"]
"""))
    columns_only, everywhere = pack.rules
    assert columns_only.applies_to("columns/opinion.md")
    assert columns_only.applies_to("moon-shot.html")
    assert not columns_only.applies_to("news/opinion.md")
    assert not columns_only.applies_to("columns/opinion.txt")
    assert everywhere.applies_to("news/opinion.md")
