//! [`BoundedMap`]: the one map type behind every in-memory cache of the
//! project, and with it the project's lock policy.
//!
//! - **Locks are `parking_lot`'s.** They do not poison: a panic while one is
//!   held cannot silently turn a cache off, so no caller has a "lock
//!   poisoned" branch to get wrong. A lock is held only for a map operation,
//!   never across an `.await`.
//! - **Every map has a bound.** When an insert finds the map full, it drops
//!   the entries its owner calls stale (lapsed, unused); if that frees
//!   nothing, it starts over empty. A cache is only ever an optimisation, so
//!   forgetting is always correct, only slower.

use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::Hash;

/// A `HashMap` behind a `parking_lot::RwLock`, with at most `capacity`
/// entries (see the module doc).
///
/// ```
/// use frontrow_application::cache::BoundedMap;
///
/// let seen = BoundedMap::new(2);
/// seen.insert(1, "a", |_, _| false);
/// seen.insert(2, "b", |_, _| false);
/// seen.insert(3, "c", |_, v| *v == "a"); // full: "a" is stale and goes
/// assert_eq!(seen.get(&1), None);
/// assert_eq!(seen.get(&3), Some("c"));
/// assert_eq!(seen.len(), 2);
/// ```
pub struct BoundedMap<K, V> {
    entries: RwLock<HashMap<K, V>>,
    capacity: usize,
}

impl<K: Eq + Hash, V> BoundedMap<K, V> {
    /// An empty map that holds at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// A clone of the value under `key`.
    pub fn get(&self, key: &K) -> Option<V>
    where
        V: Clone,
    {
        self.entries.read().get(key).cloned()
    }

    /// What `read` makes of the value under `key`, under the read lock.
    pub fn read<R>(&self, key: &K, read: impl FnOnce(&V) -> R) -> Option<R> {
        self.entries.read().get(key).map(read)
    }

    /// Whether `key` has a value.
    pub fn contains(&self, key: &K) -> bool {
        self.entries.read().contains_key(key)
    }

    /// Puts `value` under `key`. When the map is full, first drops every
    /// entry `stale` picks, then, if none was, everything.
    pub fn insert(&self, key: K, value: V, stale: impl Fn(&K, &V) -> bool) {
        let mut entries = self.entries.write();
        Self::make_room(&mut entries, self.capacity, &key, stale);
        entries.insert(key, value);
    }

    /// The value under `key`, inserting `make()` first if there is none
    /// (making room as `insert` does).
    pub fn get_or_insert_with(
        &self,
        key: K,
        make: impl FnOnce() -> V,
        stale: impl Fn(&K, &V) -> bool,
    ) -> V
    where
        V: Clone,
    {
        if let Some(found) = self.get(&key) {
            return found;
        }
        let mut entries = self.entries.write();
        if let Some(found) = entries.get(&key) {
            return found.clone();
        }
        Self::make_room(&mut entries, self.capacity, &key, stale);
        let value = make();
        entries.insert(key, value.clone());
        value
    }

    /// Changes the value under `key` in place, if there is one; returns what
    /// `change` returned.
    pub fn update<R>(&self, key: &K, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        self.entries.write().get_mut(key).map(change)
    }

    /// Forgets `key`.
    pub fn remove(&self, key: &K) -> Option<V> {
        self.entries.write().remove(key)
    }

    /// Forgets `key` if its value is the one `this` picks (e.g. the same
    /// `Arc`, so an entry replaced meanwhile stays).
    pub fn remove_if(&self, key: &K, this: impl FnOnce(&V) -> bool) -> Option<V> {
        let mut entries = self.entries.write();
        if entries.get(key).is_some_and(this) {
            return entries.remove(key);
        }
        None
    }

    /// Calls `visit` with every entry, under the read lock (keep it short).
    pub fn for_each(&self, mut visit: impl FnMut(&K, &V)) {
        for (key, value) in self.entries.read().iter() {
            visit(key, value);
        }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.read().len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn make_room(
        entries: &mut HashMap<K, V>,
        capacity: usize,
        key: &K,
        stale: impl Fn(&K, &V) -> bool,
    ) {
        if entries.len() < capacity || entries.contains_key(key) {
            return;
        }
        entries.retain(|k, v| !stale(k, v));
        if entries.len() >= capacity {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BoundedMap;

    #[test]
    fn a_full_map_drops_its_stale_entries_first() {
        let map = BoundedMap::new(3);
        for key in 0..3 {
            map.insert(key, key * 10, |_, _| false);
        }
        map.insert(3, 30, |key, _| *key == 0);
        assert_eq!(map.len(), 3);
        assert!(!map.contains(&0));
        assert_eq!(map.get(&1), Some(10));
        assert_eq!(map.get(&3), Some(30));
    }

    #[test]
    fn a_full_map_with_nothing_stale_starts_over() {
        let map = BoundedMap::new(100);
        for key in 0..10_000 {
            map.insert(key, (), |_, _| false);
            assert!(map.len() <= 100);
        }
        assert!(map.contains(&9_999));
    }

    #[test]
    fn replacing_a_key_in_a_full_map_keeps_the_others() {
        let map = BoundedMap::new(2);
        map.insert("a", 1, |_, _| false);
        map.insert("b", 2, |_, _| false);
        map.insert("a", 3, |_, _| true);
        assert_eq!(map.get(&"a"), Some(3));
        assert_eq!(map.get(&"b"), Some(2));
    }

    #[test]
    fn get_or_insert_with_makes_a_value_once() {
        let map = BoundedMap::new(4);
        let first = map.get_or_insert_with(7, || 1, |_, _| false);
        let second = map.get_or_insert_with(7, || 2, |_, _| false);
        assert_eq!((first, second), (1, 1));
    }
}
