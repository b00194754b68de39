"""The package's structure: no import cycle, each module importable on its own, TensorFlow only where needed."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import udl

PACKAGE = Path(udl.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]))
NEEDS_TENSORFLOW = {"augment", "generative", "pretrained", "text", "training", "viz"}


def udl_imports(module: str) -> set[str]:
    """The udl modules `module` imports anywhere in its source (at the top or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "udl":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("udl."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("udl.")}
    return found & set(MODULES)


def test_the_udl_imports_form_no_cycle():
    graph = {m: udl_imports(m) for m in MODULES}
    done, stack = set(), []

    def visit(module):
        if module in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(module):] + [module]))
        if module not in done:
            stack.append(module)
            for other in sorted(graph[module]):
                visit(other)
            stack.pop()
            done.add(module)

    for module in MODULES:
        visit(module)


def test_the_settings_and_checks_depend_on_no_other_udl_module():
    assert udl_imports("settings") == set() and udl_imports("_checks") == set()


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=PACKAGE.parent)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone_and_tensorflow_only_where_needed(module):
    done = _run(f"import sys, udl.{module}; print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    assert done.returncode == 0, done.stderr[-2000:]
    needed = str(module in NEEDS_TENSORFLOW)
    assert done.stdout.split() == [needed, needed]


def test_the_modules_without_tensorflow_import_in_reverse_order():
    names = [m for m in reversed(MODULES) if m not in NEEDS_TENSORFLOW]
    done = _run("import importlib\n" + "".join(f"importlib.import_module('udl.{m}')\n" for m in names) + "print('ok')")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
