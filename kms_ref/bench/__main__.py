"""`python -m kms_ref.bench`: see `kms_ref.bench.micro`."""

from kms_ref.bench.micro import main

raise SystemExit(main())
