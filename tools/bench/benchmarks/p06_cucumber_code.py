"""P6: cucumber round trip of code by value (lambda, closure, class from ``__main__``) against
cloudpickle and dill. Bar: <= 1.0x cloudpickle.

The functions and the class are compiled with ``__name__ == "__main__"`` (as in a script or a
notebook), so every contender must send them by value.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from tools.bench._core import Result, median_time

_SOURCE = '''
import math

SCALE = 3

def make_closure(offset):
    def shifted(x):
        return math.floor(x * SCALE) + offset
    return shifted

class Account:
    """A small class with methods, a property and a class attribute."""
    currency = "EUR"

    def __init__(self, owner, balance=0.0):
        self.owner = owner
        self.balance = balance

    def deposit(self, amount):
        self.balance += amount
        return self.balance

    @property
    def label(self):
        return f"{self.owner}: {self.balance:.2f} {self.currency}"

square = lambda x: x * x
'''


def _main_namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(_SOURCE, "<__main__>", "exec"), namespace)
    return namespace


def _workloads() -> list[tuple[str, Any, Callable[[Any], bool]]]:
    ns = _main_namespace()
    return [
        ("lambda", ns["square"], lambda f: f(9) == 81),
        ("closure", ns["make_closure"](10), lambda f: f(2.5) == 17),
        ("class from __main__", ns["Account"], lambda c: c("ann", 1.0).deposit(2.0) == 3.0),
    ]


def _round_trips() -> dict[str, Callable[[Any], Any]]:
    import cloudpickle
    import dill

    import cucumber

    highest = pickle.HIGHEST_PROTOCOL
    return {
        "cucumber": lambda o: cucumber.deserialize(cucumber.serialize(o)),
        "cloudpickle": lambda o: pickle.loads(cloudpickle.dumps(o, highest)),
        "dill": lambda o: dill.loads(dill.dumps(o, highest, recurse=True)),
    }


def run(quick: bool) -> list[Result]:
    fns = _round_trips()
    results: list[Result] = []
    repeat = 5 if quick else 25
    per = 20 if quick else 100
    for name, obj, check in _workloads():
        for label, fn in fns.items():
            if not check(fn(obj)):
                raise AssertionError(f"{label} did not round-trip the {name}")
        samples: dict[str, list[float]] = {label: [] for label in fns}
        for _ in range(repeat):  # interleaved so background load hits every contender alike
            for label, fn in fns.items():
                samples[label].append(
                    median_time(
                        lambda fn=fn, obj=obj: [fn(obj) for _ in range(per)],
                        repeat=1,
                        warmup=0,
                        per=per,
                    )
                )
        times = {label: sorted(v)[len(v) // 2] for label, v in samples.items()}
        ours = times.pop("cucumber")
        results.append(
            Result(
                id="P6",
                name=f"cucumber round trip by value: {name}",
                ours=ours,
                peers=times,
                bar="<= 1.0x cloudpickle",
                bar_peer="cloudpickle",
                bar_ratio=1.0,
            )
        )
    return results
