//! A store file of payload version 1 is migrated when it is opened, and no
//! store file ever holds H = AES_k(0^128), the GHASH key of an imported key, the
//! check value version 1 kept (also after the material itself expired).

use crate::crypto::CipherFamily;
use crate::keystore::PermittedModes;
use crate::keystore::Versions;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aes::cipher::Array;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use zeroize::Zeroizing;

use super::codec::{self, LEGACY_CHECK_VALUE_VERSION};
use super::master_key::MasterKey;
use super::{
    sealed, Key, KeyCheckValue, KeySpec, KeyState, KeyUsage, KeyVersion, Material, Model, Origin,
    Store,
};
use crate::ids;
use crate::service::{Client, OpenOptions};

const MASTER: [u8; 32] = [0x6d; 32];
const NOW: i64 = 1_795_867_200;
const DAY: i64 = 86_400;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("localkms-migration-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn store(&self) -> PathBuf {
        self.0.join("store.kms")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// AES_k(0^128) for a 32-byte key: GCM's GHASH key H.
fn ghash_key(material: &[u8]) -> [u8; 16] {
    let mut block = Array::default();
    aes::Aes256::new_from_slice(material)
        .unwrap()
        .encrypt_block(&mut block);
    block.into()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn external_key(material: Option<[u8; 32]>, legacy_check_value: [u8; 16]) -> Key {
    let key_id = ids::new_key_id().unwrap();
    let material = material.map(|m| {
        Arc::new(Material::symmetric(CipherFamily::Aes, Zeroizing::new(m.to_vec())).unwrap())
    });
    let state = if material.is_some() {
        KeyState::Enabled
    } else {
        KeyState::PendingImport
    };
    Key {
        versions: Versions::from_iter([KeyVersion {
            key_version_id: ids::new_key_version_id(&key_id).unwrap(),
            creation_date: NOW,
            material,
            check_value: Some(KeyCheckValue::from_bytes(legacy_check_value)),
            gcm_reserved: 0,
        }]),
        key_id,
        key_spec: KeySpec::Aes256,
        key_usage: KeyUsage::EncryptDecrypt,
        origin: Origin::External,
        description: String::new(),
        creation_date: NOW,
        state,
        delete_date: None,
        primary: 0,
        automatic_rotation: false,
        rotation_interval: None,
        last_rotation_date: NOW,
        material_expire: None,
        modes: PermittedModes::ALL,
    }
}

/// Writes `model` as a store file of payload version 1 (the layout of version 2,
/// whose check values the caller has set to legacy ones, with version field 1).
fn write_v1_store(path: &Path, model: &Model, generation: u64) {
    let payload = codec::encode_legacy(model, LEGACY_CHECK_VALUE_VERSION);
    let master = MasterKey::from_bytes(&MASTER).unwrap();
    let file = sealed::seal(&master, &sealed::new_salt().unwrap(), generation, &payload).unwrap();
    std::fs::write(path, file).unwrap();
}

/// The unsealed payload of the v1 store file at `path`.
fn read_payload(path: &Path) -> Zeroizing<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let master = MasterKey::from_bytes(&MASTER).unwrap();
    sealed::unseal(&master, &bytes).unwrap().1
}

/// Every key record of the SQLite store at `path`, unsealed.
fn sqlite_records(path: &Path) -> Vec<Zeroizing<Vec<u8>>> {
    use crate::keystore::backend::sqlite::SqliteLocation;
    use crate::keystore::rows::Database;
    let mut db = SqliteLocation::resolve(path)
        .unwrap()
        .connect(false)
        .unwrap()
        .unwrap();
    let meta = db.meta().unwrap().unwrap();
    let row_key = sealed::RowKey::derive(&MasterKey::from_bytes(&MASTER).unwrap(), &meta.salt);
    db.rows_since(0)
        .unwrap()
        .keys
        .into_iter()
        .map(|row| {
            let aad = [b"localkms/row/1/keys/".as_slice(), row.name.as_bytes()].concat();
            row_key
                .open_row(&aad, row.sealed.as_ref().unwrap())
                .unwrap()
        })
        .collect()
}

/// A v1 store with an imported key and an expired one (material wiped, H kept).
fn v1_fixture(path: &Path) -> (Key, Key, [u8; 16], [u8; 16]) {
    let present = [0x11u8; 32];
    let expired = [0x22u8; 32];
    let (h_present, h_expired) = (ghash_key(&present), ghash_key(&expired));
    let with_material = external_key(Some(present), h_present);
    let without = external_key(None, h_expired);
    let mut model = Model::default();
    model.insert_key(with_material.clone());
    model.insert_key(without.clone());
    write_v1_store(path, &model, 5);
    let payload = read_payload(path);
    assert_eq!(payload[..4], 1u32.to_le_bytes());
    assert!(contains(&payload, &h_present) && contains(&payload, &h_expired));
    (with_material, without, h_present, h_expired)
}

#[test]
fn a_v1_store_is_read_with_migrated_check_values_and_never_written() {
    let dir = TempDir::new("v1-read");
    let path = dir.store();
    let (with_material, without, _, _) = v1_fixture(&path);
    let before = std::fs::read(&path).unwrap();

    let store = Store::from_v1_file(&path, &MasterKey::from_bytes(&MASTER).unwrap()).unwrap();
    let snapshot = store.snapshot();
    let material = with_material.versions[0].material.as_ref().unwrap();
    let key = snapshot.resolve(&with_material.key_id, NOW).unwrap();
    assert_eq!(key.versions[0].check_value, Some(material.check_value()));
    let key = snapshot.resolve(&without.key_id, NOW).unwrap();
    assert_eq!(key.versions[0].check_value, None, "H is not kept in memory");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is unchanged"
    );
    // A wrong master key is refused as for any store.
    let err = Store::from_v1_file(&path, &MasterKey::from_bytes(&[9; 32]).unwrap())
        .err()
        .unwrap();
    assert_eq!(err.kind(), crate::error::ErrorKind::KeyStoreAccessDenied);
}

#[test]
fn a_v1_store_copied_into_sqlite_leaves_its_legacy_check_values_behind() {
    let dir = TempDir::new("v1-copy");
    let path = dir.store();
    let (with_material, without, h_present, h_expired) = v1_fixture(&path);
    let v1 = Store::from_v1_file(&path, &MasterKey::from_bytes(&MASTER).unwrap()).unwrap();
    let sqlite_path = dir.0.join("store.db");
    let sqlite = Store::open_sqlite(
        &sqlite_path,
        &MasterKey::from_bytes(&MASTER).unwrap(),
        true,
        NOW,
    )
    .unwrap();
    sqlite.copy_from(NOW, &v1.snapshot()).unwrap();
    let records = sqlite_records(&sqlite_path);
    assert_eq!(records.len(), 2);
    for record in &records {
        assert!(!contains(record, &h_present) && !contains(record, &h_expired));
    }
    let file = std::fs::read(&sqlite_path).unwrap();
    assert!(!contains(&file, &h_present) && !contains(&file, &h_expired));
    let reopened = Store::open_sqlite(
        &sqlite_path,
        &MasterKey::from_bytes(&MASTER).unwrap(),
        false,
        NOW,
    )
    .unwrap();
    let snapshot = reopened.snapshot();
    let material = with_material.versions[0].material.as_ref().unwrap();
    let key = snapshot.resolve(&with_material.key_id, NOW).unwrap();
    assert_eq!(key.versions[0].check_value, Some(material.check_value()));
    assert!(snapshot.resolve(&without.key_id, NOW).is_ok());
}

#[test]
fn an_expired_imported_key_leaves_no_ghash_key_in_the_store() {
    let dir = TempDir::new("expired");
    let path = dir.0.join("store.db");
    let material = [0x5cu8; 32];
    let h = ghash_key(&material);
    let options = OpenOptions {
        keystore_path: Some(&path),
        master_key: Some(&MASTER),
        master_key_file: None,
        create_if_missing: true,
        keystore_url: None,
    };
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(NOW));
    let clock_fn = {
        let clock = clock.clone();
        Arc::new(move || clock.load(std::sync::atomic::Ordering::SeqCst))
    };

    let client = Client::open(&options).unwrap();
    client.set_clock(Some(clock_fn.clone()));
    let key_id = client
        .create_key(&crate::service::CreateKeyRequest {
            origin: Some("EXTERNAL"),
            ..Default::default()
        })
        .unwrap()
        .value
        .key_id;
    client
        .import_key_material(&key_id, &material, NOW + DAY)
        .unwrap();
    for record in sqlite_records(&path) {
        assert!(!contains(&record, &h), "no H while the material is there");
    }

    // A day and a second later the material has expired and is wiped.
    clock.store(NOW + DAY + 1, std::sync::atomic::Ordering::SeqCst);
    let described = client.describe_key(&key_id).unwrap().to_json();
    assert!(described.contains("PendingImport"), "{described}");
    drop(client);

    let client = Client::open(&OpenOptions {
        create_if_missing: false,
        ..options
    })
    .unwrap();
    client.set_clock(Some(clock_fn));
    assert!(client
        .describe_key(&key_id)
        .unwrap()
        .to_json()
        .contains("PendingImport"));
    let records = sqlite_records(&path);
    assert_eq!(records.len(), 1);
    assert!(
        !contains(&records[0], &h),
        "the store holds no H after expiry"
    );
    assert!(!contains(&records[0], &material), "nor the material");
    let key = codec::decode_key(&records[0]).unwrap();
    assert!(key.versions[0].material.is_none());
    let expected =
        Material::symmetric(CipherFamily::Aes, Zeroizing::new(material.to_vec())).unwrap();
    assert_eq!(key.versions[0].check_value, Some(expected.check_value()));
    let file = std::fs::read(&path).unwrap();
    assert!(!contains(&file, &h) && !contains(&file, &material));

    // The check value still guards the re-import.
    assert!(client.import_key_material(&key_id, &[0x5d; 32], 0).is_err());
    client.import_key_material(&key_id, &material, 0).unwrap();
}
