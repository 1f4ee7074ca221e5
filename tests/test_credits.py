"""Whom a credit names.

Real forms are quoted from the corpus pages (/work/shared/corpus/pages, by page id).
"""
from __future__ import annotations

from conftest import load, write_txt

from compliance.checks.attribution import attribution_lines


def test_attribution_forms_are_whole_words(tmp_path):
    """'VIAF: 130102165' (rd-wikipedia-2) and "Viacom's C5 ..." (sh-ac1bfdd4c510) are no "Via" lines."""
    for line in ("VIAF: 130102165", "Viacom’s C5 Plots ‘How Green Is My Valley’ Remake"):
        document = load(write_txt(tmp_path, "r.txt", "T", [line]))
        assert attribution_lines(document, document.blocks) == []
