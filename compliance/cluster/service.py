"""The shard service: one detached, named Ray actor per shard of a sharded index, and the
checker actors that scans send their chunks to (`scan.CheckerActor`).

Each actor opens its shard file, loads its band keys and answers, for a batch of reposts'
band keys, how many of its keys equal each one and whose they are (`BandIndex.key_matches`),
and the sources a scan verifies against. Detached and named (`shard-K` in the namespace
`compliance`), it outlives the command that started it, and scans find it by name.

An actor that dies (its node lost, killed, out of memory) is restarted by Ray from its file
(`max_restarts=-1`), and calls made meanwhile are retried (`max_task_retries=-1`, and
`ShardClient.call`'s own retries for a handle that sees the actor gone): an update is
persisted to the shard file before it answers, so a restarted actor serves it too.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import ray
from ray.exceptions import GetTimeoutError, RayActorError

from compliance.cluster.shards import Manifest, shard_meta
from compliance.errors import ComplianceError
from compliance.model import Source
from compliance.similarity.store import IndexStore, SyncReport

NAMESPACE = "compliance"
RETRY_FOR = 180.0  # seconds a call waits for a restarting shard before the scan gives up
READY_WITHIN = 600.0  # seconds a shard may take to load its band keys when served


CHECKER_PREFIX = "checker-"


def actor_name(number: int) -> str:
    return f"shard-{number}"


def checker_name(number: int) -> str:
    return f"{CHECKER_PREFIX}{number}"


def connect(address: str | None, start: bool = False) -> None:
    """This process joins the Ray cluster at `address` ("auto": the one started on this
    machine with `ray start --head`; "ray://host:10001": through Ray Client). A process that
    has joined one already (a test, a notebook) keeps it. With `start`, a cluster is started
    on this machine when none runs."""
    if ray.is_initialized():
        return
    try:
        ray.init(address=address or "auto", namespace=NAMESPACE, logging_level="ERROR", log_to_driver=False)
    except ConnectionError as error:
        if address is not None or not start:
            raise ComplianceError(f"no Ray cluster at {address or 'this machine'} ({error}); start one with "
                                  "`ray start --head`, or give its --address / --cluster") from None
        _start_head()
        ray.init(address="auto", namespace=NAMESPACE, logging_level="ERROR", log_to_driver=False)


def _start_head() -> None:
    """`ray start --head` on this machine: a cluster that outlives this command, as the
    detached actors must (one started inside this process would end with it)."""
    command = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    done = subprocess.run([command, "start", "--head", "--disable-usage-stats", "--include-dashboard=false"],
                          capture_output=True, text=True)
    if done.returncode:
        raise ComplianceError(f"`ray start --head` failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")


@ray.remote(max_restarts=-1, max_task_retries=-1)
class ShardActor:
    """One shard: its index file opened, its band keys in memory."""

    def __init__(self, path: str, number: int, count: int, catalogue: str):
        self.path = Path(path)
        self.store = IndexStore.open(self.path)
        place = shard_meta(self.store.meta(), self.path)
        if (place["index"], place["count"], place["catalogue"]) != (number, count, catalogue):
            raise ComplianceError(f"shard file of shard {place['index']} of {place['count']} (build {place['catalogue'][:8]}), "
                                  f"served as shard {number} of {count} (build {catalogue[:8]})", path)
        self.number = number
        self.band = self.store.band_index()
        self.lookups = 0
        with warnings.catch_warnings():  # Ray's own property reads a deprecated one of its own
            warnings.simplefilter("ignore", DeprecationWarning)
            self.restarted = ray.get_runtime_context().was_current_actor_reconstructed

    def key_matches(self, query_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.lookups += 1
        return self.band.key_matches(query_keys)

    def sources(self, numbers: list[int]) -> list[Source]:
        return [self.store.read_source("number", number) for number in numbers]

    def numbered(self) -> dict[str, tuple[int, str]]:
        """Source id -> (number, content hash): what an update compares a catalogue with."""
        return {source_id: (number, digest) for source_id, number, digest in
                self.store.db.execute("SELECT id, number, content_hash FROM sources")}

    def apply(self, changed: list[tuple[int, Source]], removed: list[str]) -> SyncReport:
        """Written to the shard file first (one transaction), then served: a restart reloads it."""
        report = self.store.apply(changed, removed)
        self.band = self.store.band_index()
        return report

    def describe(self) -> dict:
        return {"shard": self.number, "path": str(self.path), "sources": len(self.store), "band_keys": len(self.band),
                "band_bytes": self.band.nbytes + self.band.directory.nbytes, "lookups": self.lookups,
                "restarted": self.restarted, "pid": os.getpid(), "node": ray.get_runtime_context().get_node_id(),
                "parameters": self.store.parameters().as_dict()}


@dataclass
class ShardClient:
    """The shards as a scan or an update sees them: by name, found when first called."""

    count: int
    _handles: dict | None = None

    @classmethod
    def find(cls) -> "ShardClient":
        """The shards served now (`compliance cluster serve`); an error when there are none."""
        names = sorted(named_actors("shard-"), key=lambda name: int(name.split("-")[1]))
        if not names:
            raise ComplianceError("no shards are served on this cluster; start them with `compliance cluster serve --index DIR`")
        if names != [actor_name(number) for number in range(len(names))]:
            raise ComplianceError(f"the cluster serves an incomplete set of shards ({', '.join(names)}); "
                                  "serve them again with `compliance cluster serve --index DIR`")
        return cls(len(names))

    def __getstate__(self) -> dict:
        return {"count": self.count, "_handles": None}  # a task finds the actors itself

    def handle(self, number: int, fresh: bool = False):
        if self._handles is None:
            self._handles = {}
        if fresh or number not in self._handles:
            try:
                self._handles[number] = ray.get_actor(actor_name(number), namespace=NAMESPACE)
            except ValueError:  # a restarting actor keeps its name: this one was stopped for good
                raise ComplianceError(f"shard {number} is no longer served (stopped by `compliance cluster stop`?); "
                                      "serve the index again and scan again") from None
        return self._handles[number]

    def call(self, method: str, per_shard: dict[int, tuple]) -> dict[int, object]:
        """`method` on each shard named in `per_shard` (with its arguments), at once; each
        answer waited for. A shard that died meanwhile is waited for while Ray restarts it, and
        asked again (lookups and reads change nothing, and `apply` is idempotent)."""
        deadline = time.monotonic() + RETRY_FOR
        answers: dict[int, object] = {}
        pending = dict(per_shard)
        while pending:
            refs = {number: getattr(self.handle(number), method).remote(*args) for number, args in pending.items()}
            failed = {}
            for number, ref in refs.items():
                try:
                    answers[number] = ray.get(ref, timeout=max(1.0, deadline - time.monotonic()))
                except (RayActorError, GetTimeoutError) as error:
                    failed[number] = error
            if failed and time.monotonic() >= deadline:
                number, error = next(iter(failed.items()))
                raise ComplianceError(f"shard {number} did not answer within {RETRY_FOR:.0f} s ({type(error).__name__})")
            if failed:
                time.sleep(0.5)
                for number in failed:
                    self.handle(number, fresh=True)
            pending = {number: per_shard[number] for number in failed}
        return answers

    def everywhere(self, method: str, *args) -> list:
        answers = self.call(method, {number: args for number in range(self.count)})
        return [answers[number] for number in range(self.count)]


def named_actors(prefix: str) -> list[str]:
    from ray.util import list_named_actors

    return [name for name in list_named_actors(all_namespaces=False) if name.startswith(prefix)]


def serve(folder: Path, checkers: int | None = None) -> tuple[list[dict], list[dict]]:
    """Start an actor per shard of the index in `folder` (whose files the cluster's nodes must
    read at the same path), or keep those served already from the same build; wait until
    every one has loaded its band keys. Then the checkers (`scan.serve_checkers`). What each
    shard and checker says of itself."""
    from compliance.cluster.scan import checker_count, serve_checkers

    manifest = Manifest.load(folder)
    checkers = checker_count(checkers, manifest.shards)
    paths = [path.resolve() for path in manifest.paths(folder)]
    for path in paths:
        if not path.is_file():
            raise ComplianceError("shard file missing", str(path))
    served = set(named_actors("shard-"))
    if served and served != {actor_name(number) for number in range(manifest.shards)}:
        raise ComplianceError(f"the cluster serves {len(served)} other shards; stop them first (`compliance cluster stop`)")
    handles = []
    for number, path in enumerate(paths):
        # Ray places a shard only on a node with room for its band keys (`memory` is a request
        # the scheduler counts, not a limit): two large shards on one node would swap.
        handles.append(ShardActor.options(name=actor_name(number), namespace=NAMESPACE, lifetime="detached",
                                          get_if_exists=True, memory=shard_memory(path))
                       .remote(str(path), number, manifest.shards, manifest.catalogue))
    try:
        described = ray.get([handle.describe.remote() for handle in handles], timeout=READY_WITHIN)
    except RayActorError as error:
        stop()
        cause = getattr(error, "cause", None) or error
        raise ComplianceError(f"a shard failed to start: {str(cause).strip().splitlines()[-1]}") from None
    except GetTimeoutError:
        stop()
        raise ComplianceError(f"the shards were not all placed and loaded within {READY_WITHIN:.0f} s: does the cluster have "
                              f"{max(shard_memory(path) for path in paths) / 1e6:,.0f} MB of memory free on a node per shard?") from None
    for found, path in zip(described, paths):
        if Path(found["path"]) != path:
            raise ComplianceError(f"shard {found['shard']} is served from {found['path']}; stop it first "
                                  "(`compliance cluster stop`)", str(path))
    return described, serve_checkers(checkers, READY_WITHIN)


ACTOR_BASE_BYTES = 200 * 2**20  # Python, numpy, numba's kernels and Ray's worker, measured at 110-130 MB (bench_cluster)


def shard_memory(path: Path) -> int:
    """Bytes a shard's actor holds: its band keys (loaded, or mapped and read whole in time) and
    the process around them."""
    store = IndexStore.open(path)
    try:
        arrays = store.band_bytes()
    finally:
        store.close()
    return arrays + ACTOR_BASE_BYTES


def status() -> list[dict]:
    client = ShardClient.find()
    return client.everywhere("describe")


def served_checkers() -> list:
    """Handles of the checker actors served now, by number."""
    handles = []
    for name in sorted(named_actors(CHECKER_PREFIX), key=lambda name: int(name[len(CHECKER_PREFIX):])):
        try:
            handles.append(ray.get_actor(name, namespace=NAMESPACE))
        except ValueError:  # stopped meanwhile
            pass
    return handles


def checkers_status() -> list[dict]:
    return ray.get([handle.describe.remote() for handle in served_checkers()], timeout=RETRY_FOR)


def stop_actor(name: str) -> None:
    try:
        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
    except ValueError:  # gone meanwhile
        pass


def stop() -> int:
    """Kill every shard and checker actor (for good: no restart). How many shards there were."""
    names = named_actors("shard-")
    for name in names + named_actors(CHECKER_PREFIX):
        stop_actor(name)
    return len(names)
