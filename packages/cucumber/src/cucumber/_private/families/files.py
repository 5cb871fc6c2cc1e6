"""Files, temporary files, pipes, mmap, memoryview, sockets, subprocesses and logging.

Open files travel as (path, mode, position) and are reopened without truncation; files that have
no path any more (anonymous temporary files) carry their contents. Loggers come back by name with
their level, propagation and handlers.
"""

from __future__ import annotations

import io
import logging
import mmap
import os
import socket
import stat
import subprocess
import sys
import tempfile
from typing import Any

from cucumber._private.errors import SerializationError
from cucumber._private.families._util import blank, handles
from cucumber._private.reconnectors import PipeReconnector, SocketReconnector, SubprocessReconnector

__all__ = ["install"]

_STD_STREAMS = ("stdin", "stdout", "stderr")


def _reopen_mode(mode: str) -> str:
    """A mode that reopens the same file without truncating or failing because it exists."""
    binary = "b" in mode
    plus = "+" in mode
    if "a" in mode:
        base = "a+" if plus else "a"
    elif "r" in mode and not plus:
        base = "r"
    else:  # w, w+, x, x+, r+
        base = "r+"
    return base + ("b" if binary else "")


def _reopen_file(
    path: str,
    mode: str,
    position: int,
    kind: str,
    encoding: str | None,
    errors: str | None,
    closed: bool,
) -> Any:
    if kind == "text":
        f: Any = open(path, mode, encoding=encoding, errors=errors)  # noqa: SIM115
    elif kind == "raw":
        f = open(path, mode, buffering=0)  # noqa: SIM115
    else:
        f = open(path, mode)  # noqa: SIM115
    if closed:
        f.close()
        return f
    if "a" not in mode:
        f.seek(position)
    return f


def _rebuild_anonymous_file(contents: bytes, position: int, kind: str, encoding: str | None) -> Any:
    f: Any = tempfile.TemporaryFile("w+b", buffering=0 if kind == "raw" else -1)  # noqa: SIM115
    f.write(contents)
    f.flush()
    if kind == "text":
        f = io.TextIOWrapper(f, encoding=encoding or "utf-8")
    f.seek(position)
    return f


def _file_kind(obj: Any) -> str:
    if isinstance(obj, io.TextIOBase):
        return "text"
    if isinstance(obj, io.RawIOBase):
        return "raw"
    return "buffered"


def _reduce_file(obj: Any) -> Any:
    for std in _STD_STREAMS:
        if obj is getattr(sys, std, None) or obj is getattr(sys, f"__{std}__", None):
            return getattr, (sys, std)
    kind = _file_kind(obj)
    name = getattr(obj, "name", None)
    mode = getattr(obj, "mode", "rb" if kind != "text" else "r")
    encoding = getattr(obj, "encoding", None) if kind == "text" else None
    errors = getattr(obj, "errors", None) if kind == "text" else None
    if obj.closed:
        if isinstance(name, str):
            return _reopen_file, (
                os.path.abspath(name),
                _reopen_mode(mode),
                0,
                kind,
                encoding,
                errors,
                True,
            )
        raise SerializationError(
            f"cannot serialize a closed file without a path ({type(obj).__name__}, fd {name!r})"
        )
    fd = obj.fileno()
    info = os.fstat(fd)
    if stat.S_ISFIFO(info.st_mode):
        path = name if isinstance(name, str) and os.path.exists(name) else None
        return PipeReconnector, ("r" if obj.readable() else "w", path, kind == "text", encoding)
    if obj.isatty():
        raise SerializationError(
            f"cannot serialize a file attached to a terminal ({name!r}); pass sys.stdin/stdout/stderr themselves"
        )
    if obj.writable():
        obj.flush()
    position = obj.tell()
    if isinstance(name, str) and os.path.exists(name) and os.path.samestat(os.stat(name), info):
        return _reopen_file, (
            os.path.abspath(name),
            _reopen_mode(mode),
            position,
            kind,
            encoding,
            errors,
            False,
        )
    if not stat.S_ISREG(info.st_mode):
        raise SerializationError(
            f"cannot serialize file {name!r}: it is neither a regular file nor a pipe"
        )
    # No path any more (an anonymous or deleted temporary file): carry the contents.
    size = info.st_size
    contents = os.pread(fd, size, 0) if size else b""
    byte_position = position if kind != "text" else os.lseek(fd, 0, os.SEEK_CUR)
    return _rebuild_anonymous_file, (contents, byte_position, kind, encoding)


def _rebuild_mmap(contents: bytes, position: int) -> mmap.mmap:
    m = mmap.mmap(-1, max(len(contents), 1))
    m.write(contents)
    m.seek(position)
    return m


def _rebuild_memoryview(data: Any, fmt: str, shape: tuple[int, ...], readonly: bool) -> memoryview:
    view = memoryview(data if not readonly or isinstance(data, bytes) else bytes(data))
    if readonly and not view.readonly:
        view = view.toreadonly()
    fmt_any: Any = fmt
    return view.cast("B").cast(fmt_any, shape) if (fmt != "B" or len(shape) != 1) else view


def _rebuild_logger(
    name: str, level: int, propagate: bool, disabled: bool, handlers: list[logging.Handler]
) -> logging.Logger:
    logger = logging.getLogger(None if name == "root" else name)
    logger.setLevel(level)
    logger.propagate = propagate
    logger.disabled = disabled
    for handler in handlers:
        if not any(_same_handler(handler, existing) for existing in logger.handlers):
            logger.addHandler(handler)
    return logger


def _same_handler(a: logging.Handler, b: logging.Handler) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, logging.FileHandler):
        return bool(a.baseFilename == getattr(b, "baseFilename", None))
    if isinstance(a, logging.StreamHandler):
        return a.stream is b.stream  # type: ignore[attr-defined]
    return False


def _configure_handler(
    handler: logging.Handler, level: int, formatter: Any, name: str | None, filters: list[Any]
) -> None:
    handler.setLevel(level)
    if formatter is not None:
        handler.setFormatter(formatter)
    if name is not None:
        handler.set_name(name)
    for f in filters:
        handler.addFilter(f)


def _rebuild_stream_handler(
    cls: type[Any], stream: Any, level: int, formatter: Any, name: str | None, filters: list[Any]
) -> logging.Handler:
    handler: logging.StreamHandler[Any] = blank(cls)
    logging.StreamHandler.__init__(handler, stream)
    _configure_handler(handler, level, formatter, name, filters)
    return handler


def _rebuild_file_handler(
    cls: type[Any],
    filename: str,
    mode: str,
    encoding: str | None,
    errors: str | None,
    level: int,
    formatter: Any,
    name: str | None,
    filters: list[Any],
) -> logging.Handler:
    handler: logging.FileHandler = blank(cls)
    logging.FileHandler.__init__(handler, filename, mode, encoding, True, errors)
    _configure_handler(handler, level, formatter, name, filters)
    return handler


def install() -> None:
    """Register the I/O handlers."""
    handles(
        io.TextIOWrapper,
        io.BufferedReader,
        io.BufferedWriter,
        io.BufferedRandom,
        io.FileIO,
        name="open file (path, mode, position)",
    )(_reduce_file)

    @handles(tempfile._TemporaryFileWrapper, name="temporary file (path, mode, position)")
    def _tempfile(obj: Any) -> Any:
        return _reduce_file(obj.file)

    @handles(mmap.mmap, name="mmap (anonymous copy of the contents, same position)")
    def _mmap(obj: mmap.mmap) -> Any:
        return _rebuild_mmap, (obj[:], obj.tell())

    @handles(memoryview, name="memoryview (same bytes, format and shape)")
    def _memoryview(obj: memoryview) -> Any:
        base = obj.obj
        if isinstance(base, (bytes, bytearray)) and obj.c_contiguous and obj.nbytes == len(base):
            data: Any = base
        else:
            data = obj.tobytes() if obj.readonly else bytearray(obj.tobytes())
        return _rebuild_memoryview, (data, obj.format, obj.shape, obj.readonly)

    @handles(socket.socket, name="socket.socket -> SocketReconnector")
    def _socket(obj: socket.socket) -> Any:
        if obj.fileno() == -1:
            return SocketReconnector, (obj.family, obj.type, obj.proto, None, None, None, False)
        try:
            peer = obj.getpeername()
        except OSError:
            peer = None
        try:
            local = obj.getsockname()
        except OSError:
            local = None
        try:
            listening = bool(obj.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
        except (OSError, AttributeError):
            listening = False
        return SocketReconnector, (
            int(obj.family),
            int(obj.type),
            obj.proto,
            obj.gettimeout(),
            peer,
            local,
            listening,
        )

    @handles(subprocess.Popen, name="subprocess.Popen -> SubprocessReconnector")
    def _popen(obj: subprocess.Popen[Any]) -> Any:
        pipes = (obj.stdin is not None, obj.stdout is not None, obj.stderr is not None)
        text = bool(getattr(obj, "text_mode", False) or getattr(obj, "universal_newlines", False))
        return SubprocessReconnector, (obj.args, obj.pid, obj.poll(), pipes, text)

    @handles(logging.Logger, name="logging.Logger (by name, with level and handlers)")
    def _logger(obj: logging.Logger) -> Any:
        return _rebuild_logger, (
            obj.name,
            obj.level,
            obj.propagate,
            obj.disabled,
            list(obj.handlers),
        )

    @handles(logging.FileHandler, name="logging.FileHandler (by file name and config)")
    def _file_handler(obj: logging.FileHandler) -> Any:
        if type(obj) is not logging.FileHandler:
            return NotImplemented  # subclasses (rotating handlers, ...) keep pickle's default
        return _rebuild_file_handler, (
            type(obj),
            obj.baseFilename,
            "a" if obj.mode.startswith("w") else obj.mode,
            obj.encoding,
            getattr(obj, "errors", None),
            obj.level,
            obj.formatter,
            obj.get_name(),
            list(obj.filters),
        )

    @handles(logging.StreamHandler, name="logging.StreamHandler (by stream and config)")
    def _stream_handler(obj: logging.StreamHandler[Any]) -> Any:
        if type(obj) is not logging.StreamHandler:
            return NotImplemented  # subclasses keep pickle's default
        return _rebuild_stream_handler, (
            type(obj),
            obj.stream,
            obj.level,
            obj.formatter,
            obj.get_name(),
            list(obj.filters),
        )
