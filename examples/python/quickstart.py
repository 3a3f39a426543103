"""The Python binding's first program (bindings/python/README.md): a key, an
alias, a blob sealed and opened, and a failure caught as a KmsError."""

import localkms

with localkms.Client.in_memory() as kms:
    key_id = kms.create_key(description="my key")
    kms.create_alias("alias/app", key_id)
    sealed = kms.advance_encrypt("alias/app", b"secret", aad=b"ctx")
    opened = kms.advance_decrypt(sealed.ciphertext_blob, aad=b"ctx")
    print(f"localkms {localkms.version()}: {bytes(opened.plaintext)!r} with {opened.key_version_id}")
    opened.wipe()  # the plaintext is a bytearray: zero it when done
    try:
        kms.advance_decrypt(sealed.ciphertext_blob)  # no aad
    except localkms.KmsError as e:
        print(f"without the aad: {e.code} (HTTP {e.http_status})")
