"""sk on classes: modifiers on every method, _shared_meta, _blocking_methods, C.asynced()."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time
from typing import Any

import pytest
from sk_modifiers_test_helpers import Account, Derived, PlainBase

from sk_modifiers import BoundModifiable, SkModifierError, blocking, shared_meta, sk


def _entry(cls: Any, section: str, name: str) -> tuple[list[str], list[str]]:
    entry = cls._shared_meta[section][name]
    return entry["reads"], entry["writes"]


def test_every_method_gains_the_modifiers_and_direct_calls_are_unchanged() -> None:
    account = Account(10)
    assert account.deposit(5) == 15
    assert isinstance(account.deposit, BoundModifiable)
    assert account.deposit.retry(2, delay=0.0)(5) == 20
    assert account.deposit.timeout(10.0)(5) == 25
    assert account.deposit.background()(5).result(timeout=30) == 30
    assert account.balance == 30
    assert account.last == 5
    assert Account.deposit.__doc__ is None
    assert Account.__name__ == "Account"


def test_shared_meta_shape() -> None:
    meta = Account._shared_meta  # type: ignore[attr-defined]
    assert set(meta) == {"methods", "properties"}
    for section in meta.values():
        for entry in section.values():
            assert set(entry) == {"reads", "writes"}
            assert entry["reads"] == sorted(entry["reads"])
            assert entry["writes"] == sorted(entry["writes"])
    assert set(meta["methods"]) == {"__init__", "deposit", "_log", "save", "slow_total"}
    assert set(meta["properties"]) == {"last"}


def test_shared_meta_follows_assignments_augmented_assignments_and_mutations() -> None:
    assert _entry(Account, "methods", "__init__") == ([], ["balance", "history"])
    assert _entry(Account, "methods", "_log") == (["history"], ["history"])
    # deposit: balance += (read+write), and calls _log (history.append) transitively
    assert _entry(Account, "methods", "deposit") == (["balance", "history"], ["balance", "history"])
    assert _entry(Account, "methods", "save") == (["balance"], [])
    assert _entry(Account, "properties", "last") == (["history"], [])


def test_shared_meta_nested_mutation_and_subscripts() -> None:
    @sk
    class Store:
        def __init__(self) -> None:
            self.data: dict[str, Any] = {}
            self.config = {"limits": {}}
            self.size = 0
            self.key = "k"

        def put(self, value: Any) -> None:
            self.data[self.key] = value

        def nested(self) -> None:
            self.config["limits"]["max"] = self.size

        def count_items(self) -> int:
            return self.data.get(self.key, 0) + list(self.data.keys()).count(1)

        def drop(self) -> None:
            del self.data[self.key]

        def attr_chain(self) -> None:
            self.config.owner = "me"  # type: ignore[attr-defined]

        def unpack(self) -> None:
            self.size, self.key = 1, "x"

        def dynamic(self) -> Any:
            setattr(self, "size", 3)  # noqa: B010
            return getattr(self, "key")  # noqa: B009

        def counter(self) -> None:
            self.data["n"] += 1

    assert _entry(Store, "methods", "put") == (["data", "key"], ["data"])
    assert _entry(Store, "methods", "nested") == (["config", "size"], ["config"])
    assert _entry(Store, "methods", "count_items") == (["data", "key"], [])
    assert _entry(Store, "methods", "drop") == (["data", "key"], ["data"])
    assert _entry(Store, "methods", "attr_chain") == (["config"], ["config"])
    assert _entry(Store, "methods", "unpack") == ([], ["key", "size"])
    assert _entry(Store, "methods", "dynamic") == (["key"], ["size"])
    assert _entry(Store, "methods", "counter") == (["data"], ["data"])


def test_shared_meta_method_calls_are_transitive_and_recursion_is_fine() -> None:
    @sk
    class Chain:
        def __init__(self) -> None:
            self.a = 0
            self.b = 0
            self.c: list[int] = []

        def top(self) -> None:
            self.middle()

        def middle(self) -> None:
            self.a += 1
            self.bottom()

        def bottom(self) -> None:
            self.c.append(self.b)

        def recursive(self, n: int) -> None:
            if n:
                self.recursive(n - 1)
                self.ping()

        def ping(self) -> None:
            self.pong()
            self.b = 1

        def pong(self) -> None:
            if self.a:
                self.ping()

        @property
        def total(self) -> int:
            return self.a + self.helper_value()

        def helper_value(self) -> int:
            return len(self.c)

        def uses_property(self) -> int:
            return self.total

    assert _entry(Chain, "methods", "top") == (["a", "b", "c"], ["a", "c"])
    assert _entry(Chain, "methods", "middle") == (["a", "b", "c"], ["a", "c"])
    assert _entry(Chain, "methods", "ping") == (["a"], ["b"])
    assert _entry(Chain, "methods", "pong") == (["a"], ["b"])
    assert _entry(Chain, "methods", "recursive") == (["a"], ["b"])
    assert _entry(Chain, "properties", "total") == (["a", "c"], [])
    assert _entry(Chain, "methods", "uses_property") == (["a", "c"], [])


def test_shared_meta_properties_with_setters() -> None:
    @sk
    class Temperature:
        def __init__(self) -> None:
            self._celsius = 0.0
            self.changes = 0

        @property
        def celsius(self) -> float:
            return self._celsius

        @celsius.setter
        def celsius(self, value: float) -> None:
            self._celsius = value
            self.changes += 1

        @property
        def fahrenheit(self) -> float:
            return self.celsius * 9 / 5 + 32

    assert _entry(Temperature, "properties", "celsius") == (["_celsius"], ["_celsius", "changes"])
    assert _entry(Temperature, "properties", "fahrenheit") == (["_celsius"], [])
    temp = Temperature()
    temp.celsius = 100.0
    assert temp.fahrenheit == 212.0


def test_shared_meta_includes_inherited_methods() -> None:
    class Base:
        def __init__(self) -> None:
            self.items: list[int] = []

        def add(self, x: int) -> None:
            self.items.append(x)

    @sk
    class Child(Base):
        def total(self) -> int:
            return sum(self.items)

        def add_twice(self, x: int) -> None:
            self.add(x)
            self.add(x)

    assert _entry(Child, "methods", "add") == (["items"], ["items"])
    assert _entry(Child, "methods", "add_twice") == (["items"], ["items"])
    child = Child()
    child.add.retry(2, delay=0.0)(1)
    assert child.total() == 1
    # the base and its function are left as they were
    assert "add" not in vars(Base) or not hasattr(Base.add, "timeout")
    assert not hasattr(Base.__dict__["add"], "timeout")


def test_inherited_methods_pickle_with_their_object() -> None:
    derived = Derived()
    chain = pickle.loads(pickle.dumps(derived.push.timeout(5.0)))
    chain(1)
    bound = pickle.loads(pickle.dumps(derived.push))
    bound(2)
    assert not hasattr(PlainBase.push, "timeout")
    assert Derived._shared_meta["methods"]["push"] == {"reads": ["pushed"], "writes": ["pushed"]}  # type: ignore[attr-defined]


def test_methods_without_source_are_marked_as_any_attribute() -> None:
    namespace: dict[str, Any] = {}
    exec("def mystery(self):\n    self.x = 1\n", namespace)

    @sk
    class Dynamic:
        mystery = namespace["mystery"]

        def known(self) -> int:
            self.mystery()
            return 1

    assert _entry(Dynamic, "methods", "mystery") == (["*"], ["*"])
    assert _entry(Dynamic, "methods", "known") == (["*"], ["*"])


def test_static_methods_read_and_write_nothing() -> None:
    @sk
    class Util:
        @staticmethod
        def double(x: int) -> int:
            return 2 * x

    assert _entry(Util, "methods", "double") == ([], [])
    assert Util.double(2) == 4
    assert Util.double.retry(2, delay=0.0)(3) == 6  # type: ignore[attr-defined]


# ------------------------------------------------------------------ blocking / asynced


def test_blocking_methods_are_listed() -> None:
    assert Account._blocking_methods == {  # type: ignore[attr-defined]
        "save": ["open", "fh.write"],
        "slow_total": ["time.sleep"],
    }
    assert Account.has_blocking_calls  # type: ignore[attr-defined]
    assert Account.save.has_blocking_calls
    assert Account.save.blocking_calls == ["open", "fh.write"]
    assert not Account.deposit.has_blocking_calls


def test_blocking_marker_and_transitive_blocking() -> None:
    @sk
    class Model:
        @blocking
        def train(self) -> int:
            return sum(range(100))

        def fit(self) -> int:
            return self.train()

        def name(self) -> str:
            return "m"

    assert Model._blocking_methods == {"train": ["@blocking"], "fit": ["self.train"]}  # type: ignore[attr-defined]
    assert asyncio.run(Model().fit.asynced()()) == 4950
    with pytest.raises(SkModifierError, match="blocking"):
        Model().name.asynced()


@pytest.mark.timeout(60)
def test_class_asynced_makes_blocking_methods_coroutines() -> None:
    AsyncAccount = Account.asynced()  # type: ignore[attr-defined]
    assert issubclass(AsyncAccount, Account)
    assert AsyncAccount is Account.asynced()  # type: ignore[attr-defined]
    assert asyncio.iscoroutinefunction(AsyncAccount.slow_total)
    assert asyncio.iscoroutinefunction(AsyncAccount.save)
    assert not asyncio.iscoroutinefunction(AsyncAccount.deposit)

    async def main() -> int:
        account = AsyncAccount(4)
        account.deposit(1)  # non-blocking methods stay synchronous
        loop_thread = threading.get_ident()
        assert loop_thread == threading.get_ident()
        return await account.slow_total()  # type: ignore[no-any-return]

    assert asyncio.run(main()) == 5


def test_class_asynced_without_blocking_methods_is_invalid() -> None:
    @sk
    class Pure:
        def f(self) -> int:
            return 1

    assert Pure._blocking_methods == {}  # type: ignore[attr-defined]
    assert not Pure.has_blocking_calls  # type: ignore[attr-defined]
    with pytest.raises(SkModifierError, match="@blocking"):
        Pure.asynced()  # type: ignore[attr-defined]


def test_instances_of_the_async_class_pickle() -> None:
    account = Account.asynced()(3)  # type: ignore[attr-defined]
    account.deposit(2)
    clone = pickle.loads(pickle.dumps(account))
    assert type(clone) is type(account)
    assert clone.balance == 5
    assert clone.history == [2]


def test_sk_class_instances_pickle_and_keep_modifiers() -> None:
    account = Account(1)
    clone = pickle.loads(pickle.dumps(account))
    assert clone.deposit.retry(2, delay=0.0)(1) == 2
    chain = pickle.loads(pickle.dumps(account.deposit.timeout(10.0)))
    assert chain(5) == 6


@pytest.mark.timeout(60)
def test_method_timeout_on_a_blocking_method() -> None:
    gate = threading.Event()

    @sk
    class Waiter:
        def wait(self) -> str:
            gate.wait(30)
            time.sleep(0)
            return "done"

    try:
        with pytest.raises(TimeoutError):
            Waiter().wait.timeout(0.1)()
    finally:
        gate.set()


def test_shared_meta_function_does_not_change_the_class() -> None:
    class Plain:
        def __init__(self) -> None:
            self.x = 0

        def bump(self) -> None:
            self.x += 1

    before = dict(vars(Plain))
    meta = shared_meta(Plain)
    assert meta["methods"]["bump"] == {"reads": ["x"], "writes": ["x"]}
    assert dict(vars(Plain)) == before
    assert not hasattr(Plain, "_shared_meta")


def test_shared_meta_function_uses_declarations() -> None:
    declared = {"methods": {"go": {"reads": ["a"], "writes": []}}, "properties": {}}

    class Declared:
        _shared_meta = declared

        def go(self) -> None:
            self.b = 1

    class Sub(Declared):
        pass

    class Extended(Declared):
        def more(self) -> None:
            self.c = 2

    assert shared_meta(Declared) is declared
    assert shared_meta(Sub) is declared
    generated = shared_meta(Extended)
    assert generated["methods"]["more"] == {"reads": [], "writes": ["c"]}
    assert generated["methods"]["go"] == {"reads": [], "writes": ["b"]}
    assert shared_meta(Account) is Account._shared_meta  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        shared_meta(Account())  # type: ignore[arg-type]


def test_generated_writes_cover_what_each_method_really_changes(tmp_path: Any) -> None:
    """Run every method of Account and check that the attributes it changed are declared written."""

    def state(account: Account) -> dict[str, str]:
        return {k: repr(v) for k, v in vars(account).items()}

    calls = {
        "deposit": lambda a: a.deposit(5),
        "_log": lambda a: a._log(1),
        "save": lambda a: a.save(str(tmp_path / "balance.txt")),
        "slow_total": lambda a: a.slow_total(),
    }
    for name, call in calls.items():
        account = Account(10)
        account.deposit(1)
        before = state(account)
        call(account)
        after = state(account)
        changed = {k for k in after if after.get(k) != before.get(k)}
        declared = set(Account._shared_meta["methods"][name]["writes"])  # type: ignore[attr-defined]
        assert changed <= declared, (name, changed, declared)
