"""The environment variables app/config.py reads, itself or through its embedded defaults (app/config_defaults.py),
found in their source (tests of the config and of its docs)."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
CONFIG = (APP / "config.py", APP / "config_defaults.py")
_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


@cache
def settings_read_by_config() -> frozenset[str]:
    """First arguments of `os.environ.get(...)`, `os.environ[...]` and of the modules' functions that read
    os.environ themselves (`secret("SECRET_KEY", ...)`, `_list(...)`), when they are setting names."""
    trees = [ast.parse(path.read_text()) for path in CONFIG]
    readers = {
        node.name
        for tree in trees
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and "environ" in ast.unparse(node) and node.args.args
    }
    names: set[str] = set()
    for node in (node for tree in trees for node in ast.walk(tree)):
        argument = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            reads_environ = isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value)
            if reads_environ or (isinstance(func, ast.Name) and func.id in readers):
                argument = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            argument = node.slice
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and _NAME.match(argument.value):
            names.add(argument.value)
    return frozenset(names)


def _is_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"
