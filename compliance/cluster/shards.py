"""A catalogue partitioned by source id into shard indexes, and the manifest that ties them.

Layout of a sharded index folder:
    manifest.json        {"format": 1, "shards": N, "catalogue": fingerprint, "parameters": {...},
                          "files": ["shard-0.db", ...]}
    shard-K.db           an index of the single machine's format (schema 5, its band keys in
                         shard-K.db.bands-TOKEN files beside it) holding the sources
                         whose id hashes to K; sources keep the numbers an index of the whole
                         catalogue gives them, so that merged rankings break ties alike

A source's shard is a stable hash of its id (xxh3, not Python's salted `hash`): an update
sends a new source to the same shard whatever machine computes it.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import xxhash

from compliance.errors import ComplianceError
from compliance.model import Source
from compliance.similarity.index import IndexParameters
from compliance.similarity.store import SyncReport, build_index, content_hash, remove_unused_bands

MANIFEST = "manifest.json"
FORMAT = 1
MAX_SHARDS = 4096  # more shard files than any cluster has nodes for: a typo, not a plan


def shard_of(source_id: str, count: int) -> int:
    return xxhash.xxh3_64_intdigest(source_id.encode("utf-8", "surrogatepass")) % count


def shard_file(number: int) -> str:
    return f"shard-{number}.db"


def catalogue_fingerprint(sources: list[Source]) -> str:
    """Names one build: every id and content, in id order. Each shard file carries it too, so a
    service refuses shard files of different builds mixed in one folder."""
    digest = xxhash.xxh3_128()
    for source_id, hashed in sorted((source.id, content_hash(source)) for source in sources):
        digest.update(f"{source_id}\0{hashed}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    shards: int
    catalogue: str
    parameters: dict
    files: tuple[str, ...]
    format: int = FORMAT

    @classmethod
    def load(cls, folder: Path) -> "Manifest":
        path = folder / MANIFEST
        if not path.is_file():
            raise ComplianceError("not a sharded index (no manifest.json; build one with `compliance index build --shards N`)",
                                  str(folder))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(int(data["shards"]), str(data["catalogue"]), dict(data["parameters"]),
                           tuple(str(name) for name in data["files"]), int(data["format"]))
        except (ValueError, KeyError, TypeError) as error:
            raise ComplianceError(f"damaged manifest ({type(error).__name__}: {error})", str(path)) from None
        if manifest.format != FORMAT or manifest.shards != len(manifest.files) or not manifest.shards:
            raise ComplianceError(f"manifest of format {manifest.format} with {len(manifest.files)} files for "
                                  f"{manifest.shards} shards is not one this version reads", str(path))
        return manifest

    def paths(self, folder: Path) -> list[Path]:
        return [folder / name for name in self.files]

    def write(self, folder: Path) -> None:
        path = folder / MANIFEST
        temporary = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({**asdict(self), "files": list(self.files)}, indent=2, sort_keys=True) + "\n",
                             encoding="utf-8")
        os.replace(temporary, path)


def build_shards(folder: Path, sources: list[Source], parameters: IndexParameters, count: int, jobs: int = 1,
                 progress=None) -> SyncReport:
    """A fresh sharded index of `sources` in `folder`: every shard file written beside its
    place and moved in when complete, then the manifest, which is what makes them one index."""
    if not 1 <= count <= MAX_SHARDS:
        raise ComplianceError(f"--shards must be from 1 to {MAX_SHARDS}, not {count}")
    if folder.exists() and not folder.is_dir():
        raise ComplianceError("a sharded index is a folder, and this is a file", str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    numbering = {source.id: number for number, source in enumerate(sources, start=1)}  # as one index numbers them
    parts: list[list[Source]] = [[] for _ in range(count)]
    for source in sources:
        parts[shard_of(source.id, count)].append(source)
    fingerprint = catalogue_fingerprint(sources)
    done = 0
    for number, part in enumerate(parts):
        def shard_progress(finished: int, _total: int, before: int = done) -> None:
            if progress:
                progress(before + finished, len(sources))
        meta = {"shard": json.dumps({"index": number, "count": count, "catalogue": fingerprint}, sort_keys=True)}
        build_index(folder / shard_file(number), part, parameters, jobs, shard_progress, numbering=numbering, meta=meta)
        done += len(part)
    Manifest(count, fingerprint, parameters.as_dict(), tuple(shard_file(number) for number in range(count))).write(folder)
    for stale in folder.glob("shard-*.db"):  # of an earlier build with more shards
        if stale.name not in {shard_file(number) for number in range(count)}:
            stale.unlink(missing_ok=True)
            remove_unused_bands(stale, set())
    return SyncReport(len(sources), 0, 0, 0)


def shard_meta(meta: dict[str, str], path: Path) -> dict:
    """What a shard file says of its place: {"index", "count", "catalogue"}."""
    try:
        return json.loads(meta["shard"])
    except (KeyError, ValueError):
        raise ComplianceError("not a shard of a sharded index (its meta has no 'shard')", str(path)) from None
