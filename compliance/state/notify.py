"""New-finding alerts: a JSON summary POSTed to a webhook (`--notify URL`).

The payload carries a `text` field, which is what Slack-compatible incoming webhooks
(Slack, Mattermost, Rocket.Chat, Google Chat) display, and the findings as data for any
other receiver. Delivery is best effort: a timeout per attempt, retries with exponential
backoff on connection errors, timeouts, 429 and 5xx, and a failure is returned to the caller
to log; it never costs the scan its results or changes its exit code.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from compliance import __version__
from compliance.errors import ComplianceError
from compliance.state.store import OpenFinding, RunRecord

TEXT_LINES = 20  # findings listed in `text`; the `new_findings` array always has them all
TIMEOUT = 10.0  # seconds per attempt: a hung receiver must not hold the state lock for long
ATTEMPTS = 3
BACKOFF = 1.0  # seconds before the second attempt, doubled before each next one


@dataclass(frozen=True)
class Delivery:
    ok: bool
    attempts: int
    error: str = ""


def redacted(url: str) -> str:
    """Webhook URLs carry their secret in the path (Slack) or query: logs show the host only."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or ''}/…" if parts.scheme else "(webhook)"
    except ValueError:
        return "(webhook)"


def check_webhook_url(url: str) -> None:
    """Refuse, before scanning, a URL a webhook could never be posted to."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise ComplianceError(f"--notify needs an http(s) URL, not {redacted(url)!r}")


def payload(new: list[OpenFinding], resolved: int, run: RunRecord) -> dict[str, Any]:
    counts = {s: sum(1 for f in new if f.severity == s) for s in ("error", "warning", "info")}
    by_sev = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    head = f"compliance: {len(new)} new finding{'s' if len(new) != 1 else ''} ({by_sev}) in {run.documents} documents"
    if resolved:
        head += f"; {resolved} resolved"
    lines = [head] + [f"• {f.location}:{f.line} {f.severity} {f.rule}: {f.message}" for f in new[:TEXT_LINES]]
    if len(new) > TEXT_LINES:
        lines.append(f"… and {len(new) - TEXT_LINES} more")
    return {
        "text": "\n".join(lines),
        "tool": {"name": "compliance", "version": __version__},
        "run": {"id": run.id, "started": run.started, "documents": run.documents, "rechecked": run.rechecked,
                "findings": run.findings, "new": run.new, "resolved": run.resolved},
        "new_findings": [
            {"path": f.location, "rule": f.rule, "severity": f.severity, "line": f.line, "message": f.message,
             "fingerprint": f.fingerprint}
            for f in new
        ],
    }


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def post(url: str, body: dict[str, Any], timeout: float | None = None, attempts: int | None = None,
         backoff: float | None = None, sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """POST `body` as JSON; waits backoff, 2*backoff, ... between attempts."""
    timeout = TIMEOUT if timeout is None else timeout
    attempts = ATTEMPTS if attempts is None else attempts
    backoff = BACKOFF if backoff is None else backoff
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            response = requests.post(url, json=body, timeout=timeout, headers={"User-Agent": f"compliance/{__version__}"})
            if response.status_code < 300:
                return Delivery(True, attempt)
            error = f"HTTP {response.status_code}"
            if not _retryable(response.status_code):
                return Delivery(False, attempt, error)
        except requests.Timeout:
            error = f"no answer within {timeout:g}s"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}" + (": connection refused" if "refused" in str(exc).lower() else "")
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    return Delivery(False, attempts, error)
