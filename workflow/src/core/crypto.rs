//! Encryption at rest (AES-256-GCM) for secrets such as connector passwords, and
//! later for collected personal data. The key comes from configuration; every value
//! gets a fresh random nonce, stored in front of the ciphertext.

use aes_gcm::aead::{Aead, Generate, Key, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::error::{Error, Result};

const NONCE_LEN: usize = 12;

/// Why a configured key cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "the encryption key must be 32 bytes, base64-encoded (44 characters); generate one with `openssl rand -base64 32`"
)]
pub struct BadKey;

/// The cipher for data at rest.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
    /// Key of [`Cipher::fingerprint`], derived from the key for data at rest.
    fingerprint_key: [u8; 32],
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    // HMAC takes keys of any length.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    /// A cipher from a base64-encoded 32-byte key.
    pub fn from_base64(key: &str) -> std::result::Result<Self, BadKey> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| BadKey)?;
        let key = Key::<Aes256Gcm>::try_from(bytes.as_slice()).map_err(|_| BadKey)?;
        Ok(Self {
            fingerprint_key: hmac(&bytes, &[b"auskunft fingerprint key v1"]),
            aead: Aes256Gcm::new(&key),
        })
    }

    /// A new random key, base64-encoded.
    pub fn generate_key() -> String {
        STANDARD.encode(Key::<Aes256Gcm>::generate())
    }

    /// A keyed fingerprint (HMAC-SHA256, hex) of `value` within `scope` (e.g. a
    /// request id): equal values in one scope match without storing the value or a
    /// plain hash of it; without the key nothing can be guessed from it, and the same
    /// value in two scopes gives two unrelated fingerprints.
    pub fn fingerprint(&self, scope: &[u8], value: &[u8]) -> String {
        hex::encode(hmac(&self.fingerprint_key, &[scope, value]))
    }

    /// Encrypts `plaintext`; the result is base64 of nonce || ciphertext || tag.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String> {
        Ok(STANDARD.encode(self.seal(plaintext)?))
    }

    /// Decrypts what [`Cipher::encrypt`] produced; INTERNAL if the key is wrong or
    /// the value was altered.
    pub fn decrypt(&self, sealed: &str) -> Result<Vec<u8>> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| Error::Internal("encrypted value is not base64".into()))?;
        self.open(&bytes)
    }

    /// Like [`Cipher::encrypt`], in URL-safe base64 without padding (for tokens in
    /// paths).
    pub fn encrypt_url_safe(&self, plaintext: &[u8]) -> Result<String> {
        Ok(URL_SAFE_NO_PAD.encode(self.seal(plaintext)?))
    }

    /// Decrypts what [`Cipher::encrypt_url_safe`] produced.
    pub fn decrypt_url_safe(&self, sealed: &str) -> Result<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| Error::Internal("encrypted value is not URL-safe base64".into()))?;
        self.open(&bytes)
    }

    /// nonce || ciphertext || tag.
    fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        // From the thread's CSPRNG (seeded by the operating system and reseeded
        // periodically): a system call per value cost more than the sealing itself
        // when a collection stores a few hundred values.
        let mut nonce = [0u8; NONCE_LEN];
        rand::Rng::fill(&mut rand::rng(), &mut nonce);
        let nonce = Nonce::from(nonce);
        let sealed = self
            .aead
            .encrypt(&nonce, plaintext)
            .map_err(|_| Error::Internal("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        if bytes.len() < NONCE_LEN {
            return Err(Error::Internal("encrypted value is truncated".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| Error::Internal("bad nonce".into()))?;
        self.aead.decrypt(&nonce, ciphertext).map_err(|_| {
            Error::Internal(
                "cannot decrypt a stored secret: wrong encryption key, or the value was altered"
                    .into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_tampering_is_detected() {
        let cipher = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        let sealed = cipher.encrypt(b"s3cret").unwrap();
        assert_eq!(cipher.decrypt(&sealed).unwrap(), b"s3cret");
        assert_ne!(
            cipher.encrypt(b"s3cret").unwrap(),
            sealed,
            "fresh nonce per value"
        );
        let mut bytes = STANDARD.decode(&sealed).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        assert!(cipher.decrypt(&STANDARD.encode(bytes)).is_err());
        let other = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        assert!(
            other.decrypt(&sealed).is_err(),
            "another key cannot read it"
        );
    }

    #[test]
    fn fingerprints_are_keyed_and_scoped() {
        let cipher = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        let a = cipher.fingerprint(b"request-1", b"erika@example.de");
        assert_eq!(a.len(), 64);
        assert_eq!(a, cipher.fingerprint(b"request-1", b"erika@example.de"));
        assert_ne!(a, cipher.fingerprint(b"request-2", b"erika@example.de"));
        assert_ne!(a, cipher.fingerprint(b"request-1", b"erika@example.com"));
        assert_ne!(a, cipher.fingerprint(b"request-1e", b"rika@example.de"));
        let other = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        assert_ne!(a, other.fingerprint(b"request-1", b"erika@example.de"));
        assert_ne!(
            a,
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"erika@example.de"))
        );
    }

    #[test]
    fn bad_keys_are_refused() {
        assert!(Cipher::from_base64("short").is_err());
        assert!(Cipher::from_base64(&STANDARD.encode([0u8; 16])).is_err());
        assert!(Cipher::from_base64(&STANDARD.encode([7u8; 32])).is_ok());
    }

    #[test]
    fn url_safe_tokens_round_trip_and_stay_in_a_path_segment() {
        let cipher = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        for plaintext in [&b"{}"[..], &[0xfb; 100][..], b""] {
            let token = cipher.encrypt_url_safe(plaintext).unwrap();
            assert!(!token.contains(['+', '/', '=']), "{token}");
            assert_eq!(cipher.decrypt_url_safe(&token).unwrap(), plaintext);
        }
        assert!(cipher.decrypt_url_safe("not/base64").is_err());
    }
}
