"""`python -m kms_ref` — the same as the `kms-ref` command."""

from kms_ref.cli.main import main

main()   # raises SystemExit with the command's exit status
