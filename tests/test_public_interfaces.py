"""colab-local runs on the public interfaces of jupyter_server, tornado and the standard
library: an access to another package's underscore name is a failure here, unless the
allow-list below names it with its reason (and CONTRIBUTING.md lists it).

Static, over the source of ``colab_local/``: an underscore attribute counts as
colab-local's own when colab-local defines it (a function, class, or assignment of that
name; on ``self``, in the same class); any other is another package's private interface.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "colab_local"

#: (module path under colab_local/, private name) -> why it is used, and where it is kept.
ALLOWED: dict[tuple[str, str], str] = {
    ("http_over_ws/output.py", "_total_write_index"): (
        "tornado's IOStream keeps the bytes not yet taken by the socket privately; "
        "a tunnelled answer's back-pressure needs partial progress of one large frame"
    ),
    ("http_over_ws/output.py", "_total_write_done_index"): "as _total_write_index",
    ("http_over_ws/output.py", "_write_futures"): "as _total_write_index: the oldest write",
    ("http_over_ws/handlers.py", "_write_error"): (
        "jupyter_http_over_ws's own error answer, the wire format its page expects, "
        "from the upstream handler colab-local subclasses (pinned to 0.0.8)"
    ),
    ("http_over_ws/handlers.py", "_PATH_PREFIX"): (
        "jupyter_http_over_ws's proxied_ws route prefix, from the pinned 0.0.8"
    ),
    ("diagnostics/handler.py", "_redirect_to_login"): (
        "JupyterHandler.prepare's keyword: how jupyter_server's own APIHandler answers a "
        "script 403 instead of a login redirect; no public switch"
    ),
    ("workarounds/gateway_kernels.py", "_kernels"): (
        "GatewayMappingKernelManager's kernel table, cleared so sessions re-attach after "
        "a restart (workarounds/gateway_kernels.py names the upstream defect)"
    ),
    ("cli/service_units.py", "_Environ"): "os.environ's type, in an annotation only",
    ("server_config/server_token.py", "_Environ"): "os.environ's type, in an annotation only",
}


def _defined_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return names


def _class_names(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> set[str]:
    """What a class of colab-local and its colab-local bases define: methods, class
    attributes, ``self.X =``."""
    names = _defined_names(cls)
    for base in cls.bases:
        name = base.id if isinstance(base, ast.Name) else None
        if name in classes and classes[name] is not cls:
            names |= _class_names(classes[name], classes)
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _innermost_class(tree: ast.AST) -> dict[ast.AST, ast.ClassDef]:
    enclosing: dict[ast.AST, ast.ClassDef] = {}
    for cls in [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]:
        for node in ast.walk(cls):  # outer classes first: an inner one overwrites
            enclosing[node] = cls
    return enclosing


def _foreign_import(node: ast.ImportFrom) -> list[str]:
    module = node.module or ""
    if module.split(".")[0] in ("colab_local", "google", "__future__"):
        return []
    found = [alias.name for alias in node.names if _private(alias.name)]
    if any(_private(part) for part in module.split(".")):
        found.append(module)
    return found


def _private_names_used(
    tree: ast.AST, own: set[str], classes: dict[str, ast.ClassDef]
) -> Iterator[tuple[str, int]]:
    enclosing = _innermost_class(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            on_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            cls = enclosing.get(node)
            defined = _class_names(cls, classes) if on_self and cls is not None else own
            if node.attr not in defined:
                yield node.attr, node.lineno
        elif isinstance(node, ast.keyword) and node.arg and _private(node.arg):
            yield node.arg, node.value.lineno
        elif isinstance(node, ast.ImportFrom):
            for name in _foreign_import(node):
                yield name, node.lineno


def private_uses() -> dict[tuple[str, str], list[int]]:
    """(module under colab_local/, another package's private name): the lines using it."""
    trees = {path: ast.parse(path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))}
    own = set().union(*(_defined_names(tree) for tree in trees.values()))
    classes = {
        node.name: node
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    found: dict[tuple[str, str], list[int]] = {}
    for path, tree in trees.items():
        for name, line in _private_names_used(tree, own, classes):
            found.setdefault((path.relative_to(PACKAGE).as_posix(), name), []).append(line)
    return found


def test_no_private_interface_of_another_package_but_the_listed_ones():
    unexpected = {use: lines for use, lines in private_uses().items() if use not in ALLOWED}
    assert unexpected == {}, "another package's private name; use a public one, or list it"


def test_every_allowed_private_use_is_still_there_and_in_contributing():
    found = private_uses()
    contributing = (PACKAGE.parent / "CONTRIBUTING.md").read_text()
    assert [use for use in ALLOWED if use not in found] == []
    assert [name for _, name in ALLOWED if name not in contributing] == []


def test_the_scan_finds_a_private_use(tmp_path, monkeypatch):
    package = tmp_path / "colab_local"
    package.mkdir()
    (package / "reader.py").write_text(
        "from tornado.iostream import _ERRNO_WOULDBLOCK\n"
        "class Own:\n    def __init__(self):\n        self._mine = 1\n"
        "    def read(self, stream):\n"
        "        return self._mine, stream._read_buffer, self._handler(_flag=True)\n"
    )
    monkeypatch.setattr(f"{__name__}.PACKAGE", package)
    assert set(private_uses()) == {
        ("reader.py", "_ERRNO_WOULDBLOCK"),
        ("reader.py", "_read_buffer"),
        ("reader.py", "_handler"),
        ("reader.py", "_flag"),
    }
