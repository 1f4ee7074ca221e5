"""`compliance` command line.

Exit codes: 0 no finding at or above --fail-on; 1 there are; 2 usage, configuration,
catalogue or rule-pack errors; 3 another scan held the state past --lock-timeout; 4 an
internal error (a bug). Every error is one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

from compliance import __version__
from compliance.checks import BUILTIN_RULES, load_pack
from compliance.checks.rulepack import DEFAULT_PACK, RulePack
from compliance.checks.rules import RULE_TYPES
from compliance.config import (CONFIG_NAMES, FAIL_ON_CHOICES, Config, find_config, load_config, load_waiver_file, project_root,
                               review_waivers_path)
from compliance.errors import ComplianceError
from compliance.fetch.options import add_fetch_options, fetch_settings
from compliance.ingest import DEFAULT_MAX_BYTES
from compliance.ingest.discover import project_path
from compliance.ingest.git import changed_files
from compliance.model import Severity
from compliance.pipeline import catalogue_for_index, scan, update_index
from compliance.similarity.index import default_jobs
from compliance.similarity.store import DEFAULT_INDEX, IndexStore
from compliance.report import FORMATS, ReportInput, RuleInfo, write_atomic
from compliance.report.json_report import document_row
from compliance.report.text import terminal_safe
from compliance.cli.progress import Progress
from compliance.cli.fix import add_fix_command, add_scan_fix_options, run_fix
from compliance.cli.fixture_test import add_test_command, run_test
from compliance.cli.review import add_review_commands, run_decisions_export, run_review
from compliance.cli.rule import add_rule_command, run_rule
from compliance.cli.schema_command import add_schema_command, run_schema
from compliance.cli.selection import add_selection_options, selected
from compliance.cli.text_options import TextReport, add_text_options
from compliance.state.baseline import apply_baseline, baseline_json, load_baseline
from compliance.state.history import history_json, history_text
from compliance.state.lock import LockTimeout
from compliance.state.session import StateSession
from compliance.state.store import StateStore

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_LOCKED = 3  # another scan holds the state for longer than --lock-timeout
EXIT_INTERNAL = 4  # compliance itself failed outside any one file: a bug, never "findings"
EXIT_PIPE = 141  # the reader of the output left (`| head`): what a shell reports for SIGPIPE
STATE_FILE = Path(".compliance") / "state.db"
DEFAULT_SHARDS = Path(".compliance") / "shards"  # a sharded index's folder (`index build --shards N`)
DEFAULT_LOCK_TIMEOUT = 120.0
DEFAULT_KEEP_RUNS = 20  # html run folders kept in --report-dir (cron every 5 minutes: 100 minutes of reports)
HISTORY_IN_HTML = 30  # runs shown in the HTML report's trend chart
# Worker processes are busy on the processor: past a few a core they only take memory (each is a
# fork of the scan), and a process pool that forks starts every one of them at once.
MAX_JOBS_PER_CORE = 4


def _add_scan_inputs(command: argparse.ArgumentParser) -> None:
    """The options that decide what a scan finds (shared by `scan` and `baseline create`)."""
    command.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                         help="repost files or folders, walked recursively (default: the configuration's `paths`)")
    command.add_argument("--sources", action="append", type=Path, metavar="PATH",
                         help="source catalogue: a folder of files with front matter, or a .jsonl file (repeatable)")
    command.add_argument("--rules", metavar="FILE", help="rule pack (default: the bundled default pack)")
    command.add_argument("--max-bytes", type=int, metavar="N",
                         help=f"files larger than this are reported as input-too-large (default: {DEFAULT_MAX_BYTES})")
    command.add_argument("--follow-links", action="store_true",
                         help="read links that lead out of the scanned folders (default: skip them, and say which)")
    command.add_argument("--changed-since", metavar="REF", help="scan only reposts added, modified or renamed since this git ref")
    command.add_argument("--config", type=Path, metavar="FILE",
                         help=f"configuration file (default: {', '.join(CONFIG_NAMES)} or pyproject.toml [tool.compliance], "
                              "the nearest found upward)")
    command.add_argument("--index", type=Path, metavar="FILE",
                         help="persistent source index (from `compliance index build`); with --sources it is brought up to date first")
    _add_jobs(command)
    add_fetch_options(command)
    add_selection_options(command)


def _add_jobs(command: argparse.ArgumentParser) -> None:
    command.add_argument("--jobs", "-j", type=_positive_int, metavar="N",
                         help=f"worker processes (default: all cores, here {default_jobs()})")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not value >= 0:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"expected zero or more seconds, not {text}")
    return value


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected at least {least}, not {value}" if least else f"expected zero or more, not {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _count(text: str) -> int:
    return _whole_number(text, 0)


def _add_state_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--state", type=Path, metavar="PATH",
                         help=f"state database (default: {STATE_FILE} beside the configuration file, or in the working folder)")


def _add_scan_options(command: argparse.ArgumentParser) -> None:
    """Everything `scan` takes (`watch` takes the same)."""
    _add_scan_inputs(command)
    command.add_argument("--format", choices=sorted([*FORMATS, "html"]), action="append", metavar="FORMAT",
                         help=f"report format, repeatable: {', '.join(sorted([*FORMATS, 'html']))} (default: text)")
    command.add_argument("--output", type=Path, metavar="FILE", help="write the report here (atomically); for a format other than text, "
                              "the terminal still gets the text report unless --quiet")
    command.add_argument("--report-dir", type=Path, metavar="DIR",
                         help="folder for report files, one per format (html: a run folder and a `latest` link; default: reports)")
    command.add_argument("--keep-runs", type=_count, metavar="N",
                         help=f"html: keep the newest N run folders in the report folder and delete older ones "
                              f"(default: {DEFAULT_KEEP_RUNS}; 0 keeps every run)")
    command.add_argument("--fail-on", choices=FAIL_ON_CHOICES,
                         help="exit 1 when a finding is at least this severe (default: error)")
    command.add_argument("--baseline", type=Path, metavar="FILE", help="fail only on findings not in this baseline")
    command.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    add_text_options(command)
    _add_state_option(command)
    command.add_argument("--no-state", action="store_true", help="a one-off scan: neither read nor write the state")
    command.add_argument("--lock-timeout", type=_seconds, metavar="SECONDS",
                         help=f"wait this long for another scan using the same state (default: {DEFAULT_LOCK_TIMEOUT:g}), then exit {EXIT_LOCKED}")
    command.add_argument("--notify", metavar="URL",
                         help="POST findings new since the last run to this webhook (Slack-compatible JSON with a 'text' field); "
                              "alerts it does not confirm are kept in the state and sent first at the next run")
    command.add_argument("--cluster", metavar="ADDRESS",
                         help="check the reposts on the Ray cluster at ADDRESS against the shards it serves "
                              "(`compliance cluster serve`; 'auto': the cluster started on this machine); keeps no state")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="compliance", description="Check reposted articles before and after they are published.")
    parser.add_argument("--version", action="version", version=f"compliance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan_cmd = commands.add_parser("scan", help="scan reposts and report findings")
    _add_scan_options(scan_cmd)
    add_scan_fix_options(scan_cmd)

    add_fix_command(commands, _add_scan_inputs)

    baseline_cmd = commands.add_parser("baseline", help="record today's findings so a gate fails only on new ones")
    baseline_actions = baseline_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = baseline_actions.add_parser("create", help="scan and write a baseline file")
    _add_scan_inputs(create)
    create.add_argument("--output", type=Path, metavar="FILE",
                        help="baseline file to write (default: .compliance-baseline.json in the project root); "
                             "entries of files this scan did not cover are kept")

    index_cmd = commands.add_parser("index", help="build, update or describe a persistent source index")
    index_actions = index_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, summary in (("build", "fingerprint a source catalogue into a new index file"),
                            ("update", "add new and changed sources to an index, drop removed ones")):
        index_action = index_actions.add_parser(action, help=summary)
        index_action.add_argument("--sources", action="append", type=Path, metavar="PATH",
                                  help="source catalogue (repeatable; default: the configuration's sources)")
        index_action.add_argument("--index", type=Path, metavar="FILE", help=f"index file (default: {DEFAULT_INDEX})")
        index_action.add_argument("--rules", metavar="FILE", help="rule pack whose `matching:` settings the index uses")
        index_action.add_argument("--config", type=Path, metavar="FILE", help="configuration file")
        index_action.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
        _add_jobs(index_action)
        if action == "build":
            index_action.add_argument("--shards", type=_positive_int, metavar="N",
                                      help="build a sharded index: N shard files and a manifest in the folder --index names "
                                           "(default folder: .compliance/shards), for `compliance cluster serve`")
        else:
            index_action.add_argument("--cluster", metavar="ADDRESS",
                                      help="update the shards the Ray cluster at ADDRESS serves, online (scans go on)")
    info = index_actions.add_parser("info", help="counts, parameters, size and hashing scheme of an index")
    info.add_argument("--index", type=Path, metavar="FILE", help=f"index file (default: {DEFAULT_INDEX})")
    info.add_argument("--config", type=Path, metavar="FILE", help="configuration file (its `index` is the default)")
    info.add_argument("--format", choices=("text", "json"), default="text")

    cluster_cmd = commands.add_parser("cluster", help="serve a sharded index on a Ray cluster, show or stop it")
    cluster_actions = cluster_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, summary in (("serve", "start an actor per shard of a sharded index and the checkers "
                                      "(starting a local cluster if none runs)"),
                            ("status", "the shards served (sources, band keys, memory, restarts) and the checkers"),
                            ("stop", "stop every shard and checker actor")):
        cluster_action = cluster_actions.add_parser(action, help=summary)
        cluster_action.add_argument("--address", metavar="ADDRESS",
                                    help="the Ray cluster (host:port, or ray://host:10001 for Ray Client; default: the one on this machine)")
        if action == "serve":
            cluster_action.add_argument("--index", type=Path, metavar="DIR", required=True,
                                        help="sharded index folder (`compliance index build --shards N`), at the same path on every node")
            cluster_action.add_argument("--checkers", type=_positive_int, metavar="N",
                                        help="checker actors that scans send their reposts to, warm between scans "
                                             "(default: the cluster's CPUs less one per shard, at least 1)")
        if action == "status":
            cluster_action.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")

    sources_cmd = commands.add_parser("sources", help="manage the source catalogue")
    sources_actions = sources_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sources_actions.add_parser("add", help="fetch a page and save it into the catalogue (never overwrites)")
    add.add_argument("url", metavar="URL")
    add.add_argument("--catalogue", type=Path, metavar="DIR",
                     help="catalogue folder (default: the first --sources folder of the configuration, else sources/)")
    add.add_argument("--publisher", metavar="NAME", help="the publisher's name (default: the page's site name)")
    add.add_argument("--id", metavar="ID", help="the source id and file name (default: from the URL)")
    add.add_argument("--config", type=Path, metavar="FILE", help="configuration file")
    add_fetch_options(add)

    rules_cmd = commands.add_parser("rules", help="list the rules in force")
    rules_cmd.add_argument("--rules", metavar="FILE", help="rule pack (default: the bundled default pack)")
    rules_cmd.add_argument("--config", type=Path, metavar="FILE", help="configuration file")

    add_rule_command(commands)
    add_schema_command(commands)
    add_test_command(commands)

    history_cmd = commands.add_parser("history", help="list the runs recorded in the state")
    _add_state_option(history_cmd)
    history_cmd.add_argument("--config", type=Path, metavar="FILE", help="configuration file (the default state lies beside it)")
    history_cmd.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    history_cmd.add_argument("--limit", type=_positive_int, metavar="N", help="only the last N runs")

    add_review_commands(commands, _add_state_option)

    watch_cmd = commands.add_parser("watch", help="scan again whenever reposts, sources, rules or the configuration change")
    _add_scan_options(watch_cmd)
    watch_cmd.add_argument("--interval", type=float, default=60.0, metavar="SECONDS", help="look for changes this often (default: 60)")
    return parser


def _config(args: argparse.Namespace) -> Config:
    """The configuration, with the waivers reviewers accepted (`review_waivers`) after its own."""
    path = args.config or find_config(Path.cwd())
    if args.config is not None and not args.config.is_file():
        raise ComplianceError("configuration file not found", str(args.config))
    config = load_config(path) if path else Config()
    config.waivers = [*config.waivers, *load_waiver_file(review_waivers_path(config, Path.cwd()))]
    return config


def _with_config(args: argparse.Namespace, config: Config) -> argparse.Namespace:
    """`scan`'s flags, with the configuration's settings where no flag gives one (flags win).
    A copy: `watch` reads the configuration again before every scan."""
    merged = argparse.Namespace(**vars(args))
    merged.format = args.format or config.formats or None
    merged.report_dir = args.report_dir or (None if args.output else config.report_dir)  # --output wins too
    merged.keep_runs = next(v for v in (args.keep_runs, config.keep_runs, DEFAULT_KEEP_RUNS) if v is not None)
    merged.lock_timeout = next(v for v in (args.lock_timeout, config.lock_timeout, DEFAULT_LOCK_TIMEOUT) if v is not None)
    # --no-state also turns off a configured webhook (nothing to tell new findings from); only an
    # explicit --notify with it is refused
    merged.notify = args.notify or (None if args.no_state else config.notify)
    return merged


def _jobs(requested: int | None, where: str) -> int:
    """Worker processes: as many as asked (all cores by default), but never thousands:
    `--jobs 100000` forked 100,000 workers at once."""
    cores = default_jobs()
    if requested is None:
        return cores
    most = MAX_JOBS_PER_CORE * cores
    if requested > most:
        print(f"compliance: warning: {where} {requested} is more worker processes than {cores} cores can use; using {most}",
              file=sys.stderr)
        return most
    return requested


def _rule_infos(pack: RulePack) -> list[RuleInfo]:
    infos = []
    for rule in pack.rules:
        doc = (RULE_TYPES[rule.type].__doc__ or "").strip()
        summary = doc.split("\n", 1)[0].split(": ", 1)[-1]
        infos.append(RuleInfo(rule.id, rule.type, rule.severity, rule.description or summary, doc))
    for rule_id, (severity, description) in BUILTIN_RULES.items():
        infos.append(RuleInfo(rule_id, "built-in", severity, description))
    return infos


def _root(config: Config) -> Path:
    return project_root(config.path, Path.cwd())


def _scope(paths: list[Path], documents, root: Path, only: set[Path] | None) -> Callable[[str], bool]:
    """Which project paths a scan covered: its documents, and (unless it took only changed
    files) whatever lies under the folders it walked, where a file may since have gone."""
    scanned = {d.repository_path for d in documents}
    if only is not None:
        return scanned.__contains__
    prefixes = []
    for path in paths:
        if path.is_dir():
            relative = project_path(str(path.resolve()), str(root))
            prefixes.append("" if relative == "." else relative.rstrip("/") + "/")
    return lambda name: name in scanned or any(name.startswith(prefix) for prefix in prefixes)


def _fails(report: ReportInput) -> bool:
    """Whether an active finding reaches --fail-on; an unchanged document's severities come
    from the state's counts (`DocumentResult.tally`), its findings left unread."""
    failing = {s.value for s in Severity if report.fails_gate(s)}
    for d in report.documents:
        tally = d.tally
        if tally is not None:
            if any(severity in failing for severity, _, _ in tally.counts):
                return True
        elif any(f.is_active and report.fails_gate(f.severity) for f in d.findings):
            return True
    return False


def _scan(args: argparse.Namespace, config: Config, session: StateSession | None = None, keep_texts: bool = False):
    pack = selected(load_pack(args.rules or config.rules or DEFAULT_PACK), args, config)
    args.paths = args.paths or config.paths
    if not args.paths:
        if config.path is not None:
            raise ComplianceError("nothing to scan: no `paths:` here, and no repost file or folder named", str(config.path))
        raise ComplianceError("nothing to scan: name repost files or folders, or set `paths:` in the configuration")
    for path in args.paths:
        if not path.exists():
            raise ComplianceError("no such file or folder", str(path))
    only = changed_files(args.changed_since, Path.cwd()) if args.changed_since else None
    today = dt.date.today()
    for waiver in config.waivers:
        if waiver.expired(today):
            print(f"compliance: warning: {waiver.origin}: waiver expired on {waiver.expires} and no longer applies: {waiver.reason}", file=sys.stderr)
    fetch = fetch_settings(args, config.fetch, config.path)
    max_bytes = args.max_bytes or config.max_bytes or DEFAULT_MAX_BYTES
    fetch_mode = "off" if not (fetch and fetch.enabled) else ("offline" if fetch.offline else "online")
    cache = session.cache(pack, config.waivers, today, max_bytes, fetch_mode) if session else None
    formats = getattr(args, "format", None) or []
    texts_shown = keep_texts or "html" in formats  # a fix reads the documents and the sources' texts
    if cache is not None:
        cache.documents_needed = texts_shown
    progress = Progress.for_terminal(getattr(args, "quiet", False))
    root = _root(config)
    cluster = _cluster_scan(args, fetch)
    try:
        result = scan(args.paths, args.sources or config.sources, pack, max_bytes, only, config.waivers, today,
                      index_path=args.index or config.index,
                      jobs=_jobs(args.jobs or config.jobs, "--jobs" if args.jobs else f"{config.path}: jobs:"),
                      progress=progress, fetch=fetch, cache=cache, keep_texts=texts_shown,
                      render_row=document_row if "json" in formats else None, project_root=root,
                      follow_links=args.follow_links, cluster=cluster)
    finally:
        if progress:
            progress.finish()
    for error in result.catalogue_errors:
        print(f"compliance: error: {error}", file=sys.stderr)
    if result.source_count == 0:
        print("compliance: warning: no sources loaded (--sources): copies are found only by the text's own clues", file=sys.stderr)
    if result.fetch_stats and not getattr(args, "quiet", False):
        stats = result.fetch_stats
        print(f"compliance: fetched credited pages: {stats.requests} requests, {stats.cache_hits} from the cache", file=sys.stderr)
    extra = {"skipped_files": result.skipped_files, "sources": result.source_count}
    if result.links_skipped:
        extra["skipped_links"] = result.links_skipped
        shown = ", ".join(result.links_skipped[:3]) + (", ..." if len(result.links_skipped) > 3 else "")
        print(f"compliance: warning: skipped {len(result.links_skipped)} link(s) leading out of the scanned folders "
              f"({shown}); --follow-links reads them", file=sys.stderr)
    if config.waivers:
        _add_waiver_findings(config, pack, result, root, today, fetch_mode != "off")
    expired = [{"waiver": w.origin, "expired": str(w.expires), "reason": w.reason} for w in config.waivers if w.expired(today)]
    if expired:
        extra["expired_waivers"] = expired
    if only is not None:
        extra["changed_since"] = args.changed_since
    return pack, result, extra, cache, _scope(args.paths, result.documents, root, only)


def _cluster_scan(args: argparse.Namespace, fetch):
    """The cluster a --cluster scan runs on; Ray is imported only then."""
    if not getattr(args, "cluster", None):
        return None
    if args.index is not None or args.sources:
        raise ComplianceError("a --cluster scan matches against the shards the cluster serves: drop --index and --sources")
    if fetch and fetch.enabled:
        raise ComplianceError("--fetch does not run with --cluster yet")
    from compliance.cluster.scan import ClusterScan

    return ClusterScan(args.cluster)


def _run_cluster(args: argparse.Namespace) -> int:
    from compliance.cluster import service

    service.connect(args.address, start=args.action == "serve")
    if args.action == "serve":
        shards, checkers = service.serve(args.index, args.checkers)
        print(f"serving {len(shards)} shard(s) of {args.index}: {sum(shard['sources'] for shard in shards):,} sources, "
              f"{sum(shard['band_bytes'] for shard in shards) / 1e6:,.1f} MB of band keys; {len(checkers)} checker(s)")
    elif args.action == "status":
        shards = service.status()
        if args.format == "json":
            print(json.dumps(shards, indent=2))
        else:
            for shard in shards:
                print(f"shard {shard['shard']}: {shard['sources']:,} sources, {shard['band_bytes'] / 1e6:,.1f} MB of band keys, "
                      f"{shard['lookups']:,} lookups{', restarted' if shard['restarted'] else ''} ({shard['path']})")
            for checker in service.checkers_status():
                print(f"checker {checker['checker']}: {checker['chunks']:,} chunks checked, {checker['jobs']} scan job(s) held"
                      f"{', restarted' if checker['restarted'] else ''}")
    else:
        print(f"stopped {service.stop()} shard(s) and the checkers")
    return EXIT_OK


def _run_cluster_index(args: argparse.Namespace, config: Config, pack: RulePack, source_paths: list[Path], jobs: int) -> int:
    """`index build --shards N` and `index update --cluster ADDRESS`."""
    from compliance.similarity import load_catalogue
    from compliance.similarity.index import IndexParameters

    started = time.perf_counter()
    catalogue = load_catalogue(source_paths, jobs)
    for error in catalogue.errors:
        print(f"compliance: error: {error}", file=sys.stderr)
    if getattr(args, "cluster", None):
        if catalogue.errors:  # a half-read catalogue would take its unread sources off every shard
            raise ComplianceError("the catalogue has errors: the shards are left as they are")
        from compliance.cluster.scan import update_shards

        report = update_shards(args.cluster, catalogue.sources, pack)
        where = f"cluster {args.cluster}"
    else:
        from compliance.cluster.shards import build_shards

        path = args.index or config.index or DEFAULT_SHARDS
        progress = Progress.for_terminal(args.quiet, label="indexing")
        try:
            report = build_shards(path, catalogue.sources, IndexParameters.of(pack.matching), args.shards, jobs, progress)
        finally:
            if progress:
                progress.finish()
        where = f"sharded index {path} ({args.shards} shards)"
    if not args.quiet:
        print(f"{where}: {report.added} added, {report.changed} changed, {report.removed} removed, "
              f"{report.unchanged} unchanged ({time.perf_counter() - started:.1f}s)")
    return EXIT_USAGE if catalogue.errors else EXIT_OK


def _add_waiver_findings(config: Config, pack: RulePack, result, root: Path, today: dt.date, fetching: bool) -> None:
    """Waivers that name unknown rules or suppress nothing: findings on the configuration file."""
    from compliance.checks.hygiene import config_result, waiver_findings

    by_file: dict[str, list] = {}
    for waiver in config.waivers:  # the configuration's, and the review waivers file's
        by_file.setdefault(waiver.origin.rpartition(":")[0] or waiver.origin, []).append(waiver)
    for file, waivers in by_file.items():
        findings = waiver_findings(waivers, pack, result.documents, today, fetching)
        if findings:
            name = project_path(str(Path(file).resolve()), str(root))
            result.documents.append(config_result(name, findings, config.waivers, today))


def _state_path(args: argparse.Namespace, config: Config) -> Path:
    if args.state is not None:
        return args.state
    if config.state is not None:
        return config.state
    return (config.path.parent / STATE_FILE) if config.path else STATE_FILE


def _open_state(args: argparse.Namespace, config: Config) -> StateSession | None:
    """The state of earlier runs, locked for this one; None for --no-state. A default state that
    cannot be created (a read-only folder) costs the incremental scan, not the scan."""
    if getattr(args, "cluster", None):
        if args.state is not None or args.notify:
            raise ComplianceError("a --cluster scan keeps no state yet: drop --state and --notify")
        return None
    if args.no_state:
        if args.notify:
            raise ComplianceError("--notify needs the state (it reports findings new since the last run); drop --no-state")
        return None
    if args.notify:
        from compliance.state.notify import check_webhook_url

        check_webhook_url(args.notify)
    path = _state_path(args, config)
    try:
        return StateSession.open(path, args.lock_timeout)
    except LockTimeout:
        raise
    except ComplianceError as error:
        if args.state is not None or config.state is not None or args.notify:
            raise
        print(f"compliance: warning: {error}; scanning without state", file=sys.stderr)
        return None


def _run_scan(args: argparse.Namespace, exiting: bool = False) -> int:
    started, clock = dt.datetime.now(dt.timezone.utc), time.monotonic()
    config = _config(args)
    if getattr(args, "diff", False) or getattr(args, "fix", False):
        code = _run_fix(args, config, report=False)
        if args.diff:
            return code
    flags = args
    args = _with_config(args, config)
    formats = list(dict.fromkeys(args.format or ["text"]))
    single = len(formats) == 1 and formats[0] != "html" and args.report_dir is None
    if args.output and not single:
        origin = "" if flags.format else f" (the formats come from {config.path}: add --format)"
        raise ComplianceError(f"--output takes a single non-HTML format; use --report-dir for html or several formats{origin}")
    session = _open_state(args, config)
    try:
        with _collector_paused(resume=not exiting):
            return _scan_with_state(args, config, formats, single, session, started, clock, exiting)
    finally:
        if session is not None:
            session.close()


# What a scan leaves for the process's exit to free (`main(exiting=True)`): freeing a large
# scan's results one by one, and the collection that followed, took 0.05-0.15 s after the
# report was written, in which the user waited for nothing.
_left_for_exit: list[object] = []


@contextlib.contextmanager
def _collector_paused(resume: bool = True):
    """A scan's results (findings, spans, report rows) and a catalogue's sources are hundreds of
    thousands of small objects without cycles, which Python's cyclic garbage collector would
    walk again and again as they pile up: a third of a large report's time. Worker processes
    collect as usual. Without `resume` (the process is about to exit) it stays paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled and resume:
            gc.enable()


def _scan_with_state(args: argparse.Namespace, config: Config, formats: list[str], single: bool,
                     session: StateSession | None, started: dt.datetime, clock: float, exiting: bool = False) -> int:
    pack, result, extra, cache, in_scope = _scan(args, config, session)
    documents = result.documents
    baseline_path = args.baseline or config.baseline
    if baseline_path is not None:
        baseline = load_baseline(baseline_path, _root(config))
        if baseline.note and not args.quiet:
            print(f"compliance: note: {baseline.note}", file=sys.stderr)
        outcome = apply_baseline(documents, baseline, baseline_path.name, in_scope)
        documents = outcome.documents
        extra["baseline"] = {"file": str(baseline_path), "accepted": outcome.matched, "gone": outcome.gone}
    history = []
    if session is not None and cache is not None:
        prepared = session.prepare_run(documents, cache, started, time.monotonic() - clock, [str(p) for p in args.paths])
        extra["incremental"] = {"rechecked": result.rechecked, "cached": cache.cached,
                                "new_findings": prepared.record.new, "resolved_findings": prepared.record.resolved}
        history = [run.as_dict() for run in session.history(HISTORY_IN_HTML)]
    fail_on = args.fail_on or config.fail_on or "error"
    report_input = ReportInput(documents, _rule_infos(pack), None if fail_on == "never" else Severity(fail_on), extra, history)
    if len(history) > 1:  # an earlier run to compare with: the HTML index marks what is new since
        report_input.new_fingerprints = frozenset(o.fingerprint for o in session.prepared.comparison.new)
    if session is not None and "html" in formats:
        report_input.decisions, report_input.finding_decisions = _decisions(session)
    text = TextReport.of(args, _root(config))
    if single:
        _write_one(report_input, formats[0], args.output, args.quiet, text)
    else:
        _write_folder(report_input, formats, args.report_dir or Path("reports"), args.quiet, args.keep_runs, text)
    if session is not None and cache is not None:
        _save_state(args, session, bool(result.catalogue_errors))
    if exiting:
        _left_for_exit.append(report_input)  # and through it every result
    if result.catalogue_errors:
        return EXIT_USAGE
    return EXIT_FINDINGS if _fails(report_input) else EXIT_OK


def _run_fix(args: argparse.Namespace, config: Config, report: bool = True) -> int:
    """`compliance fix`, `scan --fix` (`report` False: the scan that follows reports) and `--diff`."""
    return run_fix(args, lambda: _scan(args, config, keep_texts=True), args.fail_on if getattr(args, "fail_on", None)
                   else config.fail_on or "error", report)
def _decisions(session: StateSession):
    """Reviewers' decisions that still hold, for the HTML report: the document hashes are this
    run's where it checked a file, the state's where the file came from it unchanged."""
    from compliance.state.decisions import decisions_for_report

    if not session.store.has_decisions():
        return {}, {}
    hashes = session.store.document_hashes()
    if session.prepared is not None:
        hashes.update({row.stored.report_path: row.stored.content_hash for row in session.prepared.changes.upserts})
    return decisions_for_report(session.store, hashes)


def _save_state(args: argparse.Namespace, session: StateSession, catalogue_errors: bool) -> None:
    """After the reports: one transaction, which also queues the alert of the new findings, then
    the webhook gets what is queued for it (a failure is only a warning; the alert stays queued)."""
    run_id = None
    if catalogue_errors:
        # results against a half-loaded catalogue would read as findings resolved, then new again
        print("compliance: warning: state not updated because the catalogue has errors", file=sys.stderr)
    else:
        new = session.prepared.comparison.new if session.prepared else []
        alert = None
        if args.notify and new:
            from compliance.state.notify import alert_for

            alert = alert_for(args.notify, new)
        try:
            run_id = session.commit(alert).id
        except Exception as exc:  # sqlite3 errors: disk full, a file removed under us...
            raise ComplianceError(f"cannot save the state: {exc}", str(session.store.path)) from None
    if args.notify:
        _deliver_alerts(args, session, run_id)


def _deliver_alerts(args: argparse.Namespace, session: StateSession, run_id: int | None) -> None:
    """Alerts earlier runs could not deliver go first, then this run's, in order."""
    import sqlite3

    from compliance.state.notify import deliver_queued, redacted

    try:
        outcome = deliver_queued(session.store, args.notify, run_id)
    except sqlite3.Error as exc:
        print(f"compliance: warning: webhook alerts: cannot use the queue in the state: {exc}", file=sys.stderr)
        return
    for line in outcome.warnings():
        print(f"compliance: warning: {line}", file=sys.stderr)
    if outcome.earlier and not args.quiet:
        print(f"compliance: webhook {redacted(args.notify)}: delivered {outcome.earlier} alert"
              f"{'s' if outcome.earlier != 1 else ''} queued by earlier runs", file=sys.stderr)


REPORT_FILE_NAMES = {"json": "report.json", "sarif": "report.sarif", "junit": "junit.xml",
                     "github": "github-annotations.txt", "text": "report.txt"}


def _write_one(report_input: ReportInput, fmt: str, output: Path | None, quiet: bool, text: TextReport = TextReport()) -> None:
    if output:
        write_atomic(output, text.file(report_input) if fmt == "text" else FORMATS[fmt](report_input))
        if not quiet and fmt != "text":
            sys.stdout.write(text.terminal(report_input))
    elif not quiet or fmt != "text":
        sys.stdout.write(text.terminal(report_input) if fmt == "text" else FORMATS[fmt](report_input))


def _write_folder(report_input: ReportInput, formats: list[str], report_dir: Path, quiet: bool, keep_runs: int = 0,
                  text: TextReport = TextReport()) -> None:
    """Each format under its conventional name; with html, all of them in the HTML run folder,
    and run folders beyond the newest `keep_runs` removed (a failure there is only a warning)."""
    files = {REPORT_FILE_NAMES[f]: text.file(report_input) if f == "text" else FORMATS[f](report_input) for f in formats if f != "html"}
    if "html" in formats:
        from compliance.report.html import prune_runs, write_html_report  # Jinja2 loads only when asked for

        written = [write_html_report(report_input, report_dir, extra_files=files) / "index.html"]
        failures = prune_runs(report_dir, keep_runs)
        if failures:
            path, why = failures[0]
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            print(f"compliance: warning: cannot remove old report run {path}: {why}{more}", file=sys.stderr)
    else:
        written = []
        for name, content in files.items():
            write_atomic(report_dir / name, content)
            written.append(report_dir / name)
    if not quiet:
        sys.stdout.write(text.terminal(report_input))
        for path in written:
            print(f"report: {path}")


def _run_baseline(args: argparse.Namespace) -> int:
    config = _config(args)
    _, result, _, _, in_scope = _scan(args, config)
    output = args.output or _root(config) / ".compliance-baseline.json"
    kept = None
    if output.exists():  # a scan of part of the project keeps the rest's entries
        try:
            kept = load_baseline(output, _root(config))
        except ComplianceError as error:
            raise ComplianceError(f"{error.message}; not replacing it (remove it, or write elsewhere with --output)",
                                  error.path, error.line) from None
    write_atomic(output, baseline_json(result.documents, kept, in_scope))
    count = sum(1 for d in result.documents for f in d.findings if f.is_active)
    print(f"baseline: {count} findings in {len(result.documents)} documents written to {output}")
    return EXIT_USAGE if result.catalogue_errors else EXIT_OK


def _run_index(args: argparse.Namespace) -> int:
    config = _config(args)
    path = args.index or config.index or DEFAULT_INDEX
    if args.action == "info":
        if path.is_dir():  # a sharded index: its manifest, and each shard as an index
            from compliance.cluster.shards import Manifest

            manifest = Manifest.load(path)
            shards = [IndexStore.open(shard).info() for shard in manifest.paths(path)]
            if args.format == "json":
                print(json.dumps({"manifest": {"shards": manifest.shards, "catalogue": manifest.catalogue}, "shards": shards}, indent=2))
            else:
                print(f"sharded index {path}: {manifest.shards} shards, {sum(s['sources'] for s in shards):,} sources, "
                      f"catalogue {manifest.catalogue}\n\n" + "\n\n".join(describe_index(details) for details in shards))
            return EXIT_OK
        details = IndexStore.open(path).info()
        if args.format == "json":
            print(json.dumps(details, indent=2))
        else:
            print(describe_index(details))
        return EXIT_OK
    pack = load_pack(args.rules or config.rules or DEFAULT_PACK)
    source_paths = args.sources or config.sources
    if not source_paths:
        raise ComplianceError("no source catalogue given (--sources, or `sources:` in the configuration)")
    jobs = _jobs(args.jobs, "--jobs")
    if getattr(args, "shards", None) or getattr(args, "cluster", None):
        return _run_cluster_index(args, config, pack, source_paths, jobs)
    started = time.perf_counter()
    with catalogue_for_index(path, pack, source_paths, jobs, rebuild=args.action == "build") as (catalogue, pool):
        for error in catalogue.errors:
            print(f"compliance: error: {error}", file=sys.stderr)
        progress = Progress.for_terminal(args.quiet, label="indexing")
        try:  # updating no index yet builds one
            report = update_index(path, pack, catalogue, jobs, progress, pool, rebuild=args.action == "build")
        finally:
            if progress:
                progress.finish()
    if not args.quiet:
        print(f"index {path}: {report.added} added, {report.changed} changed, {report.removed} removed, "
              f"{report.unchanged} unchanged; {len(catalogue.read):,} of {len(catalogue.files):,} files read "
              f"({time.perf_counter() - started:.1f}s)")
    return EXIT_USAGE if catalogue.errors else EXIT_OK


def describe_index(details: dict) -> str:
    settings = {**details["parameters"], **details["banding"]}
    parameters = ", ".join(f"{name} {value}" for name, value in settings.items() if name != "hashing")
    return "\n".join([
        f"index:      {details['path']} ({details['size_bytes'] / 1e6:.1f} MB, schema {details['schema']})",
        f"sources:    {details['sources']:,} ({details['band_keys']:,} band keys)",
        *[f"band keys:  {file['path']} ({file['size_bytes'] / 1e6:.1f} MB, {file['band_keys']:,} keys, {file['layer']})"
          for file in details.get("band_files", [])],
        f"parameters: {parameters}",
        f"hashing:    {details['hashing']}",
        f"datasketch: {details['datasketch']}",
        f"created:    {details['created']}, updated {details['updated']}",
    ])


def _list_rules(pack: RulePack) -> str:
    rows = [("ID", "TYPE", "SEVERITY", "ENABLED", "SCOPE", "DEFINED IN")]
    for rule in pack.rules:
        rows.append((rule.id, rule.type, rule.severity.value, "yes" if pack.runs(rule.id) else "no", str(rule.scope), rule.origin))
    for rule_id, (severity, _) in BUILTIN_RULES.items():
        rows.append((rule_id, "built-in", severity.value, "yes" if pack.runs(rule_id) else "no", "file", "compliance"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows) + "\n"


def _run_sources_add(args: argparse.Namespace) -> int:
    from compliance.fetch.add import add_source

    config = _config(args)
    folders = [p for p in config.sources if p.is_dir() or not p.suffix]
    catalogue = args.catalogue or (folders[0] if folders else Path("sources"))
    settings = fetch_settings(args, config.fetch, config.path)
    path, source = add_source(args.url, catalogue, settings, args.publisher, args.id)
    print(f"added {source.id} ({source.publisher}, {len(source.text.split())} words) to {path}")
    return EXIT_OK


def _run_history(args: argparse.Namespace) -> int:
    store = StateStore.open(_state_path(args, _config(args)), create=False)
    try:
        runs = store.runs(args.limit)
    finally:
        store.close()
    sys.stdout.write(history_json(runs) if args.format == "json" else history_text(runs))
    return EXIT_OK


def _run_watch(args: argparse.Namespace) -> int:
    from compliance.cli.watch import snapshot, watch

    config = _config(args)
    inputs = [*(args.paths or config.paths), *(args.sources or config.sources)]
    for extra in (args.rules or config.rules, config.path):
        if extra and extra != DEFAULT_PACK:
            inputs.append(Path(extra))

    def run_once() -> None:
        try:
            code = _run_scan(args)
            if not args.quiet:
                print(f"compliance: watch: scan finished with exit code {code}; next look in {args.interval:g}s", file=sys.stderr)
        except ComplianceError as error:  # a broken rule pack mid-edit: say so, keep watching
            print(f"compliance: error: {error}", file=sys.stderr)

    try:
        watch(lambda: snapshot(inputs), run_once, args.interval)
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


class _TerminalSafe:
    """stderr with what a terminal would act on escaped: messages quote file names and text
    from reposts and catalogues, which anyone may have written."""

    def __init__(self, stream):
        self.unescaped = stream  # for the progress bar, which draws with \r

    def write(self, text: str) -> int:
        if text.startswith("compliance: "):  # a message of ours is one line, whatever file name or text it quotes
            message = text.rstrip("\n")
            lines = re.split(r"\n(?=compliance: )", message)  # several messages written at once (every schema mistake)
            text = "\n".join(line.replace("\n", "\\n") for line in lines) + text[len(message):]
        return self.unescaped.write(terminal_safe(text))

    def __getattr__(self, name: str):
        return getattr(self.unescaped, name)


def main(argv: list[str] | None = None, *, exiting: bool = False) -> int:
    """Run one command; `exiting` when the process ends as soon as it returns (see `run`)."""
    if not isinstance(sys.stderr, _TerminalSafe):
        sys.stderr = _TerminalSafe(sys.stderr)
    args = _parser().parse_args(argv)
    try:
        if args.command == "scan":
            return _run_scan(args, exiting)
        if args.command == "baseline":
            return _run_baseline(args)
        if args.command == "fix":
            return _run_fix(args, _config(args))
        if args.command == "index":
            with _collector_paused():  # a catalogue is as acyclic as a scan's results
                return _run_index(args)
        if args.command == "sources":
            return _run_sources_add(args)
        if args.command == "cluster":
            return _run_cluster(args)
        if args.command == "history":
            return _run_history(args)
        if args.command == "watch":
            return _run_watch(args)
        if args.command == "review":
            config = _config(args)
            return run_review(args, config, _state_path(args, config))
        if args.command == "decisions":
            return run_decisions_export(args, _state_path(args, _config(args)))
        if args.command == "test":
            config = _config(args)
            return run_test(args, load_pack(args.rules or config.rules or DEFAULT_PACK))
        if args.command == "schema":
            return run_schema(args)
        if args.command == "rule":
            config = _config(args)
            return run_rule(args, selected(load_pack(args.rules or config.rules or DEFAULT_PACK), args, config))
        config = _config(args)
        sys.stdout.write(_list_rules(selected(load_pack(args.rules or config.rules or DEFAULT_PACK), args, config)))
        return EXIT_OK
    except LockTimeout as error:
        print(f"compliance: error: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except ComplianceError as error:
        print(f"compliance: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("compliance: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `compliance index info | head`: the reader left, as it may
        _silence_stdout()
        return EXIT_PIPE
    except Exception as exc:  # a bug of ours: one line, its own code (1 would read as findings)
        if os.environ.get("COMPLIANCE_TRACEBACK"):
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(f"compliance: internal error: {type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno}; "
              "please report it; COMPLIANCE_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    """Later writes (and the flush at exit) go nowhere instead of raising again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def run() -> None:
    """The `compliance` command: `main`, then exit at once.

    Tearing the interpreter down after a scan (its modules, numba's compiled code, the
    loaded band keys) took 0.4-0.5 s in which the user waited for nothing: every report is
    written and closed by then, and the output is flushed here. Under a profiler or a
    coverage tracer, which write their results on the way out, the interpreter exits as usual."""
    code = main(exiting=True)
    if sys.gettrace() is not None or sys.getprofile() is not None:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `compliance ... | head`: the reader left, as it may
        pass
    os._exit(code)
