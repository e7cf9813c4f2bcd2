"""The packages of src/phaze import only downwards (docs/architecture.md), and no two modules
import each other at load time. Read from the source, so a new arrow fails here first."""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
# A package may import packages of a lower rank, never of its own rank or above (but itself).
RANK = {
    "errors": 0, "registry": 1, "user_cache": 1, "sides": 2, "io": 3,
    "config": 4, "layers": 4, "faces": 4,
    "model": 5, "formats": 5,
    "storage": 6,
    "data": 7, "extract": 7,
    "masks": 8, "facesets": 8, "inference": 8, "export": 8, "importers": 8,
    "score": 9, "convert": 9,
    "train": 10,
    "ui": 11,
    "cli": 12, "__main__": 13,
}


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path, path: Path, top_level_only: bool) -> set[str]:
    """The phaze modules (or packages) the file imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = module_name(root, path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + [node.module or ""])
            for alias in node.names:
                name = f"{base.rstrip('.')}.{alias.name}"
                found.add(name if is_module(root, name) else base.rstrip("."))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "phaze" or name.startswith("phaze.")}


def is_module(root: Path, name: str) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def backward_arrows(root: Path) -> list[str]:
    wrong = []
    for path in sorted((root / "phaze").rglob("*.py")):
        source = package_of(module_name(root, path))
        for target in sorted(map(package_of, imports(root, path, top_level_only=False))):
            if source and target and target != source and RANK[target] >= RANK[source]:
                wrong.append(f"{path.relative_to(root)} imports phaze.{target}")
    return wrong


def import_cycle(root: Path) -> list[str] | None:
    """One cycle of load-time imports between modules, or None."""
    graph = {module_name(root, path): {name for name in imports(root, path, True)
                                       if is_module(root, name)}
             for path in (root / "phaze").rglob("*.py")}
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> list[str] | None:
        for target in sorted(graph.get(module, ())):
            if target in trail:
                return trail[trail.index(target):] + [target]
            if target not in done:
                if (cycle := visit(target, trail + [target])) is not None:
                    return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done and (cycle := visit(module, [module])) is not None:
            return cycle
    return None


def test_every_package_has_a_rank():
    packages = {package_of(module_name(SRC, path)) for path in (SRC / "phaze").rglob("*.py")}
    assert packages - {""} == set(RANK), "rank new packages here and in docs/architecture.md"


def test_packages_import_only_downwards():
    assert backward_arrows(SRC) == []


def test_no_import_cycles_between_modules():
    assert import_cycle(SRC) is None


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_backward_arrow_and_a_cycle_are_found(tmp_path):
    root = _tree(tmp_path, {
        "phaze/__init__.py": "", "phaze/model/__init__.py": "", "phaze/train/__init__.py": "",
        "phaze/train/losses.py": "",
        # lazily, inside a function: still an arrow from the model to training
        "phaze/model/memory.py": "def f():\n    from phaze.train.losses import FaceLoss\n",
        "phaze/model/a.py": "from . import b\n", "phaze/model/b.py": "import phaze.model.a\n"})
    assert backward_arrows(root) == ["phaze/model/memory.py imports phaze.train"]
    assert import_cycle(root) == ["phaze.model.a", "phaze.model.b", "phaze.model.a"]
