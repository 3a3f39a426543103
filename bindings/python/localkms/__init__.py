"""localkms for Python: Alibaba Cloud KMS symmetric encryption, offline, over
ctypes and the localkms shared library (``liblocalkms.so.0``).

::

    import localkms

    with localkms.Client.in_memory() as kms:
        key_id = kms.create_key(description="my key")
        kms.create_alias("alias/app", key_id)
        sealed = kms.advance_encrypt("alias/app", b"secret", aad=b"ctx")
        opened = kms.advance_decrypt(sealed.ciphertext_blob, aad=b"ctx")
        print(bytes(opened.plaintext), opened.key_version_id)
        opened.wipe()  # plaintext is a bytearray: zero it when done

The library is found through the environment variable ``LOCALKMS_LIBRARY`` (a
full path), else in the folder ``pkg-config --variable=libdir localkms`` names
(where ``make install`` put it), else by the dynamic loader's own search for
``liblocalkms.so.0``; otherwise the first call raises
:class:`LibraryNotFoundError`, which names all three.

Failures raise :class:`KmsError` subclasses (see :mod:`localkms.errors`).
Plaintext results (decrypted data, data keys) are ``bytearray`` objects the
caller may, and should, zero once done (``result.wipe()``); the library's own
copies are wiped when its responses are freed, and the copies this package
makes of byte arguments are zeroed after each call.
"""

from .client import (
    Client,
    DataKey,
    DecryptResult,
    EncryptResult,
    status_code,
    status_http_status,
    version,
)
from .errors import (
    AliasAlreadyExistsError,
    AliasNotFoundError,
    BadRequestError,
    InternalError,
    InvalidCiphertextError,
    InvalidKeyMaterialError,
    InvalidParameterError,
    KeyDisabledError,
    KeyNotFoundError,
    KeyPendingDeletionError,
    KeyPendingImportError,
    KeyStateError,
    KeyStoreAccessDeniedError,
    KeyStoreCorruptedError,
    KeyStoreError,
    KeyStoreIOError,
    KmsError,
    LibraryNotFoundError,
    MissingParameterError,
    NotFoundError,
    OnlySymmetricKeySupportedError,
    Status,
    UnsupportedOperationError,
)

__all__ = [
    "Client",
    "EncryptResult",
    "DecryptResult",
    "DataKey",
    "version",
    "status_code",
    "status_http_status",
    "Status",
    "KmsError",
    "LibraryNotFoundError",
    "BadRequestError",
    "InvalidParameterError",
    "MissingParameterError",
    "UnsupportedOperationError",
    "AliasAlreadyExistsError",
    "InvalidKeyMaterialError",
    "InvalidCiphertextError",
    "NotFoundError",
    "KeyNotFoundError",
    "AliasNotFoundError",
    "OnlySymmetricKeySupportedError",
    "KeyStateError",
    "KeyDisabledError",
    "KeyPendingDeletionError",
    "KeyPendingImportError",
    "KeyStoreError",
    "KeyStoreIOError",
    "KeyStoreCorruptedError",
    "KeyStoreAccessDeniedError",
    "InternalError",
]
