//! Moving between stores: every key, version, alias, state and policy of one store
//! into another, empty one, verified after the copy.

use super::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::keystore::{Key, Snapshot};

/// What a copy moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyReport {
    pub keys: usize,
    pub versions: usize,
    pub aliases: usize,
    pub request_id: String,
}

impl Client {
    /// Copies everything this client's store holds into `destination`'s, which
    /// must hold no key, in one change; then reads the destination back and checks
    /// that it holds exactly what was copied (`KeyStore.IOError` if not). The
    /// source is only read.
    pub fn copy_into(&self, destination: &Client) -> Result<CopyReport> {
        self.call(|request_id, now| {
            let source = self.store().snapshot();
            destination.store().copy_from(now, &source)?;
            let copied = destination.store().reload()?;
            verify(&source, &copied)?;
            Ok(CopyReport {
                keys: source.keys().count(),
                versions: source.keys().map(|k| k.versions.len()).sum(),
                aliases: source.aliases().count(),
                request_id: request_id.to_owned(),
            })
        })
    }
}

/// Whether two keys are the same in everything a store keeps.
fn same_key(a: &Key, b: &Key) -> bool {
    let versions_match = a.versions.len() == b.versions.len()
        && a.versions.iter().zip(&b.versions).all(|(va, vb)| {
            va.key_version_id == vb.key_version_id
                && va.creation_date == vb.creation_date
                && va.check_value == vb.check_value
                && match (&va.material, &vb.material) {
                    (None, None) => true,
                    (Some(ma), Some(mb)) => ma.check_value() == mb.check_value(),
                    _ => false,
                }
        });
    versions_match
        && a.key_id == b.key_id
        && a.key_spec == b.key_spec
        && a.key_usage == b.key_usage
        && a.origin == b.origin
        && a.description == b.description
        && a.creation_date == b.creation_date
        && a.state == b.state
        && a.delete_date == b.delete_date
        && a.primary == b.primary
        && a.automatic_rotation == b.automatic_rotation
        && a.rotation_interval == b.rotation_interval
        && a.last_rotation_date == b.last_rotation_date
        && a.material_expire == b.material_expire
        && a.modes == b.modes
}

fn verify(source: &Snapshot, copied: &Snapshot) -> Result<()> {
    let failed = |why: String| {
        Error::new(
            ErrorKind::KeyStoreIo,
            format!("The copy does not match its source: {why}."),
        )
    };
    if source.keys().count() != copied.keys().count() {
        return Err(failed(format!(
            "{} keys were copied, {} read back",
            source.keys().count(),
            copied.keys().count()
        )));
    }
    for key in source.keys() {
        match copied.key(&key.key_id) {
            Some(back) if same_key(key, back) => {}
            _ => return Err(failed(format!("the key {} differs", key.key_id))),
        }
    }
    let aliases: Vec<_> = source.aliases().collect();
    let back: Vec<_> = copied.aliases().collect();
    if aliases != back {
        return Err(failed("the aliases differ".to_owned()));
    }
    Ok(())
}
