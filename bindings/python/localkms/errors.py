"""Exceptions raised by :mod:`localkms`.

Every failed library call raises a :class:`KmsError` subclass carrying what the
library put into its ``kms_error``: ``status`` (a :class:`Status`), ``code``
(the service's code string, ``"Forbidden.KeyNotFound"``), ``http_status``
(404), ``message`` and ``request_id``.

The classes follow the status numbers' groups, so callers can catch a whole
group or one code::

    KmsError
    ├── BadRequestError           1xx, HTTP 400
    │   ├── InvalidParameterError         100 InvalidParameter
    │   ├── MissingParameterError         101 MissingParameter
    │   ├── UnsupportedOperationError     102 Rejected.UnsupportedOperation
    │   ├── AliasAlreadyExistsError       103 AliasAlreadyExists
    │   ├── InvalidKeyMaterialError       104 InvalidKeyMaterial
    │   └── InvalidCiphertextError        105 InvalidCiphertext
    ├── NotFoundError             2xx, HTTP 404
    │   ├── KeyNotFoundError              200 Forbidden.KeyNotFound
    │   ├── AliasNotFoundError            201 Forbidden.AliasNotFound
    │   └── OnlySymmetricKeySupportedError 202 Forbidden.OnlySymmetricKeySupported
    ├── KeyStateError             3xx, HTTP 409
    │   ├── KeyDisabledError              300 Rejected.Disabled
    │   ├── KeyPendingDeletionError       301 Rejected.PendingDeletion
    │   └── KeyPendingImportError         302 Rejected.PendingImport
    ├── KeyStoreError             4xx
    │   ├── KeyStoreIOError               400 KeyStore.IOError (500)
    │   ├── KeyStoreCorruptedError        401 KeyStore.Corrupted (500)
    │   └── KeyStoreAccessDeniedError     402 KeyStore.AccessDenied (403)
    └── InternalError             5xx: 500 InternalFailure

:class:`LibraryNotFoundError` (an :class:`OSError`, not a KmsError) means the
shared library could not be found or loaded.
"""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """``enum kms_status``: the numbers are permanent."""

    OK = 0
    INVALID_PARAMETER = 100
    MISSING_PARAMETER = 101
    UNSUPPORTED_OPERATION = 102
    ALIAS_ALREADY_EXISTS = 103
    INVALID_KEY_MATERIAL = 104
    INVALID_CIPHERTEXT = 105
    KEY_NOT_FOUND = 200
    ALIAS_NOT_FOUND = 201
    ONLY_SYMMETRIC_KEY_SUPPORTED = 202
    KEY_DISABLED = 300
    KEY_PENDING_DELETION = 301
    KEY_PENDING_IMPORT = 302
    KEYSTORE_IO = 400
    KEYSTORE_CORRUPT = 401
    KEYSTORE_ACCESS_DENIED = 402
    INTERNAL_FAILURE = 500


class LibraryNotFoundError(OSError):
    """The localkms shared library cannot be found or loaded (see LOCALKMS_LIBRARY)."""


class KmsError(Exception):
    """A failed localkms call.

    Attributes: ``status`` (:class:`Status`, or a plain int for a number this
    module does not know), ``code`` (``"Forbidden.KeyNotFound"``),
    ``http_status`` (404), ``message`` and ``request_id`` (the failed call's
    RequestId; ``None`` for arguments refused before reaching the library).
    """

    def __init__(
        self,
        status: int,
        code: str,
        http_status: int,
        message: str,
        request_id: str | None = None,
    ) -> None:
        super().__init__(status, code, http_status, message, request_id)
        try:
            self.status: Status | int = Status(status)
        except ValueError:
            self.status = status
        self.code = code
        self.http_status = http_status
        self.message = message
        self.request_id = request_id

    def __str__(self) -> str:
        text = f"{self.code} (HTTP {self.http_status}): {self.message}"
        if self.request_id:
            text += f" [RequestId {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={int(self.status)}, code={self.code!r}, "
            f"http_status={self.http_status}, message={self.message!r}, "
            f"request_id={self.request_id!r})"
        )


# --- the groups (status // 100) --------------------------------------------------
class BadRequestError(KmsError):
    """1xx: the request is malformed (HTTP 400)."""


class NotFoundError(KmsError):
    """2xx: the key, alias or key version does not exist, or is not symmetric (HTTP 404)."""


class KeyStateError(KmsError):
    """3xx: the key's state forbids the operation (HTTP 409)."""


class KeyStoreError(KmsError):
    """4xx: the key store (an SQLite file or a PostgreSQL database) cannot be used."""


class InternalError(KmsError):
    """5xx: ``InternalFailure`` (a caught panic, a failed random source)."""


# --- one class per status --------------------------------------------------------
class InvalidParameterError(BadRequestError):
    """``InvalidParameter``: a value is malformed or out of range."""


class MissingParameterError(BadRequestError):
    """``MissingParameter``: a required argument is missing."""


class UnsupportedOperationError(BadRequestError):
    """``Rejected.UnsupportedOperation``, e.g. rotating an EXTERNAL key."""


class AliasAlreadyExistsError(BadRequestError):
    """``AliasAlreadyExists``."""


class InvalidKeyMaterialError(BadRequestError):
    """``InvalidKeyMaterial``: wrong size, or other material than the key had."""


class InvalidCiphertextError(BadRequestError):
    """``InvalidCiphertext``: every way a ciphertext can fail to decrypt."""


class KeyNotFoundError(NotFoundError):
    """``Forbidden.KeyNotFound``."""


class AliasNotFoundError(NotFoundError):
    """``Forbidden.AliasNotFound``."""


class OnlySymmetricKeySupportedError(NotFoundError):
    """``Forbidden.OnlySymmetricKeySupported``: the key is asymmetric."""


class KeyDisabledError(KeyStateError):
    """``Rejected.Disabled``."""


class KeyPendingDeletionError(KeyStateError):
    """``Rejected.PendingDeletion``."""


class KeyPendingImportError(KeyStateError):
    """``Rejected.PendingImport``: an EXTERNAL key without (unexpired) material."""


class KeyStoreIOError(KeyStoreError):
    """``KeyStore.IOError``: the store is missing, or cannot be read, written or reached."""


class KeyStoreCorruptedError(KeyStoreError):
    """``KeyStore.Corrupted``: not a store, damaged, or of a newer format."""


class KeyStoreAccessDeniedError(KeyStoreError):
    """``KeyStore.AccessDenied``: wrong master key, or an unsafe master-key file."""


# status -> (class, code string, HTTP status), as in the README's table.
STATUS_TABLE: dict[Status, tuple[type[KmsError], str, int]] = {
    Status.INVALID_PARAMETER: (InvalidParameterError, "InvalidParameter", 400),
    Status.MISSING_PARAMETER: (MissingParameterError, "MissingParameter", 400),
    Status.UNSUPPORTED_OPERATION: (UnsupportedOperationError, "Rejected.UnsupportedOperation", 400),
    Status.ALIAS_ALREADY_EXISTS: (AliasAlreadyExistsError, "AliasAlreadyExists", 400),
    Status.INVALID_KEY_MATERIAL: (InvalidKeyMaterialError, "InvalidKeyMaterial", 400),
    Status.INVALID_CIPHERTEXT: (InvalidCiphertextError, "InvalidCiphertext", 400),
    Status.KEY_NOT_FOUND: (KeyNotFoundError, "Forbidden.KeyNotFound", 404),
    Status.ALIAS_NOT_FOUND: (AliasNotFoundError, "Forbidden.AliasNotFound", 404),
    Status.ONLY_SYMMETRIC_KEY_SUPPORTED: (
        OnlySymmetricKeySupportedError,
        "Forbidden.OnlySymmetricKeySupported",
        404,
    ),
    Status.KEY_DISABLED: (KeyDisabledError, "Rejected.Disabled", 409),
    Status.KEY_PENDING_DELETION: (KeyPendingDeletionError, "Rejected.PendingDeletion", 409),
    Status.KEY_PENDING_IMPORT: (KeyPendingImportError, "Rejected.PendingImport", 409),
    Status.KEYSTORE_IO: (KeyStoreIOError, "KeyStore.IOError", 500),
    Status.KEYSTORE_CORRUPT: (KeyStoreCorruptedError, "KeyStore.Corrupted", 500),
    Status.KEYSTORE_ACCESS_DENIED: (KeyStoreAccessDeniedError, "KeyStore.AccessDenied", 403),
    Status.INTERNAL_FAILURE: (InternalError, "InternalFailure", 500),
}

_GROUPS: dict[int, type[KmsError]] = {
    1: BadRequestError,
    2: NotFoundError,
    3: KeyStateError,
    4: KeyStoreError,
    5: InternalError,
}


def error_class(status: int) -> type[KmsError]:
    """The exception class for a status number: its own class, else its group's
    (a number a newer library added), else :class:`KmsError`."""
    try:
        return STATUS_TABLE[Status(status)][0]
    except (ValueError, KeyError):
        return _GROUPS.get(status // 100, KmsError)


def make_error(
    status: int, code: str, http_status: int, message: str, request_id: str | None = None
) -> KmsError:
    """Builds the right :class:`KmsError` subclass for `status`."""
    return error_class(status)(status, code, http_status, message, request_id)
