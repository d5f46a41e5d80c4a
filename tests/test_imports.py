"""The shape of the package: no import cycles, a core that never imports its faces.

The module graph is read from the source (an AST walk), so imports inside
functions count as much as those at the top of a module: a function-level
import that closes a cycle still runs a half-initialised module the day that
function is called while its partner is loading.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = "digitlab"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# Modules that are faces over the core: the core may not import them at all.
FACES = ("digitlab.cli", "digitlab.web", "digitlab.notebook", "digitlab.__main__")
# Libraries the core imports only inside the function that needs them.
LAZY_LIBRARIES = (
    "matplotlib",
    "anywidget",
    "fastapi",
    "starlette",
    "uvicorn",
    "dask",
    "distributed",
    "faiss",
)


def module_files(root: Path = SOURCE) -> dict[str, Path]:
    """Every module of the package by dotted name (``pkg/__init__.py`` is ``pkg``)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _absolute(node: ast.ImportFrom, importer: str, modules: dict[str, Path]) -> str:
    """The absolute module named by ``from X import ...`` (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    # Level 1 is the importer's own package (a package is its own package).
    parts = importer.split(".")
    if not _is_package(importer, modules):
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _lazy_name_map(tree: ast.Module) -> dict[str, str]:
    """A package's ``_EXPORTS`` (PEP 562 lazy names): name -> defining module."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return {}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:`` (never run)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (
                isinstance(node.test, ast.Attribute)
                and node.test.attr == "TYPE_CHECKING"
            )
        ):
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def imports_of(name: str, modules: dict[str, Path], top_level_only: bool = False):
    """``(imported, line)`` for every import statement in module ``name``.

    ``imported`` is a dotted name as written, resolved to absolute: a module
    (``import a.b``, ``from a import b`` when ``a.b`` is a module) or, for
    ``from a import b`` where ``b`` is a name, the module ``a``.
    """
    tree = ast.parse(modules[name].read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, modules)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in modules else base, node.lineno))
    return found


def import_graph(modules: dict[str, Path] | None = None) -> dict[str, dict[str, int]]:
    """``{module: {imported package module: line}}`` for every package module.

    A package's lazy name map counts as imports of the modules it names: a
    module that does ``from digitlab import X`` reaches, through the root,
    every module the root loads names from.
    """
    modules = module_files() if modules is None else modules
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for imported, line in imports_of(name, modules):
            # ``import a.b.c`` runs a.b.c; its packages a and a.b are already
            # loaded by the time any module of the package runs.
            if imported in modules and imported != name:
                edges.setdefault(imported, line)
        if path.name == "__init__.py":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for target in sorted(set(_lazy_name_map(tree).values())):
                edges.setdefault(target, 0)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(components)


def cycle_path(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    """One cycle inside ``component``, as ``a (line 3) -> b (line 9) -> a``."""
    inside = set(component)
    start = component[0]
    # Breadth-first search from start back to start, inside the component.
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w not in inside:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                path.reverse()
                path.append(start)
                steps = [
                    f"{a} (line {graph[a][b]})" if graph[a][b] else f"{a} (_EXPORTS)"
                    for a, b in zip(path, path[1:], strict=False)
                ]
                return " -> ".join(steps + [start])
            if w not in previous:
                previous[w] = v
                queue.append(w)
    return " <-> ".join(component)


def test_the_graph_sees_function_level_and_root_imports(tmp_path):
    """The walk itself: a cycle through a function-level import, a relative
    import, and one through the package root's lazy names are all found."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text('_EXPORTS = {"thing": "pkg.a"}\n')
    (pkg / "a.py").write_text("def f():\n    from pkg import __version__\n")
    (pkg / "b.py").write_text("from . import c\n")
    (pkg / "c.py").write_text("def g():\n    import pkg.b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "d.py").write_text("from ..c import g\nfrom .e import h\n")
    (pkg / "sub" / "e.py").write_text("from typing import TYPE_CHECKING\n")
    modules = module_files(pkg)
    graph = import_graph(modules)
    assert graph["pkg"] == {"pkg.a": 0}
    assert graph["pkg.a"] == {"pkg": 2}
    assert graph["pkg.b"] == {"pkg.c": 1}
    assert graph["pkg.c"] == {"pkg.b": 2}
    assert graph["pkg.sub.d"] == {"pkg.c": 1, "pkg.sub.e": 2}
    assert find_cycles(graph) == [["pkg", "pkg.a"], ["pkg.b", "pkg.c"]]
    assert (
        cycle_path(graph, ["pkg.b", "pkg.c"])
        == "pkg.b (line 1) -> pkg.c (line 2) -> pkg.b"
    )


def defined_names(name: str, modules: dict[str, Path]) -> set[str] | None:
    """The names module ``name`` binds at module level (None: it makes names up
    in a ``__getattr__`` beyond its ``_EXPORTS``, so any name may exist)."""
    tree = ast.parse(modules[name].read_text(encoding="utf-8"))
    names = set(_lazy_name_map(tree))
    top = list(tree.body)
    # Names bound under top-level if/try blocks count too.
    while top:
        node = top.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for inner in getattr(node, field, []):
                    top.extend(
                        inner.body if isinstance(inner, ast.ExceptHandler) else [inner]
                    )
    if "__getattr__" in names and not _lazy_name_map(tree):
        return None
    return names


def test_every_import_from_the_package_names_something_that_exists():
    """``from digitlab.x import name`` inside the package names a module or a
    name ``digitlab.x`` defines: code moved to another module leaves no import
    that only fails the day its function runs."""
    modules = module_files()
    defined = {name: defined_names(name, modules) for name in modules}
    wrong = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = _absolute(node, name, modules)
            if base not in modules or defined[base] is None:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub not in modules and alias.name not in defined[base]:
                    wrong.append(f"{name} line {node.lineno}: {sub} does not exist")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles():
    graph = import_graph()
    assert "digitlab.neighbors" in graph and "digitlab.web.app" in graph
    cycles = [cycle_path(graph, component) for component in find_cycles(graph)]
    assert not cycles, "import cycles (module (line of the import) -> ...):\n" + (
        "\n".join(cycles)
    )


def _is_face(name: str) -> bool:
    return any(name == face or name.startswith(face + ".") for face in FACES)


def test_the_core_never_imports_a_face_nor_matplotlib_at_module_level():
    modules = module_files()
    core = [name for name in modules if not _is_face(name)]
    assert "digitlab.model" in core and "digitlab.web.app" not in core
    wrong = []
    for name in core:
        for imported, line in imports_of(name, modules):
            if _is_face(imported):
                wrong.append(f"{name} line {line} imports the face {imported}")
        for imported, line in imports_of(name, modules, top_level_only=True):
            if imported.split(".")[0] in LAZY_LIBRARIES:
                wrong.append(f"{name} line {line} imports {imported} at module level")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_names_through_the_package_root():
    """``from digitlab import X`` inside the package goes through the root's
    lazy names; modules import from the module that defines the name."""
    modules = module_files()
    wrong = [
        f"{name} line {line}"
        for name in modules
        for imported, line in imports_of(name, modules)
        if imported == PACKAGE and name != PACKAGE
    ]
    assert not wrong, "import from the defining module instead:\n" + "\n".join(wrong)


@pytest.mark.parametrize("target", ["digitlab", "digitlab.cli"])
def test_importing_the_package_loads_no_heavy_library(target):
    heavy = ("sklearn", "scipy", "matplotlib", "fastapi", "dask", "distributed")
    heavy += ("faiss", "PIL", "anywidget")
    code = (
        f"import sys, {target}\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
        "print(sys.modules['digitlab'].__version__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded, version = out.stdout.splitlines()
    assert loaded == "[]"
    from digitlab._version import __version__

    assert version == __version__


def test_the_readme_layout_has_one_line_per_module():
    """README's "How the code is laid out" lists every module, and only those."""
    readme = (SOURCE.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^- `([^`]+)`", section, flags=re.MULTILINE)
    on_disk = [str(path.relative_to(SOURCE)) for path in sorted(SOURCE.rglob("*.py"))]
    on_disk += [
        f"{path.relative_to(SOURCE)}/"
        for path in sorted(SOURCE.rglob("static"))
        if path.is_dir()
    ]
    missing = sorted(set(on_disk) - set(listed))
    stale = sorted(set(listed) - set(on_disk))
    assert not missing, f"add a line to the README's layout section for {missing}"
    assert not stale, f"the README's layout section names missing files {stale}"
    assert len(listed) == len(set(listed))
