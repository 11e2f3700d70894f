"""`kms-ref journal`: what the daemon's journal says — for audits (kms_ref.daemon.journal_audit).

    kms-ref journal                              where the journal is, its size, in-doubt IDs
    kms-ref journal <pendingId>                  every event of that pending transaction, its state
    kms-ref journal --from=DATE [--to=DATE]      the "broadcast" events with from <= t < to

The journal is `<wallet file>.journal` with its history in `<wallet file>.journal.d/`; --path
names the wallet. DATE is 2024-01-31 (midnight UTC) or 2024-01-31T12:00:00Z. No password is
asked: the journal holds pending IDs, txids and times, never a secret. It can be read while the
daemon runs.
"""

from __future__ import annotations

import os

from kms_ref.daemon.journal import journal_path
from kms_ref.daemon.journal_audit import History, parse_date


def journal(ctx, args):
    path = journal_path(ctx.path)
    if not os.path.exists(path):
        raise ValueError("no journal at %s: the daemon has not run for the wallet %s" % (path, ctx.path))
    since = parse_date(str(ctx.flags["from"])) if ctx.flags.get("from") else None
    until = parse_date(str(ctx.flags["to"])) if ctx.flags.get("to") else None
    if args and (since or until):
        raise ValueError("kms-ref journal takes one pending ID, or --from/--to, not both")
    with History(path) as history:
        if args:
            return history.story(args[0])
        if since or until:
            return {"from": since, "to": until, "broadcast": history.broadcasts(since, until)}
        return history.summary()

