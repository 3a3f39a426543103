"""ctypes declarations for ``include/localkms.h``: structs, constants, and the
argtypes/restype of every function in the header.

Nothing here is public API; use :mod:`localkms` instead. The library is loaded
lazily, on the first call of :func:`get`, so ``import localkms`` works even
where the shared library is absent.

Library discovery, in order (:func:`locate`):

1. the environment variable ``LOCALKMS_LIBRARY``: a full path to the shared
   library (``/opt/localkms/lib/liblocalkms.so.0``);
2. the ``lib`` folder ``make install`` put it in, as pkg-config reports it
   (``pkg-config --variable=libdir localkms``, so ``PKG_CONFIG_PATH`` applies);
3. the dynamic loader's own search for ``liblocalkms.so.0`` (``LD_LIBRARY_PATH``,
   the ``ldconfig`` cache, the system folders);
4. otherwise :class:`~localkms.errors.LibraryNotFoundError`, naming all three.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_void_p,
)

from .errors import LibraryNotFoundError

# --- constants (#define in localkms.h) -----------------------------------------
KMS_KEY_ID_LEN = 25
KMS_KEY_VERSION_ID_LEN = 36
KMS_GCM_IV_LEN = 12
KMS_GCM_TAG_LEN = 16
KMS_CBC_IV_LEN = 16
KMS_MAX_AAD_LEN = 8192
KMS_BLOB_HEADER_LEN = 39
KMS_MASTER_KEY_LEN = 32
KMS_ERROR_CODE_SIZE = 64
KMS_ERROR_MESSAGE_SIZE = 512
KMS_ERROR_REQUEST_ID_SIZE = 40
KMS_MAX_PLAINTEXT_LEN = 68719476704  # AES-GCM's limit, 2**36 - 32
KMS_MAX_CIPHERTEXT_BLOB_LEN = 68719476775
KMS_DEFAULT_DATA_KEY_LEN = 32
KMS_MAX_DATA_KEY_LEN = 1024

# --- types ---------------------------------------------------------------------
# kms_status is a uint32_t (a typedef of uint32_t before C23).
kms_status = c_uint32


class kms_client(Structure):
    """Opaque: only ever handled through POINTER(kms_client)."""


kms_client_p = POINTER(kms_client)


class kms_open_options(Structure):
    _fields_ = [
        ("keystore_path", c_char_p),  # caller-owned input: c_char_p is right here
        ("master_key", POINTER(c_uint8)),
        ("master_key_len", c_size_t),
        ("master_key_file", c_char_p),  # caller-owned input
        ("create_if_missing", c_int),  # a flag: 0 = false, any other value = true
        ("keystore_url", c_char_p),  # caller-owned input: postgresql://..., or NULL
    ]


class kms_error(Structure):
    _fields_ = [
        ("status", kms_status),
        ("http_status", c_uint16),
        ("code", c_char * KMS_ERROR_CODE_SIZE),
        ("message", c_char * KMS_ERROR_MESSAGE_SIZE),
        ("request_id", c_char * KMS_ERROR_REQUEST_ID_SIZE),
    ]


# int64_t (*kms_clock_fn)(void *context)
kms_clock_fn = CFUNCTYPE(c_int64, c_void_p)

# Library-owned strings are POINTER(c_char), never c_char_p: ctypes would turn a
# c_char_p into a bytes object on every read and the pointer would be lost.
_owned_str = POINTER(c_char)


class kms_encrypt_response(Structure):
    _fields_ = [
        ("ciphertext_blob", POINTER(c_uint8)),
        ("ciphertext_blob_len", c_size_t),
        ("key_id", _owned_str),
        ("key_version_id", _owned_str),
        ("algorithm", _owned_str),
        ("iv", POINTER(c_uint8)),
        ("iv_len", c_size_t),
        ("padding_mode", _owned_str),
        ("request_id", _owned_str),
    ]


class kms_decrypt_response(Structure):
    _fields_ = [
        ("plaintext", POINTER(c_uint8)),
        ("plaintext_len", c_size_t),
        ("key_id", _owned_str),
        ("key_version_id", _owned_str),
        ("algorithm", _owned_str),
        ("padding_mode", _owned_str),
        ("request_id", _owned_str),
    ]


class kms_data_key_response(Structure):
    _fields_ = [
        ("plaintext", POINTER(c_uint8)),
        ("plaintext_len", c_size_t),
        ("ciphertext_blob", POINTER(c_uint8)),
        ("ciphertext_blob_len", c_size_t),
        ("key_id", _owned_str),
        ("key_version_id", _owned_str),
        ("algorithm", _owned_str),
        ("iv", POINTER(c_uint8)),
        ("iv_len", c_size_t),
        ("request_id", _owned_str),
    ]


class kms_create_key_options(Structure):
    """Every field is a caller-owned ``const char *`` input; None (NULL) is the
    default."""

    _fields_ = [
        ("key_spec", c_char_p),
        ("key_usage", c_char_p),
        ("origin", c_char_p),
        ("description", c_char_p),
        ("key_id", c_char_p),  # the KeyId of a mirrored cloud key (EXTERNAL only)
        ("algorithms", c_char_p),  # a comma list, e.g. b"AES_GCM,AES_CBC,AES_ECB"
    ]


# Shorthands for the parameter lists below.
_client = kms_client_p
_str = c_char_p  # const char * input (NULL or NUL-terminated, caller-owned)
_bytes = POINTER(c_uint8)  # const uint8_t * input
_err = POINTER(kms_error)
_str_out = POINTER(_owned_str)  # char ** output, freed with kms_string_free

# name -> (restype, argtypes), in header order. Every function in localkms.h is
# here; tests/test_localkms.py checks this table against the header.
FUNCTIONS: dict[str, tuple[object, list[object]]] = {
    # client
    "kms_client_open": (kms_status, [POINTER(kms_open_options), POINTER(kms_client_p), _err]),
    "kms_client_free": (None, [_client]),
    "kms_client_set_clock": (kms_status, [_client, kms_clock_fn, c_void_p, _err]),
    # about the library (static strings: c_char_p is right, they are never freed)
    "kms_version": (c_char_p, []),
    "kms_status_code": (c_char_p, [c_uint32]),
    "kms_status_http_status": (c_uint16, [c_uint32]),
    # encrypt / decrypt
    "kms_advance_encrypt": (
        kms_status,
        [_client, _str, _bytes, c_size_t, _str, _bytes, c_size_t, _bytes, c_size_t, _str,
         POINTER(POINTER(kms_encrypt_response)), _err],
    ),
    "kms_encrypt": (
        kms_status,
        [_client, _str, _bytes, c_size_t, _str, _bytes, c_size_t, _bytes, c_size_t, _str,
         POINTER(POINTER(kms_encrypt_response)), _err],
    ),
    "kms_encrypt_response_free": (None, [POINTER(kms_encrypt_response)]),
    "kms_advance_decrypt": (
        kms_status,
        [_client, _bytes, c_size_t, _str, _str, _bytes, c_size_t, _bytes, c_size_t, _str,
         POINTER(POINTER(kms_decrypt_response)), _err],
    ),
    "kms_decrypt": (
        kms_status,
        [_client, _bytes, c_size_t, _str, _str, _bytes, c_size_t, _bytes, c_size_t, _str,
         POINTER(POINTER(kms_decrypt_response)), _err],
    ),
    "kms_decrypt_response_free": (None, [POINTER(kms_decrypt_response)]),
    # data keys
    "kms_advance_generate_data_key": (
        kms_status,
        [_client, _str, c_uint32, _bytes, c_size_t, POINTER(POINTER(kms_data_key_response)), _err],
    ),
    "kms_generate_data_key": (
        kms_status,
        [_client, _str, c_uint32, _bytes, c_size_t, POINTER(POINTER(kms_data_key_response)), _err],
    ),
    "kms_data_key_response_free": (None, [POINTER(kms_data_key_response)]),
    # versions and rotation
    "kms_key_rotate": (kms_status, [_client, _str, _str_out, _err]),
    "kms_update_rotation_policy": (kms_status, [_client, _str, c_int, _str, _err]),
    # keys
    "kms_create_key": (kms_status, [_client, _str, _str, _str, _str, _str_out, _err]),
    "kms_create_key_with_options": (
        kms_status, [_client, POINTER(kms_create_key_options), _str_out, _err]
    ),
    "kms_import_key_version": (
        kms_status, [_client, _str, _str, _bytes, c_size_t, c_int64, _err]
    ),
    "kms_import_key_material": (kms_status, [_client, _str, _bytes, c_size_t, c_int64, _err]),
    "kms_enable_key": (kms_status, [_client, _str, _err]),
    "kms_disable_key": (kms_status, [_client, _str, _err]),
    "kms_schedule_key_deletion": (kms_status, [_client, _str, c_int32, _err]),
    "kms_cancel_key_deletion": (kms_status, [_client, _str, _err]),
    # aliases
    "kms_create_alias": (kms_status, [_client, _str, _str, _err]),
    "kms_update_alias": (kms_status, [_client, _str, _str, _err]),
    "kms_delete_alias": (kms_status, [_client, _str, _err]),
    # JSON documents
    "kms_describe_key": (kms_status, [_client, _str, _str_out, _err]),
    "kms_list_keys": (kms_status, [_client, _str_out, _err]),
    "kms_list_key_versions": (kms_status, [_client, _str, _str_out, _err]),
    "kms_list_aliases": (kms_status, [_client, _str_out, _err]),
    "kms_string_free": (None, [_owned_str]),
}

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None


# The library's SONAME: what an installed library is called (make install).
SONAME = "liblocalkms.so.0"


def pkg_config_libdir() -> str | None:
    """``pkg-config --variable=libdir localkms``, or None without pkg-config or
    without a localkms.pc on its path."""
    try:
        result = subprocess.run(
            ["pkg-config", "--variable=libdir", "localkms"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = result.stdout.strip()
    return libdir if result.returncode == 0 and libdir else None


def locate() -> str:
    """The path of the shared library (steps 1 and 2 of the module docs), or
    its SONAME for the dynamic loader to search (step 3)."""
    path = os.environ.get("LOCALKMS_LIBRARY")
    if path:
        if not os.path.isfile(path):
            raise LibraryNotFoundError(
                f"LOCALKMS_LIBRARY is set to {path!r}, which is not a file; set it to the "
                f"full path of {SONAME} (cargo build puts liblocalkms.so in target/debug/)"
            )
        return path
    libdir = pkg_config_libdir()
    if libdir is not None and os.path.isfile(os.path.join(libdir, SONAME)):
        return os.path.join(libdir, SONAME)
    return SONAME


def _not_found(why: str) -> LibraryNotFoundError:
    libdir = pkg_config_libdir()
    at = f"{libdir} has no {SONAME}" if libdir else "pkg-config knows no localkms"
    return LibraryNotFoundError(
        f"cannot find the localkms shared library ({why}). Looked at, in order: "
        f"1. LOCALKMS_LIBRARY (not set; set it to the full path of {SONAME}); "
        f"2. pkg-config --variable=libdir localkms ({at}; after make install "
        f"PREFIX=..., set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig); "
        f"3. the dynamic loader's search for {SONAME} (LD_LIBRARY_PATH, ldconfig)"
    )


def declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Sets restype and argtypes of every function in FUNCTIONS on `lib`."""
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            raise LibraryNotFoundError(
                f"{lib._name} does not export {name}: not a compatible localkms library"
            ) from None
        function.restype = restype
        function.argtypes = argtypes
    return lib


def get() -> ctypes.CDLL:
    """The loaded library with every function declared (loaded once, thread-safe)."""
    global _lib
    lib = _lib
    if lib is not None:
        return lib
    with _lock:
        if _lib is None:
            path = locate()
            try:
                loaded = ctypes.CDLL(path)
            except OSError as exc:
                if path == SONAME:
                    raise _not_found(str(exc)) from exc
                raise LibraryNotFoundError(f"cannot load {path!r}: {exc}") from exc
            _lib = declare(loaded)
        return _lib
