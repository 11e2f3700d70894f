"""`kms-ref sandbox`: the local Tatum v3 API (`kms_ref.sandbox.server`) started from the command
line, with errors that say what to do — a port in use names the port and --port."""

from __future__ import annotations

import errno

from kms_ref.sandbox.server import DEFAULT_HOST, DEFAULT_PORT, main as sandbox_main


def sandbox(ctx) -> int:
    try:
        return sandbox_main(ctx)
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        host = ctx.flags.get("host") or DEFAULT_HOST
        port = ctx.flags.get("port", DEFAULT_PORT)
        raise ValueError("port %s on %s is already in use (another sandbox?): choose another with "
                         "--port, e.g. --port=%d, or --port=0 for any free port"
                         % (port, host, port + 1 if isinstance(port, int) and port < 65535 else 8081)) from None
