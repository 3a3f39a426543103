"""The :class:`Client` class and the results it returns.

Over 400 lines because :class:`Client` has one method per function of
``include/localkms.h`` (about thirty, each with its argument checks and docs);
the helpers it shares (argument copies, errors) are small and live here with it.
"""

from __future__ import annotations

import ctypes
import datetime
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Union

from . import _lib
from ._lib import (
    kms_clock_fn,
    kms_client_p,
    kms_create_key_options,
    kms_data_key_response,
    kms_decrypt_response,
    kms_encrypt_response,
    kms_error,
    kms_open_options,
)
from .errors import KmsError, Status, make_error

__all__ = [
    "Client",
    "EncryptResult",
    "DecryptResult",
    "DataKey",
    "version",
    "status_code",
    "status_http_status",
]

_log = logging.getLogger("localkms")

BytesLike = Union[bytes, bytearray, memoryview]
StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

_UINT32_MAX = 2**32 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


# --- results -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EncryptResult:
    """What :meth:`Client.advance_encrypt` and :meth:`Client.encrypt` return.

    ``ciphertext_blob`` is the self-describing blob (advance_encrypt) or the bare
    ciphertext (encrypt: keep ``key_id``, ``algorithm``, ``iv`` and
    ``padding_mode`` to decrypt it). ``iv`` is ``b""`` for AES_ECB;
    ``padding_mode`` is ``""`` for AES_GCM.
    """

    ciphertext_blob: bytes
    key_id: str
    key_version_id: str
    algorithm: str
    iv: bytes
    padding_mode: str
    request_id: str


@dataclass(frozen=True, slots=True)
class DecryptResult:
    """What :meth:`Client.advance_decrypt` and :meth:`Client.decrypt` return.

    ``plaintext`` is a ``bytearray`` so that it can be wiped: call
    :meth:`wipe` (or zero it yourself) once you are done with it. It is left out
    of ``repr()``.
    """

    plaintext: bytearray = field(repr=False)
    key_id: str
    key_version_id: str
    algorithm: str
    padding_mode: str
    request_id: str

    def wipe(self) -> None:
        """Overwrites the plaintext with zeros (its length stays)."""
        _wipe_bytearray(self.plaintext)


@dataclass(frozen=True, slots=True)
class DataKey:
    """What :meth:`Client.generate_data_key` and
    :meth:`Client.advance_generate_data_key` return.

    ``plaintext`` is the data key, a wipeable ``bytearray`` left out of
    ``repr()``: encrypt your data with it, keep ``ciphertext_blob``, then call
    :meth:`wipe`. For advance_generate_data_key the blob opens with
    :meth:`Client.advance_decrypt`; for generate_data_key it is the bare
    ciphertext || tag, opened by :meth:`Client.decrypt` with ``key_id``,
    ``algorithm="AES_GCM"`` and ``iv``.
    """

    plaintext: bytearray = field(repr=False)
    ciphertext_blob: bytes
    key_id: str
    key_version_id: str
    algorithm: str
    iv: bytes
    request_id: str

    def wipe(self) -> None:
        """Overwrites the plaintext data key with zeros."""
        _wipe_bytearray(self.plaintext)


# --- module-level functions ------------------------------------------------------------
def version() -> str:
    """The library version, e.g. ``"0.1.0"`` (``kms_version``)."""
    name: bytes = _lib.get().kms_version()
    return name.decode("ascii")


def status_code(status: int) -> str:
    """The service's code string for a status number (``kms_status_code``):
    ``"OK"`` for 0, ``"Unknown"`` for a number that is no status."""
    code: bytes = _lib.get().kms_status_code(_check_range(status, 0, _UINT32_MAX, "status"))
    return code.decode("ascii")


def status_http_status(status: int) -> int:
    """The HTTP status for a status number (``kms_status_http_status``): 200 for 0,
    0 for a number that is no status."""
    return int(_lib.get().kms_status_http_status(_check_range(status, 0, _UINT32_MAX, "status")))


# --- helpers ---------------------------------------------------------------------------
def _wipe_bytearray(buffer: bytearray) -> None:
    n = len(buffer)
    if n:
        ctypes.memset((ctypes.c_char * n).from_buffer(buffer), 0, n)


def _local_error(status: Status, message: str) -> KmsError:
    """An error for arguments refused before the call (no RequestId)."""
    lib = _lib.get()
    return make_error(
        status,
        lib.kms_status_code(status).decode("ascii"),
        int(lib.kms_status_http_status(status)),
        message,
        None,
    )


def _flag(value: object) -> int:
    """A truth value as the header's int flags take it: 1 or 0 (the C ABI has no
    bool; the library reads any non-zero int as true)."""
    return 1 if value else 0


def _check_range(value: int, low: int, high: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise _local_error(
            Status.INVALID_PARAMETER,
            f'The specified parameter "{name}" is not valid: {value} is outside {low}..{high}.',
        )
    return value


def _cstr(value: str | bytes | None, name: str) -> bytes | None:
    """A str argument as NUL-terminated UTF-8 (None stays None, i.e. NULL)."""
    if value is None:
        return None
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bytes):
        data = value
    else:
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if b"\0" in data:
        raise _local_error(
            Status.INVALID_PARAMETER,
            f'The specified parameter "{name}" is not valid: it contains a NUL character.',
        )
    return data


def _algorithms(value: str | Iterable[str] | None) -> bytes | None:
    """The ``algorithms`` option: a comma list as the library takes it, from a
    str (``"AES_GCM,AES_CBC"``) or an iterable of names; None or empty is NULL."""
    if value is None or isinstance(value, (str, bytes)):
        return _cstr(value, "Algorithms") or None
    try:
        names = list(value)
    except TypeError:
        raise TypeError(
            f"algorithms must be a str or an iterable of str, not {type(value).__name__}"
        ) from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"algorithms must hold str, not {type(name).__name__}")
    return _cstr(",".join(names), "Algorithms") or None


def _cpath(value: StrPath | None, name: str) -> bytes | None:
    if value is None:
        return None
    return _cstr(os.fsencode(value), name)


def _document(text: str) -> dict[str, Any]:
    """One of the library's JSON documents (always an object)."""
    document = json.loads(text)
    if not isinstance(document, dict):
        raise TypeError(f"the library returned a JSON {type(document).__name__}, not an object")
    return document


class _ByteArgs:
    """Copies byte arguments into ctypes buffers it owns, for one call, and wipes
    them afterwards (``with _ByteArgs() as b: ptr, n = b.add(data)``).

    None or an empty buffer is passed as (NULL, 0). The copies keep the data alive
    for the whole call, whatever the caller does with its own object meanwhile.
    """

    __slots__ = ("_owned",)

    def __init__(self) -> None:
        self._owned: list[ctypes.Array[Any]] = []

    def add(self, data: BytesLike | None, name: str) -> tuple[Any, int]:
        if data is None:
            return None, 0
        if isinstance(data, str):
            raise TypeError(f"{name} must be bytes-like (bytes, bytearray, memoryview), not str")
        try:
            view = memoryview(data)
        except TypeError:
            raise TypeError(
                f"{name} must be bytes-like (bytes, bytearray, memoryview), "
                f"not {type(data).__name__}"
            ) from None
        with view:
            n = view.nbytes
            if n == 0:
                return None, 0
            if view.c_contiguous:
                with view.cast("B") as flat:
                    buffer = (ctypes.c_uint8 * n).from_buffer_copy(flat)
            else:
                scratch = bytearray(view.tobytes())  # not contiguous: one extra copy
                buffer = (ctypes.c_uint8 * n).from_buffer_copy(scratch)
                _wipe_bytearray(scratch)
        self._owned.append(buffer)
        return buffer, n

    def __enter__(self) -> "_ByteArgs":
        return self

    def __exit__(self, *exc: object) -> None:
        for buffer in self._owned:
            ctypes.memset(buffer, 0, ctypes.sizeof(buffer))
        self._owned.clear()


def _take_str(pointer: Any) -> str:
    """A library-owned char * field as str ('' for NULL); the caller frees it."""
    if not pointer:
        return ""
    return ctypes.string_at(pointer).decode("utf-8")


def _take_bytes(pointer: Any, length: int) -> bytes:
    if not pointer or not length:
        return b""
    return ctypes.string_at(pointer, length)


def _take_secret(pointer: Any, length: int) -> bytearray:
    """Copies library-owned secret bytes straight into a new bytearray, without an
    intermediate (unwipeable) bytes object."""
    out = bytearray(length)
    if pointer and length:
        ctypes.memmove((ctypes.c_char * length).from_buffer(out), pointer, length)
    return out


def _raise_for(status: int, error: kms_error) -> None:
    if status != Status.OK:
        raise make_error(
            status,
            error.code.decode("utf-8", "replace"),
            int(error.http_status),
            error.message.decode("utf-8", "replace"),
            error.request_id.decode("ascii", "replace") or None,
        )


def _interval(value: str | datetime.timedelta | None) -> bytes | None:
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
        if seconds != int(seconds):
            raise _local_error(
                Status.INVALID_PARAMETER,
                'The specified parameter "RotationInterval" is not valid: '
                "use whole seconds.",
            )
        return f"{int(seconds)}s".encode("ascii")
    return _cstr(value, "RotationInterval")


class _ClockRefs:
    """Keeps the ctypes thunks of installed clocks alive: the current one, and
    replaced ones until every call that may still be using them has returned."""

    __slots__ = ("current", "retired")

    def __init__(self) -> None:
        self.current: Any = None
        self.retired: list[Any] = []


def _free_client(lib: ctypes.CDLL, handle: Any, _clocks: _ClockRefs) -> None:
    # `_clocks` is an argument only so that the finalizer keeps it alive as long
    # as the handle.
    lib.kms_client_free(handle)


# --- the client ------------------------------------------------------------------------
class Client:
    """One handle on one key store (a ``kms_client``).

    Open with :meth:`open` (an SQLite file or a PostgreSQL store) or
    :meth:`in_memory`; use as a context manager or call :meth:`close`. One client
    may be used from any number of threads at once: ctypes releases the GIL
    during each library call, so encryption in several threads runs in parallel.
    :meth:`close` waits for calls running in other threads, then frees the handle
    (wiping the key material); calls made afterwards raise ``ValueError``.

    Every method raises a :class:`~localkms.KmsError` subclass on failure.
    Optional string arguments take the service's spelling (``"AES_CBC"``,
    ``"NO_PADDING"``); ``None`` means the default. Byte arguments take any
    bytes-like object; ``None`` or empty is passed as (NULL, 0).
    """

    __slots__ = (
        "_lib",
        "_handle",
        "_closing",
        "_cond",
        "_active",
        "_local",
        "_clocks",
        "_clock_lock",
        "_finalizer",
        "__weakref__",
    )
    _lib: ctypes.CDLL
    _handle: Any
    _closing: bool
    _cond: threading.Condition
    _active: int
    _local: threading.local
    _clocks: _ClockRefs
    _clock_lock: threading.Lock
    _finalizer: weakref.finalize[[ctypes.CDLL, Any, _ClockRefs], Client]

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("use localkms.Client.open(...) or localkms.Client.in_memory()")

    # -- opening and closing -------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: StrPath | None = None,
        *,
        master_key: BytesLike | None = None,
        master_key_file: StrPath | None = None,
        create_if_missing: bool = False,
        keystore_url: str | None = None,
    ) -> "Client":
        """Opens a client (``kms_client_open``).

        ``path`` is the embedded store, an SQLite database file (the library keeps
        ``<path>-wal`` and ``<path>-shm`` beside it); ``keystore_url`` is a shared
        PostgreSQL store instead, ``"postgresql://user@host/db"`` (a Unix socket
        as a percent-encoded host: ``"postgresql://user@%2Fvar%2Frun%2Fpostgresql/db"``;
        the database must exist). Not both: that is
        :class:`~localkms.InvalidParameterError`. With neither, the store is in
        memory. With a store, give the master key either as ``master_key`` (32
        bytes) or as ``master_key_file`` (32 raw bytes or 64 hex digits, mode 0600
        or stricter). ``create_if_missing`` creates the store (the SQLite file, or
        the ``localkms_*`` tables in the PostgreSQL database) when it does not
        exist (otherwise that is :class:`~localkms.KeyStoreIOError`).
        """
        lib = _lib.get()
        path_b = _cpath(path, "KeystorePath")
        key_file_b = _cpath(master_key_file, "MasterKeyFile")
        url_b = _cstr(keystore_url, "KeystoreUrl")
        handle = kms_client_p()
        error = kms_error()
        with _ByteArgs() as args:
            key_ptr, key_len = args.add(master_key, "MasterKey")
            options = kms_open_options(
                keystore_path=path_b,
                master_key=key_ptr,
                master_key_len=key_len,
                master_key_file=key_file_b,
                create_if_missing=_flag(create_if_missing),
                keystore_url=url_b,
            )
            status = lib.kms_client_open(ctypes.byref(options), ctypes.byref(handle), ctypes.byref(error))
        _raise_for(status, error)
        return cls._wrap(lib, handle)

    @classmethod
    def in_memory(cls) -> "Client":
        """A client on a new, empty in-memory store that goes with the client."""
        lib = _lib.get()
        handle = kms_client_p()
        error = kms_error()
        status = lib.kms_client_open(None, ctypes.byref(handle), ctypes.byref(error))
        _raise_for(status, error)
        return cls._wrap(lib, handle)

    @classmethod
    def _wrap(cls, lib: ctypes.CDLL, handle: Any) -> "Client":
        self = object.__new__(cls)
        self._lib = lib
        self._handle = handle
        self._closing = False
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        self._local = threading.local()
        self._clocks = _ClockRefs()
        self._clock_lock = threading.Lock()
        # Frees the handle if the client is garbage-collected without close().
        self._finalizer = weakref.finalize(self, _free_client, lib, handle, self._clocks)
        self._finalizer.atexit = False
        return self

    def close(self) -> None:
        """Frees the client and wipes its key material. Idempotent. Waits for
        calls running in other threads to return; later calls raise ValueError.
        Must not be called from inside a clock callback of this client."""
        with self._cond:
            if self._handle is None:
                return
            if getattr(self._local, "depth", 0):
                raise RuntimeError("cannot close a localkms client from inside one of its calls")
            self._closing = True
            while self._active:
                self._cond.wait()
            self._handle = None
        # The finalizer frees the handle exactly once, and drops the clock thunks.
        self._finalizer()

    @property
    def closed(self) -> bool:
        return self._handle is None or self._closing

    def __enter__(self) -> "Client":
        self._check_open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<localkms.Client {'closed' if self.closed else 'open'} at {id(self):#x}>"

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("the localkms client is closed")

    def _enter(self) -> Any:
        """Marks a call as running and returns the handle (see close())."""
        with self._cond:
            if self._handle is None or self._closing:
                raise ValueError("the localkms client is closed")
            self._active += 1
            handle = self._handle
        local = self._local
        local.depth = getattr(local, "depth", 0) + 1
        return handle

    def _leave(self) -> None:
        self._local.depth -= 1
        with self._cond:
            self._active -= 1
            if self._active == 0:
                # No call that began before a clock was replaced is running any
                # more: the replaced thunks can go.
                self._clocks.retired.clear()
                self._cond.notify_all()

    def _call(self, function: str, *args: Any) -> None:
        """Calls ``function(handle, *args, &error)`` and raises on failure."""
        error = kms_error()
        handle = self._enter()
        try:
            status = getattr(self._lib, function)(handle, *args, ctypes.byref(error))
        finally:
            self._leave()
        _raise_for(status, error)

    def _call_str(self, function: str, *args: Any) -> str:
        """As _call, for functions with a ``char **`` output before the error."""
        out = ctypes.POINTER(ctypes.c_char)()
        try:
            self._call(function, *args, ctypes.byref(out))
            return _take_str(out)
        finally:
            self._lib.kms_string_free(out)

    # -- time --------------------------------------------------------------------------
    def set_clock(self, clock: Callable[[], int | float] | None) -> None:
        """Installs a clock (``kms_client_set_clock``): a callable returning Unix
        seconds, used for automatic rotation, expiry and deletion dates and the
        dates in documents; ``None`` restores the system clock.

        The callable is called from whichever thread is making a call on the
        client, possibly from several at once, so it must be thread-safe. The
        client keeps it referenced while it is installed. If it raises, the
        exception is logged (logger ``"localkms"``) and the system time is used
        for that reading.
        """
        if clock is None:
            thunk = kms_clock_fn()  # a NULL function pointer: the system clock
        else:
            if not callable(clock):
                raise TypeError("clock must be a callable returning Unix seconds, or None")

            def read_clock(_context: Any) -> int:
                try:
                    now = int(clock())
                    if not _INT64_MIN <= now <= _INT64_MAX:
                        raise OverflowError(f"clock returned {now}, outside int64")
                    return now
                except BaseException:  # noqa: BLE001 - must not escape into C
                    _log.exception("localkms clock callback failed; using the system clock")
                    return int(time.time())

            thunk = kms_clock_fn(read_clock)
        with self._clock_lock:  # one swap at a time, so current always matches the library
            self._call("kms_client_set_clock", thunk, None)
            with self._cond:
                old, self._clocks.current = self._clocks.current, (None if clock is None else thunk)
                if old is not None:
                    self._clocks.retired.append(old)

    # -- encryption ----------------------------------------------------------------------
    def _encrypt(
        self,
        function: str,
        key_id: str,
        plaintext: BytesLike | None,
        algorithm: str | None,
        iv: BytesLike | None,
        aad: BytesLike | None,
        padding_mode: str | None,
    ) -> EncryptResult:
        key_id_b = _cstr(key_id, "KeyId")
        algorithm_b = _cstr(algorithm, "Algorithm")
        padding_b = _cstr(padding_mode, "PaddingMode")
        response = ctypes.POINTER(kms_encrypt_response)()
        try:
            with _ByteArgs() as args:
                self._call(
                    function,
                    key_id_b,
                    *args.add(plaintext, "Plaintext"),
                    algorithm_b,
                    *args.add(iv, "Iv"),
                    *args.add(aad, "Aad"),
                    padding_b,
                    ctypes.byref(response),
                )
            r = response.contents
            return EncryptResult(
                ciphertext_blob=_take_bytes(r.ciphertext_blob, r.ciphertext_blob_len),
                key_id=_take_str(r.key_id),
                key_version_id=_take_str(r.key_version_id),
                algorithm=_take_str(r.algorithm),
                iv=_take_bytes(r.iv, r.iv_len),
                padding_mode=_take_str(r.padding_mode),
                request_id=_take_str(r.request_id),
            )
        finally:
            self._lib.kms_encrypt_response_free(response)

    def advance_encrypt(
        self,
        key_id: str,
        plaintext: BytesLike | None,
        *,
        algorithm: str | None = None,
        iv: BytesLike | None = None,
        aad: BytesLike | None = None,
        padding_mode: str | None = None,
    ) -> EncryptResult:
        """AdvanceEncrypt: encrypts with the key's primary version into a
        self-describing blob that :meth:`advance_decrypt` opens alone.

        ``key_id``: a KeyId or ``alias/...``. ``algorithm``: None for the key's
        GCM (``AES_GCM``; ``SM4_GCM`` for an Aliyun_SM4 key), ``"AES_CBC"``,
        ``"AES_ECB"``, ``"SM4_CBC"``…: only those the key was created with
        (:meth:`create_key`'s ``algorithms``; GCM only by default), any other is
        :class:`~localkms.UnsupportedOperationError`. ``iv``: None for a fresh
        random IV (advised), else 12 bytes (GCM) / 16 (CBC). ``aad``: GCM only,
        at most 8192 bytes. ``padding_mode``: ``"PKCS7_PADDING"`` (default) or
        ``"NO_PADDING"`` for the block modes.
        """
        return self._encrypt(
            "kms_advance_encrypt", key_id, plaintext, algorithm, iv, aad, padding_mode
        )

    def encrypt(
        self,
        key_id: str,
        plaintext: BytesLike | None,
        *,
        algorithm: str | None = None,
        iv: BytesLike | None = None,
        aad: BytesLike | None = None,
        padding_mode: str | None = None,
    ) -> EncryptResult:
        """Encrypt: as :meth:`advance_encrypt`, but with the key's initial version
        whatever rotations happened, and the blob is the bare ciphertext (AES_GCM:
        ciphertext || tag). Keep key_id, algorithm, iv and padding_mode for
        :meth:`decrypt`."""
        return self._encrypt("kms_encrypt", key_id, plaintext, algorithm, iv, aad, padding_mode)

    def _decrypt(
        self,
        function: str,
        ciphertext_blob: BytesLike,
        key_id: str | None,
        algorithm: str | None,
        iv: BytesLike | None,
        aad: BytesLike | None,
        padding_mode: str | None,
    ) -> DecryptResult:
        key_id_b = _cstr(key_id, "KeyId")
        algorithm_b = _cstr(algorithm, "Algorithm")
        padding_b = _cstr(padding_mode, "PaddingMode")
        response = ctypes.POINTER(kms_decrypt_response)()
        try:
            with _ByteArgs() as args:
                self._call(
                    function,
                    *args.add(ciphertext_blob, "CiphertextBlob"),
                    key_id_b,
                    algorithm_b,
                    *args.add(iv, "Iv"),
                    *args.add(aad, "Aad"),
                    padding_b,
                    ctypes.byref(response),
                )
            r = response.contents
            return DecryptResult(
                plaintext=_take_secret(r.plaintext, r.plaintext_len),
                key_id=_take_str(r.key_id),
                key_version_id=_take_str(r.key_version_id),
                algorithm=_take_str(r.algorithm),
                padding_mode=_take_str(r.padding_mode),
                request_id=_take_str(r.request_id),
            )
        finally:
            self._lib.kms_decrypt_response_free(response)  # wipes the library's copy

    def advance_decrypt(
        self,
        ciphertext_blob: BytesLike,
        *,
        key_id: str | None = None,
        algorithm: str | None = None,
        iv: BytesLike | None = None,
        aad: BytesLike | None = None,
        padding_mode: str | None = None,
    ) -> DecryptResult:
        """AdvanceDecrypt. Without ``key_id``: opens an :meth:`advance_encrypt`
        blob, or its gateway form (the blob without its first 3 bytes:
        KeyVersionId | Iv | ciphertext || tag, as Alibaba's SDKs send it), from
        itself and ``aad`` alone; ``iv`` is then ignored, as the service ignores
        the one the SDKs send along (``algorithm`` / ``padding_mode``, when given,
        pin what the blob must be). With ``key_id``: opens :meth:`encrypt` output,
        described by algorithm, iv and padding_mode.

        The result's ``plaintext`` is a bytearray: wipe it when done."""
        return self._decrypt(
            "kms_advance_decrypt", ciphertext_blob, key_id, algorithm, iv, aad, padding_mode
        )

    def decrypt(
        self,
        ciphertext_blob: BytesLike,
        key_id: str,
        *,
        algorithm: str | None = None,
        iv: BytesLike | None = None,
        aad: BytesLike | None = None,
        padding_mode: str | None = None,
    ) -> DecryptResult:
        """Decrypt: opens :meth:`encrypt` output with the key's initial version.
        ``algorithm`` defaults to AES_GCM; ``iv`` is required for AES_GCM and
        AES_CBC. The result's ``plaintext`` is a bytearray: wipe it when done."""
        return self._decrypt(
            "kms_decrypt", ciphertext_blob, key_id, algorithm, iv, aad, padding_mode
        )

    # -- data keys -----------------------------------------------------------------------
    def _data_key(
        self, function: str, key_id: str, number_of_bytes: int, aad: BytesLike | None
    ) -> DataKey:
        key_id_b = _cstr(key_id, "KeyId")
        n = _check_range(number_of_bytes, 0, _UINT32_MAX, "NumberOfBytes")
        response = ctypes.POINTER(kms_data_key_response)()
        try:
            with _ByteArgs() as args:
                self._call(function, key_id_b, n, *args.add(aad, "Aad"), ctypes.byref(response))
            r = response.contents
            return DataKey(
                plaintext=_take_secret(r.plaintext, r.plaintext_len),
                ciphertext_blob=_take_bytes(r.ciphertext_blob, r.ciphertext_blob_len),
                key_id=_take_str(r.key_id),
                key_version_id=_take_str(r.key_version_id),
                algorithm=_take_str(r.algorithm),
                iv=_take_bytes(r.iv, r.iv_len),
                request_id=_take_str(r.request_id),
            )
        finally:
            self._lib.kms_data_key_response_free(response)  # wipes the library's copy

    def advance_generate_data_key(
        self, key_id: str, *, number_of_bytes: int = 32, aad: BytesLike | None = None
    ) -> DataKey:
        """AdvanceGenerateDataKey: a random data key of ``number_of_bytes`` (1 to
        1024; 0 means 32), in plaintext and encrypted with the primary version
        into a blob that :meth:`advance_decrypt` opens (with the same ``aad``)."""
        return self._data_key("kms_advance_generate_data_key", key_id, number_of_bytes, aad)

    def generate_data_key(
        self, key_id: str, *, number_of_bytes: int = 32, aad: BytesLike | None = None
    ) -> DataKey:
        """GenerateDataKey: as :meth:`advance_generate_data_key`, with the initial
        version; the blob is bare ciphertext || tag for :meth:`decrypt`."""
        return self._data_key("kms_generate_data_key", key_id, number_of_bytes, aad)

    # -- versions and rotation -----------------------------------------------------------
    def rotate_key(self, key_id: str) -> str:
        """CreateKeyVersion: a new primary version; returns its KeyVersionId."""
        return self._call_str("kms_key_rotate", _cstr(key_id, "KeyId"))

    def update_rotation_policy(
        self, key_id: str, enable: bool, interval: str | datetime.timedelta | None = None
    ) -> None:
        """UpdateRotationPolicy. ``interval``: ``"<n>d"``, ``"<n>h"``, ``"<n>m"``,
        ``"<n>s"`` or a timedelta, 7 to 365 days; None keeps the earlier one
        (required the first time rotation is enabled)."""
        self._call(
            "kms_update_rotation_policy", _cstr(key_id, "KeyId"), _flag(enable), _interval(interval)
        )

    # -- keys ----------------------------------------------------------------------------
    def create_key(
        self,
        *,
        key_spec: str | None = None,
        key_usage: str | None = None,
        origin: str | None = None,
        description: str | None = None,
        key_id: str | None = None,
        algorithms: str | Iterable[str] | None = None,
    ) -> str:
        """CreateKey (``kms_create_key_with_options``); returns the KeyId.

        ``key_spec``: ``"Aliyun_AES_256"`` (default), ``"Aliyun_AES_192"``,
        ``"Aliyun_AES_128"``, ``"Aliyun_SM4"``, ``"RSA_2048"``…, ``"EC_P256"``,
        ``"EC_P256K"``. ``origin``: ``"Aliyun_KMS"`` (default) or ``"EXTERNAL"``
        (PendingImport until :meth:`import_key_material` or
        :meth:`import_key_version`). ``key_id``: None for a fresh KeyId, else the
        KeyId of the cloud key this one mirrors (EXTERNAL only; 1 to 64 of
        ``[A-Za-z0-9-]``). ``algorithms``: None for the spec's GCM only
        (``AES_GCM`` / ``SM4_GCM``), else the algorithms the key permits, as a
        list (``["AES_GCM", "AES_CBC", "AES_ECB"]``) or a comma list; any other
        algorithm is then :class:`~localkms.UnsupportedOperationError`. CBC and
        ECB have no integrity: allow them only for legacy ciphertext.
        Every argument left None is passed as NULL, the library's default.
        """
        options = kms_create_key_options(
            key_spec=_cstr(key_spec, "KeySpec"),
            key_usage=_cstr(key_usage, "KeyUsage"),
            origin=_cstr(origin, "Origin"),
            description=_cstr(description, "Description"),
            key_id=_cstr(key_id, "KeyId"),
            algorithms=_algorithms(algorithms),
        )
        return self._call_str("kms_create_key_with_options", ctypes.byref(options))

    def import_key_material(
        self, key_id: str, material: BytesLike, expire_unix: int = 0
    ) -> None:
        """ImportKeyMaterial: plain material (AES: 32/24/16 bytes; SM4: 16) for an
        EXTERNAL key. ``expire_unix``: 0 for never, else a future Unix time."""
        key_id_b = _cstr(key_id, "KeyId")
        expire = _check_range(expire_unix, _INT64_MIN, _INT64_MAX, "KeyMaterialExpireUnix")
        with _ByteArgs() as args:
            self._call(
                "kms_import_key_material", key_id_b, *args.add(material, "KeyMaterial"), expire
            )

    def import_key_version(
        self,
        key_id: str,
        key_version_id: str | None,
        material: BytesLike,
        expire_unix: int = 0,
    ) -> None:
        """ImportKeyVersion (``kms_import_key_version``): ``material`` for the
        EXTERNAL key ``key_id`` as the version named ``key_version_id`` (any 36
        printable ASCII characters, such as the KeyVersionId of the cloud key
        being mirrored, so that the cloud's ciphertext opens here; None for a
        fresh one). The first version imported is the initial one (Encrypt's),
        each later one becomes primary (AdvanceEncrypt's). The same id with the
        same material again is accepted; with other material it is
        :class:`~localkms.InvalidKeyMaterialError`. ``expire_unix`` (0: never)
        applies to the whole key."""
        key_id_b = _cstr(key_id, "KeyId")
        version_b = _cstr(key_version_id, "KeyVersionId")
        expire = _check_range(expire_unix, _INT64_MIN, _INT64_MAX, "KeyMaterialExpireUnix")
        with _ByteArgs() as args:
            self._call(
                "kms_import_key_version",
                key_id_b,
                version_b,
                *args.add(material, "KeyMaterial"),
                expire,
            )

    def enable_key(self, key_id: str) -> None:
        """EnableKey."""
        self._call("kms_enable_key", _cstr(key_id, "KeyId"))

    def disable_key(self, key_id: str) -> None:
        """DisableKey."""
        self._call("kms_disable_key", _cstr(key_id, "KeyId"))

    def schedule_key_deletion(self, key_id: str, pending_window_in_days: int) -> None:
        """ScheduleKeyDeletion (7 to 366 days)."""
        days = _check_range(pending_window_in_days, _INT32_MIN, _INT32_MAX, "PendingWindowInDays")
        self._call("kms_schedule_key_deletion", _cstr(key_id, "KeyId"), days)

    def cancel_key_deletion(self, key_id: str) -> None:
        """CancelKeyDeletion."""
        self._call("kms_cancel_key_deletion", _cstr(key_id, "KeyId"))

    # -- aliases -------------------------------------------------------------------------
    def create_alias(self, alias_name: str, key_id: str) -> None:
        """CreateAlias: ``alias/...`` names ``key_id``."""
        self._call("kms_create_alias", _cstr(alias_name, "AliasName"), _cstr(key_id, "KeyId"))

    def update_alias(self, alias_name: str, key_id: str) -> None:
        """UpdateAlias: an existing alias names another key."""
        self._call("kms_update_alias", _cstr(alias_name, "AliasName"), _cstr(key_id, "KeyId"))

    def delete_alias(self, alias_name: str) -> None:
        """DeleteAlias."""
        self._call("kms_delete_alias", _cstr(alias_name, "AliasName"))

    # -- documents -----------------------------------------------------------------------
    def describe_key(self, key_id: str) -> dict[str, Any]:
        """DescribeKey: ``{"KeyMetadata": {...}, "RequestId": ...}``."""
        return _document(self._call_str("kms_describe_key", _cstr(key_id, "KeyId")))

    def list_keys(self) -> dict[str, Any]:
        """ListKeys: ``{"Keys": {"Key": [{"KeyId": ...}]}, "TotalCount", ...}``."""
        return _document(self._call_str("kms_list_keys"))

    def list_key_versions(self, key_id: str) -> dict[str, Any]:
        """ListKeyVersions: ``{"KeyVersions": {"KeyVersion": [...]}, ...}``,
        the initial version first."""
        return _document(self._call_str("kms_list_key_versions", _cstr(key_id, "KeyId")))

    def list_aliases(self) -> dict[str, Any]:
        """ListAliases: ``{"Aliases": {"Alias": [{"AliasName", "KeyId"}]}, ...}``."""
        return _document(self._call_str("kms_list_aliases"))

    # -- about the library ---------------------------------------------------------------
    @staticmethod
    def version() -> str:
        """The library version (``kms_version``)."""
        return version()
