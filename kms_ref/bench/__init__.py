"""Benchmarks: `python -m kms_ref.bench` (and `--flows` for whole commands).

    micro.py   median times of the hot operations, with python-ecdsa/coincurve ratios when present
    ciphers.py AES: CBC and GCM throughput, byte-sliced against block by block and pyaes (`--aes`)
    units.py   how a duration is printed (shared by micro and ciphers)
    machine.py how fast the machine is during a run (a 256-bit a·b mod p; head of micro and flows)
    flows.py   whole processes: `getaddress` on small and large wallets, daemon cycles

Layer: the top. It may import anything in kms_ref; nothing in kms_ref imports it.
"""
