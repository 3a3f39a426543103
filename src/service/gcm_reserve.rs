//! Reserving GCM encryptions in the store, and the rotation of a key whose
//! primary version has spent its budget (NIST SP 800-38D: 2^32 invocations with
//! random 96-bit IVs).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::client::Client;
use crate::error::{ErrorKind, Result};
use crate::keystore::{new_version, Material};

/// What a reservation of GCM encryptions brought.
pub(super) enum Reservation {
    /// The allowance holds more now (reserved here, or by another thread).
    More,
    /// The version's budget is spent.
    Spent,
}

impl Client {
    /// Reserves a range of GCM encryptions for `material` (the version
    /// `key_version_id` of `key_id`) in the store, where every process and host
    /// reserves from the same budget.
    pub(super) fn reserve_gcm(
        &self,
        key_id: &str,
        key_version_id: &str,
        material: &Arc<Material>,
        now: i64,
    ) -> Result<Reservation> {
        let allowance = &material.gcm_allowance;
        let _one_at_a_time = allowance
            .reserving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if allowance.has_some() {
            return Ok(Reservation::More);
        }
        let limit = self.gcm_limit();
        // Ranges of 2^20 (at 2^32, 4096 reservations in a version's life), smaller
        // for a lowered limit.
        let range = (limit / 64).clamp(1, 1 << 20);
        if !self.store.is_persistent() {
            // A version of an in-memory store lives in this process alone: its whole
            // budget is granted here at once, with no change to publish (so that
            // encryption never queues behind the writer, even under constant
            // rotation). `unrecorded` counts what was granted.
            let granted = allowance.unrecorded.load(Ordering::Acquire);
            let grant = limit.saturating_sub(granted);
            if grant == 0 {
                return Ok(Reservation::Spent);
            }
            allowance.unrecorded.fetch_add(grant, Ordering::AcqRel);
            allowance.grant(grant);
            return Ok(Reservation::More);
        }
        let unrecorded = allowance.unrecorded.load(Ordering::Acquire);
        let reserved = self.store.mutate_briefly(now, |model| {
            let key = model.resolve_mut(key_id, now)?;
            let Some(version) = key
                .versions
                .position(key_version_id)
                .and_then(|index| key.version_mut(index))
            else {
                return Ok(0);
            };
            // What was granted while the store could not be written counts too.
            version.gcm_reserved = version.gcm_reserved.saturating_add(unrecorded).min(limit);
            let grant = range.min(limit - version.gcm_reserved);
            version.gcm_reserved += grant;
            Ok(grant)
        });
        let granted = match reserved {
            Ok(granted) => {
                allowance.unrecorded.fetch_sub(unrecorded, Ordering::AcqRel);
                granted
            }
            Err(e) if e.kind() == ErrorKind::KeyStoreIo => {
                // Degraded, never broken: the store cannot take the reservation now
                // (down, read only, or busy). A small range is granted without it and
                // recorded with the next reservation, unless the snapshot already
                // shows the budget spent.
                let stored = self
                    .store
                    .snapshot()
                    .find_version(key_version_id, now)
                    .map_or(limit, |(_, v)| v.gcm_reserved);
                let grant = (range / 16)
                    .clamp(1, 1 << 16)
                    .min(limit.saturating_sub(stored.saturating_add(unrecorded)));
                allowance.unrecorded.fetch_add(grant, Ordering::AcqRel);
                grant
            }
            Err(e) => return Err(e),
        };
        if granted == 0 {
            return Ok(Reservation::Spent);
        }
        allowance.grant(granted);
        Ok(Reservation::More)
    }

    /// Rotates a key whose primary version `spent` has no GCM budget left, unless
    /// another caller already did.
    pub(super) fn rotate_spent(&self, key_id: &str, spent: &str, now: i64) -> Result<()> {
        self.store.mutate(now, |model| {
            let key = model.resolve_mut(key_id, now)?;
            if key.primary_version().key_version_id == spent {
                let version = new_version(key, now)?;
                key.add_primary_version(version);
            }
            Ok(())
        })
    }
}
