//! A key's versions, oldest first, shared between the snapshots that hold the key.
//!
//! A rotation copies the key (a snapshot is immutable) and adds a version. With
//! the versions in one vector, that copy took a pointer and a reference count per
//! version, and so did dropping the copy it replaced: `kms_key_rotate` of an
//! in-memory key took 15 µs at 1,000 versions, 365 µs at 10,000 and 607 µs at
//! 20,000 (a few seconds of continuous rotation). Here the versions sit in chunks
//! of [`CHUNK`], each shared on its own: a copy of the key takes one pointer per
//! chunk, adding a version copies at most the last chunk, and changing a version
//! in place copies its chunk and itself alone ([`Versions::get_mut`]). The same
//! rotation takes 6 to 16 µs from 1,000 to 40,000 versions.
//!
//! Not a persistent vector from a crate (imbl's): its nodes are built on the stack
//! and moved to the heap with their unused slots, which carry whatever the stack
//! held there into freed memory (tests/secrets_in_freed_memory.rs found key
//! material in them). Chunks here are heap vectors filled in place.

use std::sync::Arc;

use super::model::KeyVersion;

/// Versions per chunk: a copy of a key with `n` versions takes `n / CHUNK + 1`
/// reference counts, and an added version copies at most `CHUNK - 1` pointers.
pub const CHUNK: usize = 64;

type Chunk = Vec<Arc<KeyVersion>>;

/// Every chunk but the last holds exactly [`CHUNK`] versions; the last holds 1 to
/// [`CHUNK`]; there is no empty chunk.
#[derive(Clone, Default)]
pub struct Versions {
    chunks: Vec<Arc<Chunk>>,
    len: usize,
}

impl Versions {
    pub fn new() -> Versions {
        Versions::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, index: usize) -> Option<&Arc<KeyVersion>> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    /// A version to change in place: its chunk is copied first if another key
    /// shares it (the version itself is then copied by `Arc::make_mut`).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut Arc<KeyVersion>> {
        if index >= self.len {
            return None;
        }
        Arc::make_mut(&mut self.chunks[index / CHUNK]).get_mut(index % CHUNK)
    }

    pub fn first(&self) -> Option<&Arc<KeyVersion>> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&Arc<KeyVersion>> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Oldest first; `.rev()` walks newest first.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.chunks.iter().flat_map(chunk_iter))
    }

    /// Every version, to change: copies every chunk another key shares.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Arc<KeyVersion>> {
        self.chunks
            .iter_mut()
            .flat_map(|chunk| Arc::make_mut(chunk).iter_mut())
    }

    /// The index of the version of this id, looked for newest first (the versions
    /// that most blobs name).
    pub fn position(&self, key_version_id: &str) -> Option<usize> {
        let from_end = self
            .iter()
            .rev()
            .position(|v| v.key_version_id == key_version_id)?;
        Some(self.len - 1 - from_end)
    }

    /// Adds a version at the end. A last chunk shared with another key is copied
    /// into a chunk of full capacity, so that the chunk is allocated once.
    pub fn push(&mut self, version: Arc<KeyVersion>) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => match Arc::get_mut(last) {
                Some(unshared) => unshared.push(version),
                None => {
                    let mut copy = Vec::with_capacity(CHUNK);
                    copy.extend(last.iter().cloned());
                    copy.push(version);
                    *last = Arc::new(copy);
                }
            },
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(version);
                self.chunks.push(Arc::new(chunk));
            }
        }
        self.len += 1;
    }

    pub fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }

    /// The versions that are not shared with `earlier` (a copy of these versions
    /// made before some change; `None`: nothing is shared): those in chunks that
    /// are not `earlier`'s chunk at the same place. Every version added or
    /// changed since is among them; so are the others of their chunks.
    pub fn unshared_with<'a>(
        &'a self,
        earlier: Option<&'a Versions>,
    ) -> impl Iterator<Item = &'a Arc<KeyVersion>> {
        let earlier = earlier.map_or(&[][..], |e| &e.chunks[..]);
        self.chunks
            .iter()
            .enumerate()
            .filter(move |(i, chunk)| earlier.get(*i).is_none_or(|old| !Arc::ptr_eq(old, chunk)))
            .flat_map(|(_, chunk)| chunk.iter())
    }

    /// Whether the version at `index` is the same allocation in both (shared, not
    /// copied).
    #[cfg(test)]
    pub fn shares_version(&self, other: &Versions, index: usize) -> bool {
        match (self.get(index), other.get(index)) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl std::ops::Index<usize> for Versions {
    type Output = Arc<KeyVersion>;

    fn index(&self, index: usize) -> &Arc<KeyVersion> {
        match self.get(index) {
            Some(version) => version,
            None => panic!("version index {index} out of range ({} versions)", self.len),
        }
    }
}

impl std::ops::IndexMut<usize> for Versions {
    fn index_mut(&mut self, index: usize) -> &mut Arc<KeyVersion> {
        let len = self.len;
        match self.get_mut(index) {
            Some(version) => version,
            None => panic!("version index {index} out of range ({len} versions)"),
        }
    }
}

impl FromIterator<Arc<KeyVersion>> for Versions {
    fn from_iter<I: IntoIterator<Item = Arc<KeyVersion>>>(iter: I) -> Versions {
        let mut versions = Versions::new();
        for version in iter {
            versions.push(version);
        }
        versions
    }
}

impl FromIterator<KeyVersion> for Versions {
    fn from_iter<I: IntoIterator<Item = KeyVersion>>(iter: I) -> Versions {
        iter.into_iter().map(Arc::new).collect()
    }
}

type Chunks<'a> = std::slice::Iter<'a, Arc<Chunk>>;
type ChunkIter<'a> = std::slice::Iter<'a, Arc<KeyVersion>>;
type IntoChunkIter<'a> = fn(&'a Arc<Chunk>) -> ChunkIter<'a>;

fn chunk_iter(chunk: &Arc<Chunk>) -> ChunkIter<'_> {
    chunk.iter()
}

/// The versions of a [`Versions`], oldest first.
pub struct Iter<'a>(std::iter::FlatMap<Chunks<'a>, ChunkIter<'a>, IntoChunkIter<'a>>);

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Arc<KeyVersion>;

    fn next(&mut self) -> Option<&'a Arc<KeyVersion>> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back()
    }
}

impl<'a> IntoIterator for &'a Versions {
    type Item = &'a Arc<KeyVersion>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl std::fmt::Debug for Versions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(n: usize) -> KeyVersion {
        KeyVersion {
            key_version_id: format!("key-test-v{n}"),
            creation_date: n as i64,
            material: None,
            check_value: None,
            gcm_reserved: 0,
        }
    }

    fn ids(versions: &Versions) -> Vec<i64> {
        versions.iter().map(|v| v.creation_date).collect()
    }

    #[test]
    fn indexes_iteration_and_lookups_cross_chunk_boundaries() {
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17] {
            let versions: Versions = (0..n).map(version).collect();
            assert_eq!(versions.len(), n);
            assert_eq!(versions.is_empty(), n == 0);
            assert_eq!(ids(&versions), (0..n as i64).collect::<Vec<_>>());
            let newest_first: Vec<i64> = versions.iter().rev().map(|v| v.creation_date).collect();
            assert_eq!(newest_first, (0..n as i64).rev().collect::<Vec<_>>());
            for i in 0..n {
                assert_eq!(versions[i].creation_date, i as i64);
                assert_eq!(versions.position(&format!("key-test-v{i}")), Some(i));
            }
            assert!(versions.get(n).is_none());
            assert_eq!(versions.position("key-test-v-none"), None);
            assert_eq!(
                versions.first().map(|v| v.creation_date),
                (n > 0).then_some(0)
            );
            assert_eq!(
                versions.last().map(|v| v.creation_date),
                n.checked_sub(1).map(|l| l as i64)
            );
        }
    }

    #[test]
    fn a_copy_shares_every_chunk_and_a_push_copies_only_the_last() {
        let original: Versions = (0..2 * CHUNK + 5).map(version).collect();
        let mut copy = original.clone();
        copy.push(Arc::new(version(1000)));
        assert_eq!(original.len(), 2 * CHUNK + 5, "the original is unchanged");
        assert_eq!(copy.len(), 2 * CHUNK + 6);
        for i in 0..original.len() {
            assert!(copy.shares_version(&original, i));
        }
        assert_eq!(copy.unshared_with(Some(&original)).count(), 6);
        assert!(Arc::ptr_eq(&copy.chunks[0], &original.chunks[0]));
        assert!(Arc::ptr_eq(&copy.chunks[1], &original.chunks[1]));
        assert!(!Arc::ptr_eq(&copy.chunks[2], &original.chunks[2]));
        // The copied last chunk was allocated with room for a whole chunk.
        assert_eq!(copy.chunks[2].capacity(), CHUNK);

        // A full last chunk is not copied: the next version starts a chunk.
        let full: Versions = (0..CHUNK).map(version).collect();
        let mut grown = full.clone();
        grown.push(Arc::new(version(CHUNK)));
        assert!(Arc::ptr_eq(&grown.chunks[0], &full.chunks[0]));
        assert_eq!(grown.unshared_with(Some(&full)).count(), 1);
        assert_eq!(grown.unshared_with(None).count(), CHUNK + 1);
    }

    #[test]
    fn changing_a_version_copies_its_chunk_and_itself_alone() {
        let original: Versions = (0..3 * CHUNK).map(version).collect();
        let mut changed = original.clone();
        Arc::make_mut(changed.get_mut(CHUNK + 3).unwrap()).gcm_reserved = 7;
        assert_eq!(original[CHUNK + 3].gcm_reserved, 0);
        assert_eq!(changed[CHUNK + 3].gcm_reserved, 7);
        assert!(!changed.shares_version(&original, CHUNK + 3));
        for i in (0..3 * CHUNK).filter(|&i| i != CHUNK + 3) {
            assert!(changed.shares_version(&original, i), "{i}");
        }
        assert!(Arc::ptr_eq(&changed.chunks[0], &original.chunks[0]));
        assert!(!Arc::ptr_eq(&changed.chunks[1], &original.chunks[1]));
        assert!(Arc::ptr_eq(&changed.chunks[2], &original.chunks[2]));
        assert!(changed.get_mut(3 * CHUNK).is_none());

        // iter_mut reaches every version, in order.
        for (i, v) in changed.iter_mut().enumerate() {
            Arc::make_mut(v).gcm_reserved = i as u64;
        }
        assert!(changed
            .iter()
            .enumerate()
            .all(|(i, v)| v.gcm_reserved == i as u64));
        assert!(original.iter().all(|v| v.gcm_reserved == 0));
        changed.clear();
        assert!(changed.is_empty() && changed.iter().next().is_none());
    }

    #[test]
    #[should_panic(expected = "version index 5 out of range (5 versions)")]
    fn an_index_past_the_end_names_itself() {
        let versions: Versions = (0..5).map(version).collect();
        let _ = &versions[5];
    }
}
