"""`python -m kms_ref` — the same as the `kms-ref` command."""

from kms_ref.cli.main import main

raise SystemExit(main())
