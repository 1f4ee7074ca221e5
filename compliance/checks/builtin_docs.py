"""What `compliance rule` says about the built-in rules, in the form of a rule type's docstring
(`compliance.checks.ruledoc` reads both): the summary line, prose, then PASSES and FAILS."""
from __future__ import annotations

BUILTIN_DOCS = {
    "input-unreadable": """input-unreadable: the file cannot be read as text.

A repost that is binary, not UTF-8, has front matter that is not valid YAML, or lies in a
folder that cannot be listed, is reported once and the scan goes on with the other files.

PASSES::

    ---
    title: Iran and Russia
    ---
    The deepening military ties between Iran and Russia ...

FAILS (the front matter never closes its list)::

    ---
    title: [Iran and Russia
    ---
""",
    "input-too-large": """input-too-large: the file is over the size limit.

Files larger than `--max-bytes` (or the configuration's `max_bytes`, default 5 MiB) are not
read: no repost is that long, and a huge file would cost the scan its time.

FAILS (with `--max-bytes 5000`)::

    a 6 kB export of a whole news feed pasted into one file
""",
    "internal-error": """internal-error: compliance itself failed on the file: a bug to report.

The other files are still checked. COMPLIANCE_TRACEBACK=1 shows where it failed.
""",
    "check-timeout": """check-timeout: a rule ran past its time budget on the file.

The file was not fully checked; the other rules and files were. A `forbidden-text` pattern
that backtracks without end is the usual cause: simplify the pattern.

FAILS (patterns: ["(a+)+$"])::

    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab
""",
    "suppression-unused": """suppression-unused: a suppression that suppresses nothing in this scan.

As ruff flags an unused `noqa`: a suppression comment whose rules found nothing where it
applies (or that names a rule this scan does not run), and a configuration waiver that covers
scanned files but suppressed none of their findings, would hide the next real finding there.
Remove it, or name the rule that still needs it. A waiver is judged only on the files a scan
covered, so a partial scan does not call the others' waivers unused.

PASSES (the paragraph below has the caption pasted twice)::

    <!-- compliance: ignore caption-duplicated -- the photo is shown twice on purpose -->
    This image shows a drone... This image shows a drone over Kermanshah, Iran.

FAILS (nothing is repeated any more)::

    <!-- compliance: ignore caption-duplicated -- the photo is shown twice on purpose -->
    This image shows a drone over Kermanshah, Iran.
""",
    "suppression-unknown-rule": """suppression-unknown-rule: a suppression names a rule id that no rule has.

A suppression comment or a configuration waiver naming a rule that neither the pack in force
nor the built-ins define suppresses nothing: usually a typo, or a rule renamed since.

FAILS::

    <!-- compliance: ignore atribution-missing -- licensed by email, ticket 42 -->
""",
    "suppression-no-reason": """suppression-no-reason: a suppression comment gives no reason.

Only when the pack says `suppressions: {require_reason: true}`. The reason is what the next
editor reads to know whether the suppression still holds; the finding it suppresses stays
suppressed.

PASSES::

    <!-- compliance: ignore attribution-missing -- licensed by email, ticket 42 -->

FAILS::

    <!-- compliance: ignore attribution-missing -->
""",
}
