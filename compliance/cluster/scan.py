"""A scan and an index update against the shards a cluster serves.

The scan's process reads the reposts and sends chunks of them to the checker actors the
cluster serves (`CheckerActor`: long-lived, their code loaded and kernels compiled when
served), or to Ray tasks when it serves none; either runs the single machine's stages
(`pipeline._Checker`) with two differences: the chunk's band keys are looked up on every
shard at once and the answers merged as one index would rank them, and the sources it
verifies against come from the shards that hold them. Results come back in chunk order,
each chunk once: a chunk whose checker died is sent again (to another checker, or a task)
and its result replaces nothing, so no document is lost or reported twice.
"""
from __future__ import annotations

import datetime as dt
import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import ray
import xxhash
from ray.exceptions import RayActorError

from compliance.checks.engine import required_texts
from compliance.checks.rulepack import RulePack, load_pack
from compliance.checks.suppressions import Waiver
from compliance.cluster.service import (CHECKER_PREFIX, NAMESPACE, ShardClient, checker_name, connect, named_actors,
                                        served_checkers, stop_actor)
from compliance.cluster.shards import shard_of
from compliance.errors import ComplianceError
from compliance.ingest import DEFAULT_MAX_BYTES
from compliance.model import DocumentResult, Source
from compliance.pipeline import CHUNK, Sources, _Checker, _InProgress
from compliance.similarity import kernels
from compliance.similarity.index import IndexParameters, merge_key_matches, query_keys
from compliance.similarity.matcher import _WEAK_CANDIDATE, Matcher, MatchSettings
from compliance.similarity.store import MAX_SOURCE_NUMBER, SyncReport, content_hash


class ClusterSources:
    """Sources by number, read from the shard that holds each (`ClusterIndex` says which)."""

    def __init__(self, client: ShardClient):
        self.client = client
        self.shard_of_number: dict[int, int] = {}
        self._read: dict[int, Source] = {}

    def prefetch(self, numbers: list[int]) -> None:
        """Read these sources, one call per shard that holds some."""
        wanted: dict[int, list[int]] = {}
        for number in dict.fromkeys(numbers):
            if number not in self._read:
                wanted.setdefault(self.shard_of_number[number], []).append(number)
        for shard, sources in self.client.call("sources", {shard: (numbers,) for shard, numbers in wanted.items()}).items():
            self._read.update(zip(wanted[shard], sources))

    def __getitem__(self, number: int) -> Source:
        if number not in self._read:
            self.prefetch([number])
        return self._read[number]

    def urls(self) -> set[str]:
        raise ComplianceError("--fetch does not run with --cluster yet")


class ClusterIndex:
    """Candidates looked up on every shard, merged (`merge_key_matches`)."""

    def __init__(self, client: ShardClient, sources: ClusterSources, parameters: IndexParameters):
        self.client = client
        self.sources = sources
        self.parameters = parameters

    def rank(self, keys: list[np.ndarray], limit: int) -> list[list[tuple[int, int]]]:
        bounds, start = [], 0
        for part in keys:
            bounds.append((start, start + len(part)))
            start += len(part)
        everything = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
        answers = self.client.everywhere("key_matches", everything)
        for shard, (_, owners) in enumerate(answers):
            self.sources.shard_of_number.update(dict.fromkeys(np.unique(owners).tolist(), shard))
        return merge_key_matches(answers, bounds, limit)

    def shingle_candidates(self, shingles: np.ndarray, parameters: IndexParameters, stride: int, limit: int) -> list[tuple[int, int]]:
        return self.rank([query_keys(shingles, parameters, stride)], limit)[0]


@dataclass
class _ClusterChecker(_Checker):
    def _look_up(self, chunk: list[_InProgress]) -> None:
        """The chunk's candidates in one round trip per shard, then the sources that will be
        verified in one more (those `Matcher.matches` does not pass over as sharing a stray key)."""
        matcher = self.matcher
        self._stage(chunk, lambda item: setattr(item, "candidates", matcher.unranked(item.document)))
        waiting = [item for item in chunk if item.result is None and item.candidates is not None]
        if not waiting:
            return
        settings = matcher.settings
        keys = [query_keys(item.candidates.shingles, matcher.parameters, settings.query_stride) for item in waiting]
        wanted = []
        for item, ranked in zip(waiting, matcher.index.rank(keys, settings.max_candidates)):
            item.candidates.ranked = ranked
            if ranked:
                top = ranked[0][1]
                wanted.extend(number for number, hits in ranked if hits * _WEAK_CANDIDATE >= top or hits >= matcher._window_hits)
        matcher.sources.prefetch(wanted)


@dataclass
class _Job:
    """What a task needs to check chunks: sent to the object store once per scan."""

    pack: RulePack
    max_bytes: int
    waivers: list[Waiver]
    today: dt.date
    project_root: Path
    keep_texts: bool
    render_row: Callable[[DocumentResult], str] | None
    settings: MatchSettings
    boilerplate: tuple[str, ...]
    client: ShardClient

    def checker(self) -> _ClusterChecker:
        """A checker for one chunk: its matcher's caches hold that chunk's sources only (an
        update may change a source between chunks)."""
        sources = ClusterSources(self.client)
        matcher = Matcher(sources, ClusterIndex(self.client, sources, IndexParameters.of(self.settings)), self.settings,
                          self.boilerplate)
        return _ClusterChecker(matcher, self.pack, self.max_bytes, self.waivers, self.today, None, self.project_root,
                               self.keep_texts, self.render_row)

    def sent_back(self, result: DocumentResult) -> DocumentResult:
        if not self.keep_texts:
            result = result.without_texts()
        if self.render_row:
            result.json_row = self.render_row(result)
        return result

    def fingerprint(self) -> str:
        """Names this job's content: a checker keeps the jobs it was sent by it, so a scan with
        another rule pack, waivers or date is never checked with one held from before."""
        return xxhash.xxh3_128_hexdigest(ray.cloudpickle.dumps(self))

    def check(self, items: list[_InProgress]) -> list[DocumentResult]:
        return [self.sent_back(result) for result in self.checker().check_read(items)]


@ray.remote(max_retries=3)  # a worker lost with its node; shards lost are waited for inside (`ShardClient.call`)
def _check_chunk(job: _Job, items: list[_InProgress]) -> list[DocumentResult]:
    return job.check(items)


JOBS_KEPT = 4  # jobs a checker holds: scans running at once with different packs or options
IN_FLIGHT_PER_CHECKER = 2  # one chunk checked, the next waiting in its queue: no idle gap between them


# Ray restarts a checker that dies (killed, out of memory) and runs the chunks it held again;
# a chunk that kills it three times goes to another checker, then a task, whose own failures
# end the scan.
# One CPU each: Ray spreads them over the cluster's cores as it would the tasks they replace.
@ray.remote(max_restarts=-1, max_task_retries=3, num_cpus=1)
class CheckerActor:
    """A task worker that stays: it imports `compliance`, loads the compiled kernels and
    checks a sample once when served, then checks the chunks scans send it. A scan's job (rule
    pack, waivers, options) is sent once by reference and kept by its fingerprint."""

    def __init__(self, number: int):
        self.number = number
        self.jobs: OrderedDict[str, _Job] = OrderedDict()
        self.chunks = 0
        _warm_up()
        with warnings.catch_warnings():  # Ray's own property reads a deprecated one of its own
            warnings.simplefilter("ignore", DeprecationWarning)
            self.restarted = ray.get_runtime_context().was_current_actor_reconstructed

    def check(self, key: str, job: list, items: list[_InProgress]) -> list[DocumentResult]:
        """`job` is [a reference to the `_Job`]: wrapped, Ray leaves it unread unless this
        checker holds no job of that fingerprint yet."""
        held = self.jobs.get(key)
        if held is None:
            held = self.jobs[key] = ray.get(job[0])
            while len(self.jobs) > JOBS_KEPT:
                self.jobs.popitem(last=False)
        self.jobs.move_to_end(key)
        self.chunks += 1
        return held.check(items)

    def describe(self) -> dict:
        return {"checker": self.number, "chunks": self.chunks, "jobs": len(self.jobs), "restarted": self.restarted,
                "pid": os.getpid(), "node": ray.get_runtime_context().get_node_id()}


_SAMPLE_SOURCE = ("The city council voted on Tuesday to extend the night bus service to the northern districts, "
                  "after a year in which ridership on the two pilot lines doubled. The extension adds four routes "
                  "and costs 2.4 million euros a year, paid from the parking levy.")


def _warm_up() -> None:
    """Everything the first chunk would load, loaded now: the kernels (numba), the default
    pack, and the code of every stage, by checking a repost of a sample source."""
    kernels.warm_up()
    pack = load_pack()
    source = Source("sample", "Sample Desk", _SAMPLE_SOURCE)
    matcher = Matcher.build([source], pack.matching, required_texts(pack))
    checker = _Checker(matcher, pack, DEFAULT_MAX_BYTES, [], dt.date.today(), project_root=Path.cwd())
    item = _InProgress(Path("sample.md"), "sample.md", "sample.md",
                       text=f"# Night buses\n\n{_SAMPLE_SOURCE}\n\nFirst published on 3 March 2026.\n")
    checker.check_read([item])


def checker_count(requested: int | None, shards: int) -> int:
    """How many checkers to serve: `requested`, or the cluster's CPUs the shards leave (at
    least one); refused before anything starts if the cluster could never place them."""
    cpus = int(ray.cluster_resources().get("CPU", 1))
    count = max(1, cpus - shards) if requested is None else requested
    if count > cpus:
        raise ComplianceError(f"--checkers {count}: the cluster has {cpus} CPUs, and each checker takes one")
    return count


def serve_checkers(count: int, ready_within: float) -> list[dict]:
    """`count` checkers served: those served already kept, missing ones started, extra ones
    stopped; each waited for until warm."""
    handles = [CheckerActor.options(name=checker_name(number), namespace=NAMESPACE, lifetime="detached", get_if_exists=True)
               .remote(number) for number in range(count)]
    for name in named_actors(CHECKER_PREFIX):
        if int(name[len(CHECKER_PREFIX):]) >= count:
            stop_actor(name)
    try:
        return ray.get([handle.describe.remote() for handle in handles], timeout=ready_within)
    except RayActorError as error:
        cause = getattr(error, "cause", None) or error
        raise ComplianceError(f"a checker failed to start: {str(cause).strip().splitlines()[-1]}") from None
    except ray.exceptions.GetTimeoutError:
        raise ComplianceError(f"the checkers were not all placed and warm within {ready_within:.0f} s") from None


@dataclass
class ClusterScan:
    """`pipeline.scan`'s sources and checking, on the cluster at `address`."""

    address: str | None
    client: ShardClient = field(init=False)

    def __post_init__(self) -> None:
        connect(self.address)
        self.client = ShardClient.find()

    def sources(self, pack: RulePack) -> Sources:
        described = self.client.everywhere("describe")
        check_parameters(described, pack)
        count = sum(shard["sources"] for shard in described)

        def no_state():
            raise ComplianceError("a --cluster scan keeps no state yet: add --no-state")

        boilerplate = required_texts(pack)

        def build(_documents: int) -> Matcher:
            sources = ClusterSources(self.client)
            return Matcher(sources, ClusterIndex(self.client, sources, IndexParameters.of(pack.matching)), pack.matching, boilerplate)

        return Sources(count, [], no_state, {}, build)

    def check_files(self, checker: _Checker, files: list[tuple[Path, str]], progress=None) -> list[DocumentResult]:
        """Results in the order of `files`: the reposts read here, checked by the checkers
        (or tasks, when none are served), a bounded number of chunks in flight (each holds its
        texts in the object store). A chunk whose checker is gone for good is sent again, to
        another one or to a task: its result is taken once, from the call that answered."""
        job = _Job(checker.pack, checker.max_bytes, checker.waivers, checker.today, checker.project_root,
                   checker.keep_texts, checker.render_row, checker.matcher.settings, checker.matcher.boilerplate, self.client)
        key, job_ref = job.fingerprint(), ray.put(job)
        checkers = dict(enumerate(served_checkers()))
        load = dict.fromkeys(checkers, 0)
        tasks_in_flight = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        bounds = [(start, min(start + CHUNK, len(files))) for start in range(0, len(files), CHUNK)]
        results: list[list[DocumentResult] | None] = [None] * len(bounds)
        items: dict[int, list[_InProgress]] = {}
        pending: dict = {}  # reference -> (chunk, the checker it went to or None for a task)

        def send(number: int) -> None:
            if checkers:
                which = min(checkers, key=load.__getitem__)
                load[which] += 1
                pending[checkers[which].check.remote(key, [job_ref], items[number])] = number, which
            else:
                pending[_check_chunk.remote(job_ref, items[number])] = number, None

        next_chunk = done = 0
        while next_chunk < len(bounds) or pending:
            while next_chunk < len(bounds) and len(pending) < (IN_FLIGHT_PER_CHECKER * len(checkers) or tasks_in_flight):
                start, end = bounds[next_chunk]
                items[next_chunk] = [checker._read(file, name) for file, name in files[start:end]]
                send(next_chunk)
                next_chunk += 1
            finished, _ = ray.wait(list(pending), num_returns=1)
            for ref in finished:
                number, which = pending.pop(ref)
                if which in load:
                    load[which] -= 1
                try:
                    results[number] = ray.get(ref)
                except RayActorError:
                    if which is None:
                        raise
                    checkers.pop(which, None)  # stopped, or died with this chunk three times: the others go on
                    load.pop(which, None)
                    send(number)
                    continue
                except ray.exceptions.RayTaskError as error:
                    cause = getattr(error, "cause", None)
                    if isinstance(cause, ComplianceError):  # a shard gone: said once, as the single machine says it
                        raise ComplianceError(cause.message, cause.path, cause.line) from None
                    raise
                del items[number]
                done += len(results[number])
                if progress:
                    progress(done, len(files))
        return [result for chunk in results for result in chunk]


def check_parameters(described: list[dict], pack: RulePack) -> None:
    built, wanted = IndexParameters(**described[0]["parameters"]), IndexParameters.of(pack.matching)
    if built != wanted:
        differences = [f"{name} {getattr(built, name)} (now {getattr(wanted, name)})"
                       for name in built.as_dict() if getattr(built, name) != getattr(wanted, name)]
        raise ComplianceError(f"the cluster's shards were built with other matching parameters: {', '.join(differences)}; "
                              "rebuild them with `compliance index build --shards N`")


def update_shards(address: str | None, sources: list[Source], pack: RulePack) -> SyncReport:
    """Bring the served shards in line with `sources`, online: numbered as an update of one
    index of the whole catalogue numbers them (new sources after the highest number, in
    catalogue order), each shard sent its part; scans go on meanwhile."""
    connect(address)
    client = ShardClient.find()
    check_parameters(client.everywhere("describe"), pack)
    stored: dict[str, tuple[int, str]] = {}
    for part in client.everywhere("numbered"):
        stored.update(part)
    next_number = max((number for number, _ in stored.values()), default=0) + 1
    changed: dict[int, list[tuple[int, Source]]] = {}
    added = modified = 0
    for source in sources:
        known = stored.get(source.id)
        if known is not None and known[1] == content_hash(source):
            continue
        if known is None:
            number, added, next_number = next_number, added + 1, next_number + 1
        else:
            number, modified = known[0], modified + 1
        changed.setdefault(shard_of(source.id, client.count), []).append((number, source))
    if next_number - 1 > MAX_SOURCE_NUMBER:
        raise ComplianceError(f"a sharded index numbers at most {MAX_SOURCE_NUMBER:,} sources, and this update needs {next_number - 1:,}")
    wanted = {source.id for source in sources}
    removed: dict[int, list[str]] = {}
    for source_id in stored:
        if source_id not in wanted:
            removed.setdefault(shard_of(source_id, client.count), []).append(source_id)
    work = {shard: (changed.get(shard, []), removed.get(shard, [])) for shard in set(changed) | set(removed)}
    if work:
        client.call("apply", work)
    gone = sum(len(ids) for ids in removed.values())
    return SyncReport(added, modified, gone, len(sources) - added - modified)

