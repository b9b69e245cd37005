"""The shape of the code a maintainer can change: no import cycle inside ``upsample1d``, no
function over 60 lines of code (docstrings excluded), and ``import upsample1d`` (or its
command line) imports no framework."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "upsample1d"
MAX_LINES = 60


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _imports(name, path):
    """Every upsample1d module ``name`` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("upsample1d"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if base.startswith("upsample1d"):
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
    return found


def test_no_import_cycle_inside_the_package():
    modules = dict(_modules())
    graph = {name: {m for m in _imports(name, path) if m in modules and m != name}
             for name, path in modules.items()}
    # A module's package __init__ runs first; the lazy top-level package imports nothing.
    state, stack = {}, []

    def visit(name):
        state[name] = "open"
        stack.append(name)
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                cycle = stack[stack.index(other):] + [other]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if other not in state:
                visit(other)
        stack.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)


def _code_lines(node):
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        docstring = body[0].end_lineno - body[0].lineno + 1
    else:
        docstring = 0
    return node.end_lineno - node.lineno + 1 - docstring


def test_no_function_over_60_lines_of_code():
    long = []
    for name, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = _code_lines(node)
                if lines > MAX_LINES:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert not long, long


def test_importing_the_package_and_its_command_line_imports_no_framework():
    code = ("import sys, upsample1d, upsample1d.cli, upsample1d._validation; "
            "upsample1d.cli.build_parser(); "
            "print(sorted(m for m in ('keras', 'jax', 'tensorflow', 'torch') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=60, check=True).stdout
    assert out.strip() == "[]", out


def _ops_modules():
    return {name: path for name, path in _modules() if name.startswith("upsample1d.ops.")}


def test_no_module_of_ops_imports_another_ones_private_names():
    """The fronts (interpolate, downsample, alias_free) reach each other only through the
    engine (ops._polyphase) and the shuffle's unchecked primitives, never by underscore
    names."""
    found = []
    for name, path in _ops_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "upsample1d.ops") and node.module != name:
                found += [f"{name}: {node.module}.{a.name}" for a in node.names
                          if a.name.startswith("_")]
    assert not found, found


def test_the_ops_validate_through_the_validators_only():
    """Argument checks live in upsample1d/_validation.py: the fronts and the engine raise
    nothing themselves, and the floating-point check exists once."""
    raising = []
    for name, path in _ops_modules().items():
        if name == "upsample1d.ops.shuffle":  # its shape errors are the static checks
            continue
        raising += [f"{name}:{node.lineno}" for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.Raise)]
    assert not raising, raising
    saying = [name for name, path in _modules()
              if "needs a floating-point input" in path.read_text()]
    assert saying == ["upsample1d._validation"], saying


def test_every_cache_is_a_bounded_cache():
    """Module-level caches are upsample1d._cache.Cache (one eviction rule), never a bare dict
    filled at run time."""
    bare = []
    for name, path in _modules():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                value = node.value
                empty_dict = (isinstance(value, ast.Dict) and not value.keys) or (
                    isinstance(value, ast.Call) and getattr(value.func, "id", "") == "dict"
                    and not value.args and not value.keywords)
                if empty_dict:
                    bare.append(f"{name}:{node.lineno}")
    assert not bare, bare


def test_keras_internals_are_read_in_the_backend_module_only():
    """``keras.src`` (Keras' private modules) is imported in upsample1d/_backend.py only,
    where each use says why."""
    readers = []
    for name, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            if any(m.startswith("keras.src") for m in modules):
                readers.append(name)
        if "import_module(f\"keras.src" in path.read_text():
            readers.append(name)
    assert sorted(set(readers)) == ["upsample1d._backend"], readers
