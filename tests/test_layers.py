"""The folder tree is the architecture (the style guide's "Layers"): imports only point down.

Every module of kms_ref is read with `ast` (imports inside functions included) and placed in
its layer by the folder it sits in. This file is the one place where the order of the layers
is written down; the package docstring (`kms_ref/__init__.py`) draws the same tree.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "kms_ref"

# Lowest first. A module may import from its own layer or a lower one, never a higher one.
LAYERS = [
    "crypto",      # primitives, standard library only; the curve definition below its fast paths
    "encoding",    # Base58Check, bech32/bech32m, CashAddr, WIF, script templates
    "hd",          # BIP39, BIP32, BIP44/86 paths, the chain table, addresses
    "tx",          # transactions: serialize, sighash, sign, verify
    "selftest",    # known answers of everything below; the daemon runs its fast part at start
    "store",       # the wallet file: both formats, locking, atomic writes
    "net",         # the one outbound HTTP(S) client
    "passwords",   # where the wallet password comes from
    "daemon",      # the Tatum v3 client, journal, signer, the loop
    "sandbox",     # the local Tatum v3 API
    "cli",         # the user's edge
    "top",         # the public faces, __main__, bench/, pyz/: nothing in kms_ref imports these
]
# The public faces of the README's "Library API": thin re-exports at the top of the package.
FACES = {"secp256k1", "aes", "ripemd160", "base58", "bech32", "bip39", "bip32", "bip340"}
TOP_FOLDERS = {"bench", "pyz"}
MAX_LINES = 400


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    """The layer a module of kms_ref belongs to; "root" for the package itself (`__version__`)."""
    parts = module.split(".")
    if parts == ["kms_ref"]:
        return "root"
    if len(parts) == 2 and (parts[1] in FACES or parts[1] == "__main__"):
        return "top"
    if parts[1] in TOP_FOLDERS:
        return "top"
    return parts[1]


def imports_of(module: str) -> set:
    """The kms_ref modules `module` imports, resolved to modules (`from kms_ref.hd import tatum`
    is an import of kms_ref.hd.tatum)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = "%s.%s" % (base, alias.name)
                found.add(candidate if candidate in MODULES else base)
    return {name for name in found if name == "kms_ref" or name.startswith("kms_ref.")}


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_is_in_a_known_layer():
    unknown = {m: layer_of(m) for m in MODULES if layer_of(m) not in LAYERS + ["root"]}
    assert not unknown, "modules outside every layer (add the folder to LAYERS or move them): %s" % unknown


def test_nothing_loose_at_the_top_of_the_package():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.stem not in FACES | {"__init__", "__main__"}]
    assert not loose, "modules at the top of kms_ref/ that belong in a layer's folder: %s" % loose


def upward_imports(module: str, targets) -> list:
    """The imports of `module` that point to a higher layer, or into the top from below it."""
    layer = layer_of(module)
    rank = -1 if layer == "root" else LAYERS.index(layer)
    upward = []
    for target in sorted(targets):
        target_layer = layer_of(target)
        if target_layer == "root":
            continue
        same_top_folder = target.split(".")[:2] == module.split(".")[:2]
        if LAYERS.index(target_layer) > rank or (target_layer == "top" and not same_top_folder):
            upward.append("%s (%s)" % (target, target_layer))
    return upward


def find_cycles(graph: dict) -> list:
    """Depth-first search over an import graph; every back edge closes a cycle."""
    state, stack, cycles = {}, [], []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return cycles


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    missing = [t for t in GRAPH[module] if t not in MODULES]
    assert not missing, "%s imports modules that do not exist: %s" % (module, missing)
    upward = upward_imports(module, GRAPH[module])
    assert not upward, "%s (layer %s) imports upward: %s" % (module, layer_of(module), ", ".join(upward))


def test_no_import_cycle():
    cycles = find_cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checks_catch_what_they_are_for():
    """A test of the tests, on made-up imports: an upward import, an import of a public face
    or of bench/ from inside the package, and a cycle are all reported; a downward one is not."""
    assert upward_imports("kms_ref.crypto.aes", {"kms_ref.cli.main"}) == ["kms_ref.cli.main (cli)"]
    assert upward_imports("kms_ref.daemon.cycle", {"kms_ref.secp256k1"}) == ["kms_ref.secp256k1 (top)"]
    assert upward_imports("kms_ref.cli.main", {"kms_ref.bench.micro"}) == ["kms_ref.bench.micro (top)"]
    assert upward_imports("kms_ref.cli.main", {"kms_ref", "kms_ref.store.errors", "kms_ref.cli.args"}) == []
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]
    assert find_cycles({"a": {"b"}, "b": set()}) == []
    assert "kms_ref.hd.tatum" in imports_of("kms_ref.daemon.signer")   # `from kms_ref.hd import tatum`


@pytest.mark.parametrize("module", sorted(MODULES))
def test_files_stay_small(module):
    """One idea per file: over ~400 lines is usually two."""
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, "%s has %d lines" % (MODULES[module], lines)
