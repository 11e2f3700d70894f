"""`python3 -m kms_ref.pyz [OUTDIR]`: see `kms_ref.pyz.build`."""

from kms_ref.pyz.build import main

raise SystemExit(main())
