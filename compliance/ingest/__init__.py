"""Ingest: files on disk -> `Document`s with blocks that remember their lines.

`discover` walks what the user named; `load_document` reads one file (`read_text`, then
`parse_document`). A file that cannot be read raises `InputError`, which the scan turns into a
finding of its own and goes on.
"""
from compliance.ingest.discover import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, Discovery, discover
from compliance.ingest.load import load_document, parse_document, read_text

__all__ = ["DEFAULT_MAX_BYTES", "SUPPORTED_SUFFIXES", "Discovery", "discover", "load_document", "parse_document", "read_text"]
