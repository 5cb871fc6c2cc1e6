"""The examples of the suitkaise 0.4 ``sk`` pages (quick start, how to use, examples), run on this kit.

Each test is one example of ``/work/shared/reference/suitkaise-0.4/sk-*.md`` with the published import
lines. The network calls of the pages (``requests.get(url)``) become a local stand-in named ``requests``
so blocking detection sees the same source; files go to a temporary folder.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import time
import types
import warnings
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from suitkaise import sk

pytestmark = pytest.mark.timeout(120)


class _Response:
    def __init__(self, url: str) -> None:
        self.url = url
        self.text = f"<html>{url}</html>"

    def json(self) -> dict[str, str]:
        return {"url": self.url}


# Stand-in for the ``requests`` package of the pages: same call shape, no network.
requests = types.SimpleNamespace(get=lambda url: _Response(url))


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# ---------------------------------------------------------------- sk-quick-start.md / sk-how-to-use.md


def test_quick_start_function_modifiers() -> None:
    from suitkaise import sk

    @sk
    def fetch(url: str) -> Any:
        return requests.get(url).json()

    data = fetch("https://api.example.com")
    assert data == {"url": "https://api.example.com"}
    assert fetch.retry(times=3)("https://api.example.com") == data  # type: ignore[attr-defined]
    assert fetch.timeout(5.0)("https://api.example.com") == data  # type: ignore[attr-defined]
    future = fetch.background()("https://api.example.com")  # type: ignore[attr-defined]
    assert isinstance(future, Future)
    assert future.result() == data
    assert fetch.rate_limit(2.0)("https://api.example.com") == data  # type: ignore[attr-defined]
    assert asyncio.run(fetch.asynced()("https://api.example.com")) == data  # type: ignore[attr-defined]
    # chains, in any order
    assert fetch.retry(3).timeout(5.0)("https://api.example.com") == data  # type: ignore[attr-defined]
    assert fetch.timeout(5.0).retry(3)("https://api.example.com") == data  # type: ignore[attr-defined]


def test_how_to_sk_as_a_function_and_retry_arguments() -> None:
    from suitkaise import sk

    def fetch_data(url: str) -> Any:
        return requests.get(url).json()

    fetch_data = sk(fetch_data)
    assert fetch_data("https://api.example.com/data") == {"url": "https://api.example.com/data"}

    attempts: list[int] = []

    @sk
    def flaky(url: str) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return requests.get(url).text

    result = flaky.retry(times=5, delay=0.01, backoff_factor=2.0)("https://example.com")  # type: ignore[attr-defined]
    assert result == "<html>https://example.com</html>"
    assert len(attempts) == 3

    attempts.clear()
    with pytest.raises(ConnectionError):
        flaky.retry(times=2, delay=0.0, exceptions=(ConnectionError, TimeoutError))("u")  # type: ignore[attr-defined]
    assert len(attempts) == 2

    attempts.clear()

    @sk
    def wrong_kind(url: str) -> str:
        attempts.append(1)
        raise ValueError(url)

    with pytest.raises(ValueError):
        wrong_kind.retry(times=3, delay=0.0, exceptions=(ConnectionError,))("u")  # type: ignore[attr-defined]
    assert len(attempts) == 1  # only the listed exceptions are retried


def test_how_to_checking_for_blocking_calls() -> None:
    from suitkaise import sk

    @sk
    def slow_fetch(url: str) -> str:
        return requests.get(url).text

    assert slow_fetch.has_blocking_calls is True  # type: ignore[attr-defined]
    assert slow_fetch.blocking_calls == ["requests.get"]  # type: ignore[attr-defined]

    @sk
    def my_fn() -> None:
        time.sleep(1)

    assert my_fn.has_blocking_calls  # type: ignore[attr-defined]
    assert my_fn.blocking_calls == ["time.sleep"]  # type: ignore[attr-defined]


def transform(data: list[int]) -> list[int]:
    return [x * 2 for x in data]


def test_how_to_sk_on_classes_and_class_level_async() -> None:
    from suitkaise import sk

    @sk
    class DataProcessor:
        def __init__(self, config: dict[str, Any]) -> None:
            self.config = config
            self.results: list[int] = []

        def process(self, data: list[int]) -> list[int]:
            return transform(data)

        def save(self, path: str) -> None:
            with open(path, "w") as f:
                f.write(json.dumps(self.results))

    processor = DataProcessor({"mode": "fast"})
    assert processor.process([1, 2]) == [2, 4]
    processor.save("output.json")
    assert processor.process.retry(3)([1]) == [2]  # type: ignore[attr-defined]
    processor.save.timeout(10.0)("output.json")  # type: ignore[attr-defined]
    future = processor.save.background()("output.json")  # type: ignore[attr-defined]
    assert future.result() is None
    assert Path("output.json").read_text() == "[]"

    AsyncProcessor = DataProcessor.asynced()  # type: ignore[attr-defined]
    async_processor = AsyncProcessor({"mode": "fast"})

    async def main() -> None:
        await async_processor.save("output.json")  # blocking method: a coroutine now

    asyncio.run(main())
    assert asyncio.iscoroutinefunction(AsyncProcessor.save)

    from suitkaise.sk import SkModifierError

    @sk
    class Counter:
        def __init__(self) -> None:
            self.value = 0

        def increment(self) -> None:
            self.value += 1

    with pytest.raises(SkModifierError):
        Counter.asynced()  # type: ignore[attr-defined]


def test_how_to_blocking_on_functions_and_methods() -> None:
    from suitkaise import blocking, sk

    @sk
    @blocking
    def heavy_computation() -> int:
        return sum(x**2 for x in range(10_000))

    assert asyncio.run(heavy_computation.asynced()()) == sum(x**2 for x in range(10_000))  # type: ignore[attr-defined]

    @sk
    class Worker:
        ready = True

        @blocking
        def compute(self) -> int:
            return sum(range(1000))

        def quick_check(self) -> bool:
            return self.ready

    assert Worker._blocking_methods == {"compute": ["@blocking"]}  # type: ignore[attr-defined]


def test_how_to_async_modifiers_chain() -> None:
    from suitkaise import sk

    @sk
    def fetch_data(url: str) -> str:
        return requests.get(url).text

    async def main() -> list[str]:
        return [
            await fetch_data.asynced().timeout(5.0)("a"),  # type: ignore[attr-defined]
            await fetch_data.asynced().retry(3)("b"),  # type: ignore[attr-defined]
            await fetch_data.asynced().rate_limit(2.0)("c"),  # type: ignore[attr-defined]
            await fetch_data.asynced().retry(3).timeout(10.0)("d"),  # type: ignore[attr-defined]
        ]

    assert asyncio.run(main()) == [f"<html>{u}</html>" for u in "abcd"]


def test_how_to_errors() -> None:
    from suitkaise import sk
    from suitkaise.sk import FunctionTimeoutError, SkModifierError

    @sk
    def quick_fn() -> int:
        return 42

    async def main() -> str:
        try:
            await quick_fn.asynced()()  # type: ignore[attr-defined]
        except SkModifierError as e:
            return str(e)
        return ""

    assert "quick_fn" in asyncio.run(main())

    @sk
    def slow_fn() -> None:
        time.sleep(0.5)

    with pytest.raises(FunctionTimeoutError) as info:
        slow_fn.timeout(0.05)()  # type: ignore[attr-defined]
    assert "slow_fn" in str(info.value)


def test_how_to_class_properties() -> None:
    from suitkaise import sk

    @sk
    class MyClass:
        def blocking_method(self) -> None:
            time.sleep(1)

        def quick_method(self) -> int:
            return 42

    assert MyClass.has_blocking_calls is True  # type: ignore[attr-defined]
    assert MyClass._blocking_methods == {"blocking_method": ["time.sleep"]}  # type: ignore[attr-defined]
    assert set(MyClass._shared_meta) == {"methods", "properties"}  # type: ignore[attr-defined]


# Share needs the class importable in its server process: defined at module level, as a script would.
@sk
class ShareCounter:
    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> None:
        self.value += 1


# ---------------------------------------------------------------- sk-examples.md


def test_examples_decorate_a_function() -> None:
    from suitkaise import sk

    @sk
    def fetch_user(user_id: int) -> dict[str, Any]:
        """Fetch user data (simulated)."""
        import time

        time.sleep(0.05)
        return {"id": user_id, "name": f"User {user_id}", "active": True}

    user = fetch_user(42)
    assert user == {"id": 42, "name": "User 42", "active": True}
    assert fetch_user.retry(times=3, delay=0.5)(42) == user  # type: ignore[attr-defined]
    assert fetch_user.timeout(2.0)(42) == user  # type: ignore[attr-defined]
    future = fetch_user.background()(42)  # type: ignore[attr-defined]
    sum(range(1_000_000))
    assert future.result() == user
    assert fetch_user.retry(3).timeout(5.0)(42) == user  # type: ignore[attr-defined]


def test_examples_sk_as_a_function() -> None:
    from suitkaise import sk

    def streamline_format(text: str) -> str:
        return text.strip().lower().replace(" ", "-")

    streamline_format = sk(streamline_format)
    assert streamline_format("Hello World") == "hello-world"


def test_examples_chaining_order_does_not_matter() -> None:
    from suitkaise import sk

    @sk
    def read_and_hash(path: Path) -> str:
        content = Path(path).read_bytes()
        return hashlib.sha256(content).hexdigest()

    data_path = Path("data/blob.bin")
    data_path.parent.mkdir(parents=True, exist_ok=True)
    data_path.write_bytes(b"real data" * 100_000)
    digest = read_and_hash.retry(times=3, delay=0.1).timeout(1.0)(data_path)  # type: ignore[attr-defined]
    assert digest == read_and_hash.timeout(1.0).retry(times=3, delay=0.1)(data_path)  # type: ignore[attr-defined]
    assert digest == hashlib.sha256(b"real data" * 100_000).hexdigest()


def test_examples_timeout_handling() -> None:
    from suitkaise import sk
    from suitkaise.sk import FunctionTimeoutError

    @sk
    def count_primes(limit: int) -> int:
        primes: list[int] = []
        for n in range(2, limit):
            is_prime = True
            for p in primes:
                if p * p > n:
                    break
                if n % p == 0:
                    is_prime = False
                    break
            if is_prime:
                primes.append(n)
        return len(primes)

    with pytest.raises(FunctionTimeoutError, match="count_primes"):
        count_primes.timeout(0.05)(200_000)  # type: ignore[attr-defined]


def test_examples_background_and_rate_limiting() -> None:
    from suitkaise import sk

    @sk
    def hash_file(path: Path) -> str:
        data = Path(path).read_bytes()
        return hashlib.sha256(data).hexdigest()

    data_path = Path("data/large.bin")
    data_path.parent.mkdir(parents=True, exist_ok=True)
    data_path.write_bytes(b"x" * 5_000_000)
    future = hash_file.background()(data_path)  # type: ignore[attr-defined]
    summary = (data_path.stat().st_size, data_path.name)
    result = future.result()
    assert summary == (5_000_000, "large.bin")
    assert result == hashlib.sha256(b"x" * 5_000_000).hexdigest()

    @sk
    def file_size(path: Path) -> int:
        return Path(path).stat().st_size

    data_path = Path("data/sample.txt")
    data_path.write_text("real content\n" * 1000)
    limited = file_size.rate_limit(2.0)  # type: ignore[attr-defined]
    started = time.monotonic()
    sizes = [limited(data_path) for _ in range(5)]
    assert sizes == [13_000] * 5
    assert time.monotonic() - started >= 1.5  # 5 calls at 2 per second take at least ~2 s


def test_examples_custom_retry_exceptions() -> None:
    from suitkaise import sk

    class ApiError(RuntimeError):
        pass

    @sk
    def load_config(path: Path) -> Any:
        text = Path(path).read_text()
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            Path(path).write_text(text + "}")
            raise ApiError("Config was incomplete, repaired and retrying") from None

    config_path = Path("data/config.json")
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text('{"name": "demo"')
    config = load_config.retry(times=2, delay=0.1, exceptions=(ApiError,))(config_path)  # type: ignore[attr-defined]
    assert config == {"name": "demo"}


def test_examples_asynced_for_async_code() -> None:
    from suitkaise import sk

    @sk
    def sum_csv(path: Path) -> int:
        total = 0
        with open(path, newline="") as f:
            reader = csv.reader(f)
            for row in reader:
                total += int(row[0])
        return total

    data_dir = Path("data")
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(3):
        p = data_dir / f"numbers_{i}.csv"
        p.write_text("\n".join(str(n) for n in range(1, 1000)))
        paths.append(p)

    async def main() -> list[int]:
        return list(
            await asyncio.gather(
                sum_csv.asynced()(paths[0]),  # type: ignore[attr-defined]
                sum_csv.asynced()(paths[1]),  # type: ignore[attr-defined]
                sum_csv.asynced()(paths[2]),  # type: ignore[attr-defined]
            )
        )

    assert asyncio.run(main()) == [499_500] * 3


def test_examples_async_chaining_timeout_retry_and_rate_limit() -> None:
    from suitkaise import sk

    @sk
    def load_report(path: Path) -> Any:
        text = Path(path).read_text()
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            Path(path).write_text(text + "}")
            raise ValueError("Report was incomplete, repaired and retrying") from None

    report_path = Path("data/report.json")
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text('{"ok": true')

    async def main() -> Any:
        return await (
            load_report.asynced()  # type: ignore[attr-defined]
            .retry(times=2, delay=0.1, exceptions=(ValueError,))
            .timeout(0.5)
        )(report_path)

    assert asyncio.run(main()) == {"ok": True}

    @sk
    def hash_text(path: Path) -> str:
        data = Path(path).read_text().encode()
        return hashlib.sha256(data).hexdigest()

    data_path = Path("data/log.txt")
    data_path.write_text("log line\n" * 1000)

    async def limited_main() -> list[str]:
        limited = hash_text.asynced().rate_limit(5.0)  # type: ignore[attr-defined]
        return list(await asyncio.gather(*[limited(data_path) for _ in range(10)]))

    results = asyncio.run(limited_main())
    assert len(set(results)) == 1
    assert len(results) == 10


def test_examples_blocking_detection_and_marker() -> None:
    from suitkaise import blocking, sk

    @sk
    def load_text(path: Path) -> str:
        with open(path) as f:
            return f.read()

    Path("readme.txt").write_text("real text")
    assert load_text.has_blocking_calls  # type: ignore[attr-defined]
    assert "open" in load_text.blocking_calls  # type: ignore[attr-defined]

    @sk
    @blocking
    def heavy_math(n: int) -> int:
        return sum(range(n))

    future = heavy_math.background()(1_000_000)  # type: ignore[attr-defined]
    assert future.result() == sum(range(1_000_000))


def test_examples_classes() -> None:
    from suitkaise import blocking, sk
    from suitkaise.sk import SkModifierError

    @sk
    class DataStore:
        def __init__(self) -> None:
            self.data: dict[str, Any] = {}

        def set(self, key: str, value: dict[str, Any]) -> None:
            self.data[key] = value

        def save(self, path: str) -> None:
            with open(path, "w") as f:
                f.write(json.dumps(self.data))

    store = DataStore()
    store.set("a", {"value": 1})
    store.save("output.json")
    store.save.timeout(2.0)("output.json")  # type: ignore[attr-defined]
    assert json.loads(Path("output.json").read_text()) == {"a": {"value": 1}}

    @sk
    class FileReader:
        @blocking
        def read(self, path: Path) -> str:
            with open(path) as f:
                return f.read()

    Path("message.txt").write_text("hello from disk")

    async def main() -> str:
        reader = FileReader()
        return await reader.read.asynced()(Path("message.txt"))  # type: ignore[attr-defined, no-any-return]

    assert asyncio.run(main()) == "hello from disk"

    @sk
    class Counter:
        def __init__(self) -> None:
            self.value = 0

        def inc(self) -> None:
            self.value += 1

    with pytest.raises(SkModifierError):
        Counter.asynced()  # type: ignore[attr-defined]


def test_examples_shared_meta_generation() -> None:
    from suitkaise import sk

    @sk
    class Ledger:
        def __init__(self) -> None:
            self.balance = 0.0
            self.transactions: list[tuple[str, float]] = []
            self.name = "main"

        def deposit(self, amount: float) -> None:
            self.balance += amount
            self.transactions.append(("deposit", amount))

        def withdraw(self, amount: float) -> None:
            self.balance -= amount
            self.transactions.append(("withdraw", amount))

    meta = Ledger._shared_meta  # type: ignore[attr-defined]
    for method in ("deposit", "withdraw"):
        assert meta["methods"][method] == {
            "reads": ["balance", "transactions"],
            "writes": ["balance", "transactions"],
        }
    assert meta["properties"] == {}


def test_examples_retry_timeout_background_and_shared_limiter() -> None:
    from suitkaise import sk

    @sk
    def load_payload(path: Path) -> Any:
        text = Path(path).read_text()
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            Path(path).write_text(text + "}")
            raise RuntimeError("Payload incomplete, repaired and retrying") from None

    payload_path = Path("data/payload.json")
    payload_path.parent.mkdir(parents=True, exist_ok=True)
    payload_path.write_text('{"id": 1, "value": 42')
    future = load_payload.retry(times=2, delay=0.1).timeout(1.0).background()(payload_path)  # type: ignore[attr-defined]
    assert future.result() == {"id": 1, "value": 42}

    @sk
    def read_lines(path: Path) -> int:
        return len(Path(path).read_text().splitlines())

    log_path = Path("data/log.txt")
    log_path.write_text("line\n" * 500)
    limited = read_lines.rate_limit(3.0)  # type: ignore[attr-defined]
    started = time.monotonic()
    batch_a = [limited(log_path) for _ in range(3)]
    batch_b = [limited(log_path) for _ in range(3)]
    assert batch_a + batch_b == [500] * 6
    assert time.monotonic() - started >= 1.3  # one limiter for both batches: 6 calls at 3/s


def test_examples_full_script() -> None:
    from suitkaise import blocking, sk
    from suitkaise.sk import FunctionTimeoutError

    class TransientError(RuntimeError):
        pass

    def seed_records() -> list[str]:
        payloads = []
        for record_id in range(1, 11):
            text = json.dumps({"id": record_id, "value": record_id * 3})
            if record_id == 4:
                text = text[:-1]
            payloads.append(text)
        return payloads

    @sk
    @blocking
    def load_record(index: int, payloads: list[str]) -> dict[str, Any]:
        text = payloads[index]
        try:
            record: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError:
            payloads[index] = text + "}"
            raise TransientError("Record incomplete, repaired and retrying") from None
        if "id" not in record or "value" not in record:
            raise ValueError("Missing required keys")
        return record

    @sk
    @blocking
    def score_record(record: dict[str, Any]) -> dict[str, Any]:
        payload = f"{record['id']}:{record['value']}".encode()
        digest = hashlib.sha256(payload).hexdigest()
        return {**record, "score": int(digest[:8], 16) % 1000}

    async def main() -> list[dict[str, Any]]:
        payloads = seed_records()
        loader = (
            load_record.asynced()  # type: ignore[attr-defined]
            .retry(times=2, delay=0.1, exceptions=(TransientError,))
            .timeout(0.5)
            .rate_limit(20.0)
        )
        results = await asyncio.gather(
            *[loader(i, payloads) for i in range(len(payloads))], return_exceptions=True
        )
        records = []
        for result in results:
            if isinstance(result, (FunctionTimeoutError, Exception)):
                continue
            records.append(result)
        futures = [score_record.background()(record) for record in records]  # type: ignore[attr-defined]
        return [future.result() for future in futures]

    scored = asyncio.run(main())
    assert [r["id"] for r in scored] == list(range(1, 11))
    assert all(0 <= r["score"] < 1000 for r in scored)


# ---------------------------------------------------------------- 0.4 names kept with a DeprecationWarning


def test_legacy_wrapper_names_import_and_warn() -> None:
    from suitkaise.sk import AsyncSkfunction, Skclass, Skfunction
    from suitkaise.sk.api import Skfunction as ApiSkfunction
    from suitkaise.sk.api import blocking, sk

    assert ApiSkfunction is Skfunction

    def fetch(url: str) -> str:
        return requests.get(url).text

    with pytest.warns(DeprecationWarning, match=r"write sk\(fn\)"):
        wrapped = Skfunction(fetch)
    assert wrapped("u") == "<html>u</html>"
    assert wrapped.retry(2)("u") == "<html>u</html>"
    assert isinstance(wrapped, Skfunction)

    class Store:
        def save(self, path: str) -> None:
            with open(path, "w") as f:
                f.write("x")

    with pytest.warns(DeprecationWarning, match=r"write sk\(C\)"):
        SkStore = Skclass(Store)
    assert isinstance(SkStore(), Store)
    assert isinstance(SkStore, Skclass)
    assert SkStore.has_blocking_calls  # type: ignore[attr-defined]

    with pytest.warns(DeprecationWarning, match=r"asynced\(\)"):
        async_fetch = AsyncSkfunction(fetch)
    assert asyncio.run(async_fetch("u")) == "<html>u</html>"
    assert isinstance(async_fetch, AsyncSkfunction)

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert sk(blocking(fetch))("v") == "<html>v</html>"  # the current spellings never warn


def test_legacy_import_suitkaise_sk_api_as_module() -> None:
    import suitkaise.sk.api as api

    assert api.sk is __import__("suitkaise").sk


@pytest.mark.timeout(60)
def test_how_to_and_examples_share_compatibility() -> None:
    from suitkaise import sk
    from suitkaise.processing import Share

    share = Share()
    try:
        share.counter = ShareCounter()
        share.counter.increment()
        assert share.counter.value == 1
    finally:
        share.stop()

    with Share() as share:
        share.counter = ShareCounter()
        share.counter.increment()
        share.counter.increment()
        assert share.counter.value == 2
    assert sk(ShareCounter) is ShareCounter
