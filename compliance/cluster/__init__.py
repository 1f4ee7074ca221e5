"""A catalogue too large for one machine, served in shards by a Ray cluster.

The catalogue is split by source id into shard indexes (`shards`), each a file of the single
machine's index format. A long-running service holds one detached, named Ray actor per
shard (`service`), which answers a batch of band keys and hands out source texts. A scan
(`scan`) sends chunks of reposts to Ray tasks that run the same stages as a single-machine
scan; only where the candidates are looked up changes: on every shard, answers merged as one
index of the whole catalogue would rank them (`index.merge_key_matches`).

Ray is imported only by `service` and `scan` (the `cluster` extra); building shards needs
none of it.
"""
from __future__ import annotations

import os
from pathlib import Path

if "RAY_AUTH_MODE" not in os.environ and (Path.home() / ".ray" / "auth_token").is_file():
    # `ray start` turns token authentication on when this token file exists (Ray 2.59 on), but
    # a process joining the cluster sends the token only when told to; Ray reads this when
    # imported, which `service` and `scan` do after this package
    os.environ["RAY_AUTH_MODE"] = "token"
