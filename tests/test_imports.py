"""The package's shape: no import cycle (imports inside functions count), no private name taken
from another module, no package importing one above it, and torch only inside engines/."""

from __future__ import annotations

import ast
import pathlib

SRC = pathlib.Path(__file__).resolve().parent.parent / "src" / "mlpfit"


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, pathlib.Path]:
    return {module_name(p): p for p in SRC.rglob("*.py")}


def imports(path: pathlib.Path, known: dict) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for every import of an mlpfit module anywhere in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.startswith("mlpfit")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mlpfit"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.append((child, None) if child in known else (node.module, alias.name))
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    edges = {name: set() for name in known}
    for name, path in known.items():
        for target, _ in imports(path, known):
            if target in known and target != name and not name.startswith(target + "."):
                edges[name].add(target)  # a package's own __init__ above it is not an edge
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycle_even_through_imports_inside_functions():
    assert find_cycle(graph()) is None, " -> ".join(find_cycle(graph()))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_takes_another_modules_private_names():
    known = modules()
    taken = [(name, f"{target}.{what}") for name, path in known.items() for target, what in imports(path, known)
             if what and what.startswith("_") and not what.startswith("__") and target != name]
    assert not taken, taken


def imports_torch(path: pathlib.Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "torch" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "torch":
            return True
    return False


def test_torch_is_imported_only_inside_engines():
    outside = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
               if imports_torch(p) and p.relative_to(SRC).parts[0] != "engines"]
    assert not outside, outside


def test_the_torch_finder_finds_torch():
    engine = SRC / "engines" / "torch" / "single.py"
    assert imports_torch(engine) and not imports_torch(SRC / "network" / "network.py")


def test_lower_packages_never_import_the_ones_above_them():
    """The flow reads one way: data and network below train and engines, those below fitting; runfolder below
    fitting and report."""
    below = {"data": {"fitting", "report", "cli", "runfolder", "engines", "train", "network"},
             "network": {"fitting", "report", "cli", "runfolder", "engines", "train"},
             "train": {"fitting", "report", "cli", "runfolder", "engines"},
             "engines": {"fitting", "report", "cli", "runfolder"},
             "runfolder": {"fitting", "report", "cli"},
             "report": {"fitting", "cli"}}
    wrong = [(a, b) for a, targets in graph().items() for b in targets
             if a.split(".")[1:2] and b.split(".")[1:2] and b.split(".")[1] in below.get(a.split(".")[1], set())]
    assert not wrong, wrong
