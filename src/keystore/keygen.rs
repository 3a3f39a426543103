//! Fresh key material for every spec, from the operating system's generator.
//!
//! Asymmetric keys are real key pairs (RustCrypto's `rsa`, `p256`, `k256`) kept as
//! PKCS#8 DER, so that a key of such a spec is honestly asymmetric: the symmetric
//! operations refuse it with `Forbidden.OnlySymmetricKeySupported`.

use rand::rngs::OsRng;
use zeroize::Zeroizing;

use super::model::{KeySpec, Material};
use crate::error::{Error, Result};
use crate::random::fill_random;

pub fn generate_material(spec: KeySpec) -> Result<Material> {
    if let (Some(len), Some(family)) = (spec.symmetric_key_len(), spec.cipher_family()) {
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        fill_random(&mut bytes)?;
        let material = Material::symmetric(family, bytes)?;
        // Fresh material is a new primary version, the one the next encrypt uses:
        // its cipher is expanded here, by the writer, not by that encrypt (on
        // another thread, in its latency) after the change is published.
        let _ = material.cipher();
        return Ok(material);
    }
    let der = match spec {
        KeySpec::Rsa2048 => rsa_pkcs8(2048)?,
        KeySpec::Rsa3072 => rsa_pkcs8(3072)?,
        KeySpec::Rsa4096 => rsa_pkcs8(4096)?,
        KeySpec::EcP256 => {
            use p256::pkcs8::EncodePrivateKey;
            let secret = p256::SecretKey::random(&mut OsRng);
            Zeroizing::new(
                secret
                    .to_pkcs8_der()
                    .map_err(encode_failed)?
                    .as_bytes()
                    .to_vec(),
            )
        }
        KeySpec::EcP256K => {
            use k256::pkcs8::EncodePrivateKey;
            let secret = k256::SecretKey::random(&mut OsRng);
            Zeroizing::new(
                secret
                    .to_pkcs8_der()
                    .map_err(encode_failed)?
                    .as_bytes()
                    .to_vec(),
            )
        }
        KeySpec::Aes128 | KeySpec::Aes192 | KeySpec::Aes256 | KeySpec::Sm4 => {
            return Err(Error::internal(
                "A symmetric spec reached the key-pair generator.",
            ))
        }
    };
    Ok(Material::asymmetric(der))
}

fn rsa_pkcs8(bits: usize) -> Result<Zeroizing<Vec<u8>>> {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut OsRng, bits)
        .map_err(|e| Error::internal(format!("RSA key generation failed: {e}")))?;
    Ok(Zeroizing::new(
        key.to_pkcs8_der()
            .map_err(encode_failed)?
            .as_bytes()
            .to_vec(),
    ))
}

fn encode_failed(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("Encoding a private key failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_material_has_the_spec_length_and_is_random() {
        for (spec, len) in [
            (KeySpec::Aes128, 16),
            (KeySpec::Aes192, 24),
            (KeySpec::Aes256, 32),
            (KeySpec::Sm4, 16),
        ] {
            let a = generate_material(spec).unwrap();
            let b = generate_material(spec).unwrap();
            assert_eq!(a.bytes().len(), len);
            assert_ne!(a.bytes(), b.bytes());
            assert!(a.cipher_is_expanded(), "expanded before it is published");
            assert!(a.cipher().is_some());
        }
    }

    #[test]
    fn asymmetric_material_is_a_real_private_key() {
        for spec in [KeySpec::EcP256, KeySpec::EcP256K, KeySpec::Rsa2048] {
            let m = generate_material(spec).unwrap();
            assert!(m.cipher().is_none());
            // PKCS#8 is a DER SEQUENCE.
            assert_eq!(m.bytes()[0], 0x30, "{spec:?}");
        }
        use p256::pkcs8::DecodePrivateKey;
        let m = generate_material(KeySpec::EcP256).unwrap();
        assert!(p256::SecretKey::from_pkcs8_der(m.bytes()).is_ok());
    }
}
