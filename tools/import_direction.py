"""Check that the package's imports point one way (docs/architecture.md, "Layers").

Every import of a module of ``jupyter_session_monitor`` by another one is read from the source
(``ast``: imports inside functions and under ``TYPE_CHECKING`` count too, since a dependency in
design is one even when it is not one at import time) and checked against ``MAY_IMPORT``. Also
checked: nothing outside the engine's facade and the server names ``SessionMonitor`` (a
collaborator gets the narrow interface it needs, never the whole monitor).

    python tools/import_direction.py            # exit 1 and one line per violation
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "jupyter_session_monitor"

#: The package's layers (first part of a module's name below the package; the package's own
#: ``__init__`` is ``""``) and the layers each may import, besides itself.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "_version": frozenset(),
    "protocol": frozenset(),
    "metrics": frozenset(),
    "domain": frozenset({"protocol"}),
    "service": frozenset({"domain", "protocol", "metrics", "_version"}),
    "registry": frozenset({"domain", "protocol"}),
    "engine": frozenset({"service", "registry", "domain", "protocol", "metrics"}),
    "policies": frozenset({"engine", "service", "registry", "domain", "protocol", "metrics"}),
    "server": frozenset(
        {"policies", "engine", "service", "registry", "domain", "protocol", "metrics", "_version"}
    ),
    "kernel": frozenset({"protocol", "_version"}),
    "emulator": frozenset({"protocol"}),
    # The entry points: they name the server's app and the kernel's extension, lazily.
    "": frozenset({"_version", "server", "kernel"}),
}

#: The monitor (``policies/monitor.py``): only the server may name it; what it builds gets
#: narrow interfaces.
FACADE = "SessionMonitor"
FACADE_USERS = frozenset({"server"})


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name, or None if it is not one of the package's."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    return parts[1] if len(parts) > 1 else ""


def imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str, list[str]]]:
    """(line, imported module, names imported from it) of every import in a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            if node.level:
                base = module.split(".")
                if not is_package:
                    base.pop()
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target, names


def _exists(root: Path, module: str) -> bool:
    path = root.joinpath(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def check(root: Path) -> list[Violation]:
    """Every violation in the package whose folder's parent is ``root``."""
    found: list[Violation] = []
    for path in sorted((root / PACKAGE).rglob("*.py")):
        module = module_name(root, path)
        own = layer_of(module)
        assert own is not None
        allowed = MAY_IMPORT.get(own)
        where = str(path.relative_to(root))
        if allowed is None:
            found.append(Violation(where, 1, f"'{own}' is not a layer: add it to MAY_IMPORT"))
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=where)
        for line, target, names in imports(tree, module, path.name == "__init__.py"):
            if layer_of(target) is None:
                continue
            # ``from package import module``: the module is what is imported, not the package.
            modules = [f"{target}.{name}" for name in names if _exists(root, f"{target}.{name}")]
            depends = modules if modules and len(modules) == len(names) else [target, *modules]
            for dependency in depends:
                layer = layer_of(dependency)
                if layer is not None and layer != own and layer not in allowed:
                    found.append(
                        Violation(where, line, f"{own} may not import {layer} ({dependency})")
                    )
            if FACADE in names and own not in FACADE_USERS:
                found.append(
                    Violation(
                        where,
                        line,
                        f"{own} names {FACADE}: take the narrow interface it needs instead",
                    )
                )
    return found


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    found = check(root)
    for violation in found:
        print(violation)
    if found:
        print(f"{len(found)} import(s) against the layers of docs/architecture.md")
        return 1
    print("imports point one way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
