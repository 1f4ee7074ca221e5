"""New-finding alerts: a JSON summary POSTed to a webhook (`--notify URL`).

The payload carries a `text` field, which is what Slack-compatible incoming webhooks
(Slack, Mattermost, Rocket.Chat, Google Chat) display, and the findings as data for any
other receiver. Each attempt has a timeout, with retries and exponential backoff on
connection errors, timeouts, 429 and 5xx; a failure never costs the scan its results or
changes its exit code.

Nothing is lost when the receiver is down: a run's alert is queued in the state database in
the same transaction that records the run (`alert_for`), and every run that notifies a
webhook first delivers what is queued for it, oldest first, then its own (`deliver_queued`).
An alert leaves the queue the moment its receiver confirms it (2xx), so none is delivered
twice; the first failure stops the round so the receiver never sees them out of order. The
queue is bounded (`MAX_QUEUED`, all webhooks together): when full, the oldest are dropped.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from compliance import __version__
from compliance.errors import ComplianceError
from compliance.state.store import OpenFinding, PendingAlert, RunRecord, StateStore

TEXT_LINES = 20  # findings listed in `text`; the `new_findings` array always has them all
TIMEOUT = 10.0  # seconds per attempt: a hung receiver must not hold the state lock for long
ATTEMPTS = 3
BACKOFF = 1.0  # seconds before the second attempt, doubled before each next one
MAX_QUEUED = 100  # undelivered alerts kept: at one run every 5 minutes, hours of a receiver's outage


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


def post(url: str, body: dict[str, Any] | str, timeout: float | None = None, attempts: int | None = None,
         backoff: float | None = None, sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """POST `body` as JSON (text is sent as it is: a queued alert goes out byte for byte as it
    was queued); waits backoff, 2*backoff, ... between attempts."""
    timeout = TIMEOUT if timeout is None else timeout
    attempts = ATTEMPTS if attempts is None else attempts
    backoff = BACKOFF if backoff is None else backoff
    data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    headers = {"User-Agent": f"compliance/{__version__}", "Content-Type": "application/json"}
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            response = requests.post(url, data=data, timeout=timeout, headers=headers)
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


def alert_for(url: str, new: list[OpenFinding]) -> Callable[[RunRecord], tuple[str, str]]:
    """What `StateSession.commit` queues with the run: the webhook and the exact JSON body."""
    return lambda run: (url, json.dumps(payload(new, run.resolved, run)))


def _new_count(alert: PendingAlert) -> int:
    try:
        return len(json.loads(alert.payload).get("new_findings", []))
    except (ValueError, AttributeError):
        return 0


@dataclass
class Round:
    """One run's delivery to one webhook."""

    url: str
    delivered: int = 0  # confirmed (2xx) and removed from the queue
    earlier: int = 0  # of those, alerts queued by earlier runs
    failure: Delivery | None = None  # the attempt that stopped the round
    waiting: list[PendingAlert] = field(default_factory=list)  # still queued for this webhook
    dropped: list[PendingAlert] = field(default_factory=list)  # the queue was full

    def warnings(self) -> list[str]:
        """One line each, without the webhook's secret."""
        lines = []
        if self.dropped:
            oldest = self.dropped[0]
            what = "the oldest alert" if len(self.dropped) == 1 else f"the {len(self.dropped)} oldest alerts"
            lines.append(f"webhook alert queue full ({MAX_QUEUED} alerts): dropped {what}, queued {oldest.queued} "
                         f"for {redacted(oldest.url)}")
        if self.failure is not None:
            count = len(self.waiting)
            lines.append(f"webhook {redacted(self.url)} not notified of {sum(map(_new_count, self.waiting))} new findings "
                         f"after {self.failure.attempts} attempt{'s' if self.failure.attempts != 1 else ''}: "
                         f"{self.failure.error}; "
                         f"{count} alert{'s' if count != 1 else ''} queued for the next run")
        return lines


def deliver_queued(store: StateStore, url: str, run_id: int | None = None) -> Round:
    """Deliver the alerts queued for `url`, oldest first, removing each as soon as it is confirmed;
    stop at the first failure. `run_id`: this run's, to tell its alert from earlier ones."""
    outcome = Round(url, dropped=store.trim_alerts(MAX_QUEUED))
    for alert in store.pending_alerts(url):
        delivery = post(url, alert.payload)
        if not delivery.ok:
            outcome.failure = delivery
            break
        store.remove_alert(alert.id)
        outcome.delivered += 1
        outcome.earlier += alert.run_id != run_id
    outcome.waiting = store.pending_alerts(url)
    return outcome
