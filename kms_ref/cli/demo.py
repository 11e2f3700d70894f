"""`kms-ref demo [--chain BTC|LTC|DOGE|BCH] [--taproot]`: the seed walkthrough, A to Z, with nobody typing.

It starts a private sandbox (`kms_ref.sandbox`) on 127.0.0.1 and a throwaway wallet in a
temporary directory, then runs the eight steps of `seed_bitcoin_kms_flow.txt` on testnet exactly
as a user would — every `kms-ref` command is a real process, every API call a real HTTP request —
printing each command and what came back:

    1 generatemanagedwallet    2 getprivatekey 0     3 getaddress 0
    4 storemanagedprivatekey   (+ export)            5 daemon, in the background
    6 faucet → the address     7 POST /v3/{chain}/transaction with the key's signature ID
    8 GET /v3/kms/{id}: the daemon signed and broadcast it; here is its txId

With `--taproot` (BTC only) steps 2 and 3 run `getprivatekey`/`getaddress --taproot`: the BIP86
key and its Taproot address, so the coins go to a tb1p… address and the daemon spends them by the BIP341 key
path, paying a second Taproot address; the sandbox checks the Schnorr signature before it accepts.

Nothing leaves the machine, and the wallet and sandbox vanish at the end. The password and the
private key appear in the output on purpose: they belong to this throwaway wallet only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from kms_ref.daemon.tatum_client import TatumClient
from kms_ref.hd.bip86 import check_taproot_chain
from kms_ref.hd.chains import get_chain

PASSWORD = "demo-password"
API_KEY = "demo-api-key"
# (faucet amount, sent to the other address, sent back as change) in coins; the rest is the fee.
# DOGE's amounts obey bitcore's rules (outputs ≥ 1 DOGE, fee within 1/15..15× its estimate).
AMOUNTS = {"BTC": ("0.001", "0.0001", "0.00085"), "LTC": ("0.01", "0.001", "0.0085"),
           "BCH": ("0.001", "0.0001", "0.00085"), "DOGE": ("10", "2", "7.5")}
WAIT_SECONDS = 60


def say(text: str = "") -> None:
    print(text, flush=True)


class Walkthrough:
    def __init__(self, chain, home: str, sandbox_url: str, taproot: bool = False):
        self.chain = chain
        self.taproot = ["--taproot"] if taproot else []
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TATUM_")}
        self.env.update({"HOME": home, "TATUM_KMS_PASSWORD": PASSWORD, "TATUM_API_URL": sandbox_url,
                         "PYTHONPATH": os.pathsep.join(p for p in [_package_root(), self.env.get("PYTHONPATH")] if p)})
        self.program = program()
        self.api = TatumClient(sandbox_url, API_KEY)
        self.sandbox_url = sandbox_url

    def kms(self, *args, typed=None):
        """Run `kms-ref args` as the user would; `typed` is what they type at the hidden prompt."""
        say("$ kms-ref " + " ".join(args))
        if typed is not None:
            say("Enter private key to store: " + "*" * len(typed))
        proc = subprocess.run([*self.program, *args], cwd=self.home, env=self.env,
                              input=(typed + "\n") if typed is not None else "", capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError("kms-ref %s failed: %s" % (args[-2] if len(args) > 1 else args[0], proc.stderr.strip()))
        say(proc.stdout.rstrip())
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def http(self, method, path, body=None):
        say("$ curl -X %s %s%s -H 'x-api-key: %s'%s" % (method, self.sandbox_url, path, API_KEY,
                                                        " -d '%s'" % json.dumps(body) if body else ""))
        answer = self.api.call(method, path, body)
        say(json.dumps(answer, indent=2))
        return answer

    def run(self) -> str:
        c, net = self.chain.symbol, ["--path=wallet.dat", "--testnet"]
        funding, send, back = AMOUNTS[c]
        say("== Step 1: generate a managed %s wallet (mnemonic)" % c)
        wallet_id = self.kms(*net, "generatemanagedwallet", c)["signatureId"]
        kind = " (BIP86 Taproot: m/86'/1'/0'/0/0)" if self.taproot else ""
        say("\n== Step 2: the private key at index 0" + kind)
        key = self.kms(*net, "getprivatekey", wallet_id, "0", *self.taproot)["privateKey"]
        say("\n== Step 3: the address at index 0" + kind)
        address = self.kms(*net, "getaddress", wallet_id, "0", *self.taproot)["address"]
        other = self.kms(*net, "getaddress", wallet_id, "1", *self.taproot)["address"]
        say("\n== Step 4: store the private key (typed at a hidden prompt), then export")
        key_id = self.kms(*net, "storemanagedprivatekey", c, typed=key)["signatureId"]
        self.kms(*net, "export")

        say("\n== Step 5: the daemon, in the background")
        args = ["daemon", *net, "--chain=" + c, "--apiKey=" + API_KEY, "--period=1"]
        say("$ kms-ref " + " ".join(args) + " &")
        log_path = os.path.join(self.home, "daemon.log")
        with open(log_path, "w") as log:
            daemon = subprocess.Popen([*self.program, *args], cwd=self.home, env=self.env,
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            say("\n== Step 6: testnet coins to %s (the sandbox faucet)" % address)
            body = {"address": address, "amount": funding, "chain": c}
            self.http("POST", "/v3/sandbox/faucet", body)
            say("\n== Step 7: send %s %s to %s and %s back, signed by the key's signature ID" % (send, c, other, back))
            body = {"fromAddress": [{"address": address, "signatureId": key_id}],
                    "to": [{"address": other, "value": float(send)}, {"address": address, "value": float(back)}]}
            pending_id = self.http("POST", "/v3/%s/transaction" % self.chain.api_name, body)["signatureId"]
            say("\n== Step 8: the daemon picks it up, signs locally, broadcasts; the KMS record shows the txId")
            tx_id = self._wait_for_tx_id(pending_id, daemon)
            self.http("GET", "/v3/kms/%s" % pending_id)
            self.http("GET", "/v3/%s/address/balance/%s" % (self.chain.api_name, address))
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
            with open(log_path) as log:
                say("\n-- the daemon's log --\n" + log.read().rstrip())
        return tx_id

    def _wait_for_tx_id(self, pending_id, daemon):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            tx = self.api.get_pending(pending_id)
            if tx.get("txId"):
                return tx["txId"]
            if daemon.poll() is not None:
                raise RuntimeError("the daemon stopped (exit %s) before signing" % daemon.returncode)
            time.sleep(0.2)
        raise RuntimeError("the daemon did not sign %s within %d s" % (pending_id, WAIT_SECONDS))


def _package_root() -> str:
    """The directory (or zip archive) that holds the kms_ref package: what goes on sys.path."""
    import kms_ref

    return os.path.dirname(os.path.dirname(os.path.abspath(kms_ref.__file__)))


def program() -> list:
    """The command line that runs this same kms_ref as a new process: `python kms-ref.pyz` when
    it runs from the one-file archive (then the directory that holds the package is a file: the
    zip), keeping the interpreter's -I and -S; otherwise `python -m kms_ref`, found through the
    PYTHONPATH the walkthrough sets."""
    root = _package_root()
    if os.path.isfile(root):
        flags = [flag for flag, on in (("-I", sys.flags.isolated), ("-S", sys.flags.no_site)) if on]
        return [sys.executable, *flags, root]
    return [sys.executable, "-m", "kms_ref"]


def main(ctx) -> int:
    from kms_ref.sandbox.server import start_sandbox

    chain = get_chain(ctx.flags.get("chain") or "BTC", True)
    taproot = bool(ctx.flags.get("taproot"))
    if taproot:
        check_taproot_chain(chain)
    say("kms_ref demo: the Tatum KMS walkthrough on %s%s, against a local sandbox (nothing leaves this machine)\n"
        % (chain, " with Taproot addresses" if taproot else ""))
    with tempfile.TemporaryDirectory(prefix="kms-ref-demo-") as home, start_sandbox(api_key=API_KEY) as sandbox:
        tx_id = Walkthrough(chain, home, sandbox.url, taproot).run()
    say("\nDone: %s transaction %s was signed by kms_ref and accepted by the sandbox." % (chain, tx_id))
    return 0
