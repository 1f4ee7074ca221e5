"""Shared fixtures: real articles from tests/data/corpus.jsonl and helpers to write reposts."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from compliance.checks import load_pack
from compliance.ingest import load_document
from compliance.similarity import Matcher, load_catalogue

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
SEED_REPOST = EXAMPLES / "reposts" / "niac-missiles-repost.txt"
DISCLAIMER = SEED_REPOST.read_text(encoding="utf-8").strip().split("\n\n")[-1]


@pytest.fixture(scope="session")
def corpus() -> dict[str, dict]:
    """Real articles by id."""
    lines = (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["id"]: record for record in map(json.loads, lines)}


@pytest.fixture(scope="session")
def catalogue():
    loaded = load_catalogue([DATA / "corpus.jsonl"])
    assert not loaded.errors
    return loaded


@pytest.fixture(scope="session")
def default_pack():
    return load_pack()


@pytest.fixture(scope="session")
def matcher(catalogue, default_pack) -> Matcher:
    return Matcher.build(catalogue.sources, default_pack.matching, (DISCLAIMER,))


def paragraphs(article: dict) -> list[str]:
    return [p.strip() for p in article["text"].split("\n") if p.strip()]


def write_txt(folder: Path, name: str, title: str, body: list[str]) -> Path:
    """A repost laid out like the seed: title, desk header, paragraphs."""
    path = folder / name
    path.write_text(f"{title}\n\nNews\nPost At: Nov 20/2024 09:12AM\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
    return path


def load(path: Path):
    return load_document(path, path.name)


def _state_in_checkout() -> dict[str, float]:
    folder = ROOT / ".compliance"
    return {p.name: p.stat().st_mtime for p in folder.iterdir()} if folder.is_dir() else {}


@pytest.fixture(scope="session", autouse=True)
def checkout_state_untouched():
    """The checkout's `.compliance/` is the developer's own state: no test may write there."""
    before = _state_in_checkout()
    yield
    assert _state_in_checkout() == before, "a test wrote scan state into the checkout's .compliance/"


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory, monkeypatch):
    """Scans in one test must not reuse results another test stored (tests patch rules and
    files in ways the state cannot see): the default state lives in the test's own folder."""
    import compliance.cli.main

    monkeypatch.setattr(compliance.cli.main, "STATE_FILE", tmp_path_factory.mktemp("state") / "state.db")


@pytest.fixture
def desk(tmp_path, monkeypatch) -> Path:
    """A desk folder with the examples' reposts and sources; the test runs from inside it."""
    shutil.copytree(EXAMPLES / "reposts", tmp_path / "reposts")
    shutil.copytree(EXAMPLES / "sources", tmp_path / "sources")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# What each state migration added (compliance/state/store.py MIGRATIONS), undone newest first:
# a state file as an older version of compliance left it, for the migration tests.
_UNDO_MIGRATION = {
    2: ["DROP TABLE pending_alerts"],
    3: ["DROP TABLE decisions"],
    4: ["DROP TABLE document_traces", "DROP TABLE catalogue_snapshot"],
    5: ["ALTER TABLE documents DROP COLUMN signature", "DROP TABLE document_rows"],
    6: ["ALTER TABLE documents DROP COLUMN outcome", "DROP TABLE catalogue_aliases", "DROP TABLE open_digests"],
}


def downgrade_state(path: Path, version: int) -> None:
    """Turn the state database at `path` into one of schema `version`."""
    import sqlite3

    from compliance.state.store import SCHEMA_VERSION

    assert set(_UNDO_MIGRATION) == set(range(2, SCHEMA_VERSION + 1)), "a new migration needs its undo here"
    db = sqlite3.connect(path)
    try:
        for step in range(SCHEMA_VERSION, version, -1):
            for statement in _UNDO_MIGRATION[step]:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {version}")
        db.commit()
    finally:
        db.close()
