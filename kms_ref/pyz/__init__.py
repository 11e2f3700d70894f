"""The one-file build (SPEC §10): `python3 -m kms_ref.pyz [OUTDIR]`.

    build.py   the package as a zipapp, `OUTDIR/kms-ref.pyz` (default `dist/`), and
               `OUTDIR/SHA256SUMS`; the same tree always gives the same bytes

Layer: the top, beside the public faces and `bench`; nothing in kms_ref imports it. It needs
only the standard library (`zipfile`, `zipapp`, `hashlib`).
"""
