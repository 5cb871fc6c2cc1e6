"""Skprocess tell()/listen(): both directions, order kept, nothing lost before the other side finished."""

from __future__ import annotations

from typing import Any

import pytest

from suitkaise_processing import Skprocess


class Echo(Skprocess):
    """Answers every told number with number + 1 until it hears None."""

    def __init__(self) -> None:
        self.process_config.runs = None
        self.handled = 0

    def __run__(self) -> None:
        item = self.listen(timeout=30)
        if item is None:
            self.stop_now = True
            return
        self.tell(item + 1)
        self.handled += 1

    def __postrun__(self) -> None:
        if getattr(self, "stop_now", False):
            self.process_config.runs = self.current_run + 1

    def __result__(self) -> int:
        return self.handled


@pytest.mark.timeout(60)
def test_parent_and_child_exchange_in_order() -> None:
    process = Echo()
    process.start()
    for i in range(200):
        process.tell(i)
    answers = [process.listen(timeout=30) for _ in range(200)]
    assert answers == [i + 1 for i in range(200)]
    process.tell(None)
    assert process.result() == 200


class Chatty(Skprocess):
    """Tells many messages, the last ones from __onfinish__, then ends at once."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.process_config.runs = 1

    def __run__(self) -> None:
        for i in range(self.n):
            self.tell({"i": i, "payload": "x" * (i % 7)})

    def __onfinish__(self) -> None:
        self.tell("last words")


@pytest.mark.timeout(60)
def test_nothing_sent_before_the_child_finished_is_lost() -> None:
    process = Chatty(500)
    process.start()
    process.wait()
    got = [process.listen(timeout=5) for _ in range(501)]
    assert [g["i"] for g in got[:500]] == list(range(500))
    assert got[500] == "last words"
    # nothing more will come: listen returns None at once instead of hanging
    assert process.listen() is None
    assert process.listen(timeout=0.1) is None


class Commands(Skprocess):
    """The how-to's __prerun__ command example: listen(timeout=1.0) and handle what comes."""

    def __init__(self) -> None:
        self.process_config.runs = 3
        self.config_value = 0
        self.handled: list[Any] = []

    def handle_command(self, command: dict[str, Any]) -> None:
        if command["command"] == "update_config":
            self.config_value = command["value"]
        self.handled.append(command["command"])

    def __prerun__(self) -> None:
        command = self.listen(timeout=1.0)
        if command:
            self.handle_command(command)

    def __run__(self) -> None:
        pass

    def __postrun__(self) -> None:
        self.tell({"status": "batch_complete", "count": len(self.handled)})

    def __result__(self) -> int:
        return self.config_value


@pytest.mark.timeout(60)
def test_howto_tell_listen_examples() -> None:
    process = Commands()
    process.tell(
        {"command": "update_config", "value": 100}
    )  # told before start: delivered at start
    process.start()
    statuses = [process.listen(timeout=30) for _ in range(3)]
    assert statuses[0] == {"status": "batch_complete", "count": 1}
    assert all(s["status"] == "batch_complete" for s in statuses)
    assert process.result() == 100


class Silent(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1
        self.heard: Any = "unset"

    def __run__(self) -> None:
        self.heard = self.listen(timeout=0.05)

    def __result__(self) -> Any:
        return self.heard


@pytest.mark.timeout(60)
def test_listen_timeout_returns_none_on_both_sides() -> None:
    process = Silent()
    process.start()
    assert process.result() is None
    assert process.listen(timeout=0.01) is None


class SendsFunctions(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 1

    def __run__(self) -> None:
        fn = self.listen(timeout=30)
        offset = 5
        self.tell((fn(2), lambda x: x + offset))


@pytest.mark.timeout(60)
def test_tell_carries_lambdas_both_ways() -> None:
    process = SendsFunctions()
    process.start()
    process.tell(lambda x: x * 21)
    value, fn = process.listen(timeout=30)
    assert value == 42
    assert fn(1) == 6
    process.wait()
