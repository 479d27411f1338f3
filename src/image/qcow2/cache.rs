//! A small bounded cache shared by the reader threads: at most `max_entries`
//! values totalling at most `max_bytes`, evicting the least recently used
//! quarter when either bound is passed. Values are `Arc`s, so the lock is
//! held only for the lookup, never while a caller copies bytes out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

struct Slot<V> {
    value: Arc<V>,
    bytes: usize,
    used: u64,
}

struct Inner<V> {
    map: HashMap<u64, Slot<V>>,
    bytes: usize,
    tick: u64,
}

pub(super) struct Cache<V> {
    inner: Mutex<Inner<V>>,
    max_bytes: usize,
    max_entries: usize,
}

impl<V> Cache<V> {
    pub(super) fn new(max_bytes: usize, max_entries: usize) -> Cache<V> {
        Cache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                bytes: 0,
                tick: 0,
            }),
            max_bytes,
            max_entries: max_entries.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        // A panic elsewhere while holding the lock leaves a usable map.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn get(&self, key: u64) -> Option<Arc<V>> {
        let mut g = self.lock();
        g.tick += 1;
        let tick = g.tick;
        let slot = g.map.get_mut(&key)?;
        slot.used = tick;
        Some(slot.value.clone())
    }

    /// Stores `value` (of about `bytes` bytes) under `key` and returns it. A
    /// value bigger than the whole budget is returned without being kept.
    pub(super) fn insert(&self, key: u64, value: V, bytes: usize) -> Arc<V> {
        let value = Arc::new(value);
        if bytes > self.max_bytes {
            return value;
        }
        let mut g = self.lock();
        g.tick += 1;
        let used = g.tick;
        if let Some(old) = g.map.insert(
            key,
            Slot {
                value: value.clone(),
                bytes,
                used,
            },
        ) {
            g.bytes -= old.bytes;
        }
        g.bytes += bytes;
        if g.bytes > self.max_bytes || g.map.len() > self.max_entries {
            Self::evict(&mut g, self.max_bytes, self.max_entries, key);
        }
        value
    }

    /// Drops the least recently used entries (at least a quarter, and until
    /// both bounds hold again), never `keep`.
    fn evict(g: &mut Inner<V>, max_bytes: usize, max_entries: usize, keep: u64) {
        let mut ticks: Vec<(u64, u64, usize)> = g
            .map
            .iter()
            .filter(|(k, _)| **k != keep)
            .map(|(k, s)| (s.used, *k, s.bytes))
            .collect();
        ticks.sort_unstable();
        let quarter = g.map.len().div_ceil(4);
        for (i, (_, k, b)) in ticks.into_iter().enumerate() {
            if i >= quarter && g.bytes <= max_bytes && g.map.len() <= max_entries {
                break;
            }
            g.map.remove(&k);
            g.bytes -= b;
        }
    }

    #[cfg(test)]
    pub(super) fn stats(&self) -> (usize, usize) {
        let g = self.lock();
        (g.map.len(), g.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::Cache;

    #[test]
    fn bounds_hold_and_recent_entries_stay() {
        let c: Cache<Vec<u8>> = Cache::new(10_000, 8);
        for k in 0..100u64 {
            c.insert(k, vec![0; 1000], 1000);
            assert!(c.get(k).is_some(), "just inserted");
            let (n, b) = c.stats();
            assert!(n <= 8 && b <= 10_000, "{n} entries, {b} bytes");
        }
        assert!(c.get(99).is_some());
        assert!(c.get(0).is_none());
        // Too big for the budget: returned, not kept.
        let v = c.insert(1000, vec![1; 20_000], 20_000);
        assert_eq!(v.len(), 20_000);
        assert!(c.get(1000).is_none());
    }
}
