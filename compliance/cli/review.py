"""`compliance review` (serve the latest report with decision controls) and
`compliance decisions export`."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Callable

from compliance.config import Config, review_waivers_path
from compliance.errors import ComplianceError

DEFAULT_PORT = 8765
TOKEN_VARIABLE = "COMPLIANCE_REVIEW_TOKEN"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, not {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, not {value}")
    return value


def add_review_commands(commands, add_state_option: Callable[[argparse.ArgumentParser], None]) -> None:
    review = commands.add_parser("review", help="serve the latest HTML report with controls to record reviewers' decisions")
    review.add_argument("--report-dir", type=Path, metavar="DIR",
                        help="the report folder whose `latest` run is served (default: the configuration's report_dir, else reports)")
    add_state_option(review)
    review.add_argument("--config", type=Path, metavar="FILE", help="configuration file")
    review.add_argument("--reviewer", metavar="NAME", help="the name decisions are recorded under (default: the OS user)")
    review.add_argument("--host", default="127.0.0.1", metavar="HOST",
                        help="address to listen on (default: 127.0.0.1; any other needs --token)")
    review.add_argument("--port", type=_port, default=DEFAULT_PORT, metavar="N", help=f"port (default: {DEFAULT_PORT})")
    review.add_argument("--token", metavar="T",
                        help=f"a secret every request must carry (default: ${TOKEN_VARIABLE}); needed off loopback")

    decisions = commands.add_parser("decisions", help="reviewers' decisions recorded in the state")
    actions = decisions.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write every decision, with where it stands, as CSV or JSON")
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (default) or json")
    add_state_option(export)
    export.add_argument("--config", type=Path, metavar="FILE", help="configuration file (the default state lies beside it)")
    export.add_argument("--output", type=Path, metavar="FILE", help="write here (atomically) instead of the terminal")


def reviewer_name(given: str | None) -> str:
    if given is not None:
        if not given.strip() or len(given) > 200:
            raise ComplianceError("--reviewer needs a name of 1 to 200 characters")
        return given.strip()
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container: say who by flag
        return "unknown"


def run_review(args: argparse.Namespace, config: Config, state_path: Path) -> int:
    from compliance.review.app import is_loopback, latest_run

    token = args.token or os.environ.get(TOKEN_VARIABLE) or None
    if not is_loopback(args.host) and token is None:
        raise ComplianceError(f"--host {args.host} is not a loopback address: give --token (or ${TOKEN_VARIABLE}), "
                              "or anyone who reaches it could record decisions")
    try:
        import uvicorn

        from compliance.review.app import ReviewSettings, create_app
    except ImportError as exc:
        raise ComplianceError(f"`compliance review` needs the review extra ({exc.name} is missing): "
                              "pip install 'repost-compliance[review]'") from None
    report_dir = args.report_dir or config.report_dir or Path("reports")
    latest_run(report_dir)  # no report yet: say so now, not on the first request
    settings = ReviewSettings(report_dir, state_path, review_waivers_path(config, Path.cwd()), reviewer_name(args.reviewer),
                              token, args.host)
    app = create_app(settings)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"compliance review: {report_dir}/latest at http://{shown}:{args.port}/{'?token=' + token if token else ''} "
          f"as {settings.reviewer}; decisions in {state_path}, accepted findings in {settings.waivers}; Ctrl-C stops",
          file=sys.stderr)
    # no access log: it would write the token of a first visit (?token=) to the terminal
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, server_header=False)
    return 0


def run_decisions_export(args: argparse.Namespace, state_path: Path) -> int:
    from compliance.report import write_atomic
    from compliance.state.decisions import assess, export_decisions
    from compliance.state.store import StateStore

    store = StateStore.open(state_path, create=False)
    try:
        text = export_decisions(assess(store.decisions(), store.document_hashes()), args.format)
    finally:
        store.close()
    if args.output:
        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
