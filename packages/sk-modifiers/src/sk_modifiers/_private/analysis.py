"""``_shared_meta`` of a class: which attributes each method and property reads and writes.

Found from the AST of each method body (through ``self``, the first parameter):

- writes: ``self.x = v``, ``self.x += v``, ``del self.x``, ``self.x[k] = v``, ``self.x.y = v``,
  ``setattr(self, "x", v)``, and calls of a method on ``self.x`` unless the method is known not to
  mutate (``self.items.append(v)`` writes ``items``, ``self.items.count(v)`` only reads it);
- reads: every other use of ``self.x`` (and ``getattr(self, "x")``); a write through a mutation also
  reads the attribute;
- calls to other methods of the class (``self.helper()``) and reads of its properties add their
  reads and writes, transitively.

When the source of a method is unavailable its entry is ``{"reads": ["*"], "writes": ["*"]}``
(``"*"``: any attribute).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from sk_modifiers._private.source import class_node

ANY = "*"

# Methods that never change the object they are called on (for built-in containers and strings).
NON_MUTATING_METHODS = frozenset(
    {
        "copy",
        "count",
        "index",
        "get",
        "keys",
        "values",
        "items",
        "isdisjoint",
        "issubset",
        "issuperset",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "startswith",
        "endswith",
        "find",
        "rfind",
        "format",
        "join",
        "split",
        "rsplit",
        "splitlines",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "replace",
        "encode",
        "decode",
        "hex",
        "to_bytes",
        "bit_length",
        "is_integer",
        "conjugate",
        "total_seconds",
        "isoformat",
        "timestamp",
        "percentile",
        "get_time",
        "get_statistics",
        "get_stats",
        "to_dict",
        "tolist",
        "__len__",
        "__contains__",
        "__getitem__",
        "__iter__",
    }
)

MetaEntry = dict[str, list[str]]
SharedMeta = dict[str, dict[str, MetaEntry]]


@dataclass
class _Access:
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)  # other members of the class used via self


class _BodyVisitor(ast.NodeVisitor):
    """Collects the attributes of ``self`` one function body reads and writes."""

    def __init__(self, self_name: str) -> None:
        self.self_name = self_name
        self.access = _Access()

    # -- helpers
    def _self_attr(self, node: ast.AST) -> str | None:
        """``x`` when ``node`` is ``self.x``."""
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == self.self_name
        ):
            return node.attr
        return None

    def _root_attr(self, node: ast.AST) -> str | None:
        """``x`` when ``node`` is ``self.x``, ``self.x.y``, ``self.x[k]``, ``self.x[k].y`` ..."""
        while True:
            name = self._self_attr(node)
            if name is not None:
                return name
            if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
                node = node.value
            else:
                return None

    def _target(self, node: ast.AST) -> None:
        """Record a store/delete target."""
        if isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self._target(elt)
            return
        if isinstance(node, ast.Starred):
            self._target(node.value)
            return
        name = self._self_attr(node)
        if name is not None:
            self.access.writes.add(name)
            return
        root = self._root_attr(node)
        if root is not None:
            # self.x[k] = v or self.x.y = v: mutates x (and reads it to get there).
            self.access.writes.add(root)
            self.access.reads.add(root)
            # Indexes and other expressions inside the target are ordinary reads.
            inner = node.value if isinstance(node, (ast.Attribute, ast.Subscript)) else node
            self._visit_loads_below_root(inner)
            if isinstance(node, ast.Subscript):
                self.visit(node.slice)
            return
        self.visit(node)

    def _visit_loads_below_root(self, node: ast.AST) -> None:
        # Walk the chain under the target except the root self.x itself.
        while not self._self_attr(node):
            if isinstance(node, ast.Subscript):
                self.visit(node.slice)
                node = node.value
            elif isinstance(node, ast.Attribute):
                node = node.value
            else:
                self.visit(node)
                return

    # -- statements
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._target(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._target(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        root = self._root_attr(node.target)
        if root is not None:
            self.access.reads.add(root)
        self._target(node.target)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._target(target)

    def visit_For(self, node: ast.For) -> None:
        self._target(node.target)
        self.visit(node.iter)
        for stmt in [*node.body, *node.orelse]:
            self.visit(stmt)

    visit_AsyncFor = visit_For  # type: ignore[assignment]

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self._target(node.optional_vars)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._target(node.target)
        self.visit(node.iter)
        for cond in node.ifs:
            self.visit(cond)

    # -- expressions
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        # setattr(self, "x", v) / getattr(self, "x") / delattr(self, "x")
        if (
            isinstance(func, ast.Name)
            and func.id in ("setattr", "getattr", "delattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == self.self_name
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            attr = node.args[1].value
            if func.id in ("setattr", "delattr"):
                self.access.writes.add(attr)
            else:
                self.access.reads.add(attr)
                self.access.calls.add(attr)
            for arg in node.args[2:]:
                self.visit(arg)
            return
        if isinstance(func, ast.Attribute):
            method_of_self = self._self_attr(func)
            if method_of_self is not None:
                # self.helper(...): a call of another member (resolved later) or of a
                # callable stored in an attribute (a read).
                self.access.calls.add(method_of_self)
                self.access.reads.add(method_of_self)
            else:
                root = self._root_attr(func.value)
                if root is not None:
                    self.access.reads.add(root)
                    if func.attr not in NON_MUTATING_METHODS:
                        self.access.writes.add(root)
                    self._visit_loads_below_root(func.value)
                else:
                    self.visit(func)
        else:
            self.visit(func)
        for arg in node.args:
            self.visit(arg)
        for keyword in node.keywords:
            self.visit(keyword.value)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self._self_attr(node)
        if name is not None:
            self.access.reads.add(name)
            self.access.calls.add(name)  # may be a property: resolved later
            return
        self.generic_visit(node)


def _self_param(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    params = [*fn.args.posonlyargs, *fn.args.args]
    return params[0].arg if params else None


def _decorator_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    names = []
    for dec in fn.decorator_list:
        if isinstance(dec, ast.Call):
            dec = dec.func
        if isinstance(dec, ast.Name):
            names.append(dec.id)
        elif isinstance(dec, ast.Attribute):
            names.append(dec.attr)
    return names


def _analyze_function(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> _Access:
    if "staticmethod" in _decorator_names(fn):
        return _Access()
    self_name = _self_param(fn)
    if self_name is None:
        return _Access()
    visitor = _BodyVisitor(self_name)
    for stmt in fn.body:
        visitor.visit(stmt)
    return visitor.access


@dataclass
class _Member:
    kind: str  # "method" or "property"
    direct: _Access
    setter: _Access | None = None
    unknown: bool = False


# Names that ``sk`` itself adds to a class: not members to analyze.
SK_ADDED_NAMES = frozenset({"asynced", "_shared_meta", "_blocking_methods", "has_blocking_calls"})


def _members_of_class(cls: type) -> dict[str, _Member]:
    """Direct accesses of every function and property defined on ``cls`` and its bases."""
    members: dict[str, _Member] = {}
    for klass in reversed(cls.__mro__[:-1]):  # object last: skip it; subclasses override bases
        node = class_node(klass)
        defined: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        if node is not None:
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    defined.setdefault(stmt.name, []).append(stmt)
        for name, value in vars(klass).items():
            if name in SK_ADDED_NAMES:
                continue
            raw = value
            if isinstance(value, property):
                getter_nodes = [
                    n
                    for n in defined.get(name, [])
                    if "setter" not in _decorator_names(n) and "deleter" not in _decorator_names(n)
                ]
                setter_nodes = [
                    n
                    for n in defined.get(name, [])
                    if {"setter", "deleter"} & set(_decorator_names(n))
                ]
                if value.fget is not None and not getter_nodes:
                    members[name] = _Member("property", _Access(), None, unknown=True)
                    continue
                getter = _Access()
                for n in getter_nodes:
                    _merge(getter, _analyze_function(n))
                setter = None
                if setter_nodes:
                    setter = _Access()
                    for n in setter_nodes:
                        _merge(setter, _analyze_function(n))
                elif value.fset is not None or value.fdel is not None:
                    members[name] = _Member("property", getter, None, unknown=True)
                    continue
                members[name] = _Member("property", getter, setter)
                continue
            if isinstance(raw, (staticmethod, classmethod)):
                raw = raw.__func__
            if not callable(raw) or isinstance(raw, type):
                continue
            nodes = defined.get(name)
            if not nodes:
                members[name] = _Member("method", _Access(), None, unknown=True)
                continue
            members[name] = _Member("method", _analyze_function(nodes[-1]))
    return members


def _merge(into: _Access, other: _Access) -> None:
    into.reads |= other.reads
    into.writes |= other.writes
    into.calls |= other.calls


def _closure(members: dict[str, _Member]) -> dict[str, tuple[set[str], set[str]]]:
    """Reads and writes of every member, following calls to other members (fixpoint)."""
    result: dict[str, tuple[set[str], set[str]]] = {}
    for name, member in members.items():
        if member.unknown:
            result[name] = ({ANY}, {ANY})
        else:
            reads = {r for r in member.direct.reads if r not in members}
            writes = {w for w in member.direct.writes if w not in members}
            result[name] = (reads, writes)
    changed = True
    while changed:
        changed = False
        for name, member in members.items():
            if member.unknown:
                continue
            reads, writes = result[name]
            for called in member.direct.calls:
                if called not in members or called == name:
                    continue
                # A property read runs its getter, a method call its body: both count.
                other_reads, other_writes = result[called]
                before = (len(reads), len(writes))
                reads |= other_reads
                writes |= other_writes
                if (len(reads), len(writes)) != before:
                    changed = True
    return result


def _entry(reads: set[str], writes: set[str]) -> MetaEntry:
    if ANY in reads or ANY in writes:
        return {"reads": [ANY], "writes": [ANY] if ANY in writes else sorted(writes)}
    return {"reads": sorted(reads), "writes": sorted(writes)}


def member_calls(cls: type) -> dict[str, set[str]]:
    """For every member of ``cls``: the other members it uses through ``self`` (direct)."""
    members = _members_of_class(cls)
    return {
        name: {c for c in m.direct.calls if c in members and c != name}
        for name, m in members.items()
    }


def shared_meta_for(cls: type) -> SharedMeta:
    """Build ``_shared_meta`` for ``cls`` (see the module docstring for the rules)."""
    members = _members_of_class(cls)
    closed = _closure(members)
    methods: dict[str, MetaEntry] = {}
    properties: dict[str, MetaEntry] = {}
    for name, member in members.items():
        reads, writes = closed[name]
        if member.kind == "property":
            setter_writes: set[str] = set()
            if member.unknown:
                setter_writes = {ANY}
            elif member.setter is not None:
                setter_writes = {w for w in member.setter.writes if w not in members}
                for called in member.setter.calls:
                    if called in closed and called != name:
                        setter_writes |= closed[called][1]
            properties[name] = _entry(reads, set(writes) | setter_writes)
        else:
            methods[name] = _entry(reads, writes)
    return {"methods": methods, "properties": properties}


def describe(meta: SharedMeta) -> Any:
    """A stable, sorted copy of ``meta`` (for printing and comparing)."""
    return {
        section: {name: dict(entry) for name, entry in sorted(entries.items())}
        for section, entries in sorted(meta.items())
    }


def _adds_members(cls: type, upto: type) -> bool:
    """Whether a class between ``cls`` and ``upto`` (excluded) defines functions or properties."""
    for klass in cls.__mro__:
        if klass is upto:
            return False
        for name, value in vars(klass).items():
            if name in SK_ADDED_NAMES:
                continue
            if isinstance(value, (property, staticmethod, classmethod)) or callable(value):
                return True
    return False


def shared_meta(cls: type) -> SharedMeta:
    """The ``_shared_meta`` of ``cls``: the declared one, else generated (``cls`` is not changed).

    A declaration on ``cls`` or on a base (when the subclasses add no methods) is used as is;
    otherwise the metadata is generated from the source. Use it when only the metadata is needed
    (e.g. ``Share`` holding a plain user object); ``@sk`` also gives the methods their modifiers.
    """
    if not isinstance(cls, type):
        raise TypeError(f"shared_meta() needs a class, got {type(cls).__name__}")
    for klass in cls.__mro__:
        declared = klass.__dict__.get("_shared_meta")
        if isinstance(declared, dict):
            if klass is cls or not _adds_members(cls, klass):
                return declared
            break
    return shared_meta_for(cls)
