//! Dropping exact repeats of log lines within a bounded window.

/// Event lines remembered (as hashes) to drop exact repeats: bounded, so memory stays flat.
pub(super) const RECENT_LINES_REMEMBERED: usize = 1 << 18;

/// A bounded set of recent line hashes (oldest forgotten first): an open-addressing table
/// of the hashes themselves (at most half full) and a ring of them in arrival order. The
/// hashes are xxh3 already, so their low bits place them; one probe each way touches one
/// cache line where a general-purpose set touches several: this runs once per log line.
pub(super) struct RecentLines {
    slots: Vec<u64>,
    ring: Vec<u64>,
    cap: usize,
    next: usize,
}

impl RecentLines {
    pub(super) fn new(cap: usize) -> Self {
        RecentLines {
            slots: vec![0; (2 * cap).next_power_of_two()],
            ring: Vec::with_capacity(cap),
            cap: cap.max(1),
            next: 0,
        }
    }

    /// False when `h` was seen recently.
    pub(super) fn insert(&mut self, h: u64) -> bool {
        // 0 marks an empty slot.
        let h = h.max(1);
        if self.find(h).is_ok() {
            return false;
        }
        if self.ring.len() < self.cap {
            self.ring.push(h);
        } else {
            let oldest = std::mem::replace(&mut self.ring[self.next], h);
            self.next = (self.next + 1) % self.cap;
            self.remove(oldest);
        }
        if let Err(empty) = self.find(h) {
            self.slots[empty] = h;
        }
        true
    }

    /// Starts loading the slots `insert(h)` will touch (its own and the oldest hash's),
    /// so that the cache misses overlap with parsing the line.
    pub(super) fn prefetch(&self, h: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let mask = self.slots.len() - 1;
            let mut homes = [h.max(1) as usize & mask, 0];
            let oldest = self.ring.get(self.next).copied();
            if let Some(o) = oldest {
                homes[1] = o as usize & mask;
            }
            for home in &homes[..1 + usize::from(oldest.is_some())] {
                // SAFETY: prefetching only hints the cache; the pointer is in bounds.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(self.slots.as_ptr().add(*home).cast()) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = h;
    }

    /// The slot holding `h`, or else the empty slot that ends its run. The table holds
    /// at most `cap` hashes in at least twice as many slots, so a run always ends.
    fn find(&self, h: u64) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match self.slots[i] {
                0 => return Err(i),
                v if v == h => return Ok(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn remove(&mut self, h: u64) {
        let mask = self.slots.len() - 1;
        let Ok(i) = self.find(h) else {
            return;
        };
        // Backward-shift deletion: a later entry of the same run moves into the hole when
        // the hole lies between its home slot and where it sits, so lookups never stop at
        // a hole short of it.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let v = self.slots[j];
            if v == 0 {
                break;
            }
            let home = v as usize & mask;
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.slots[hole] = v;
                hole = j;
            }
        }
        self.slots[hole] = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::RecentLines;
    use std::collections::{HashSet, VecDeque};

    /// The table against the obvious model (a set and a queue), with a small window and
    /// hashes crowded into few home slots so that runs wrap around and deletions shift.
    #[test]
    fn recent_lines_match_a_set_with_a_queue() {
        for cap in [1, 2, 3, 7, 16, 100] {
            let mut table = RecentLines::new(cap);
            let mut set = HashSet::new();
            let mut queue = VecDeque::new();
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            for step in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct values, sharing low bits: many repeats and collisions;
                // 0 (the empty marker) included.
                let h = (x % 23) << 40 | (x % 5);
                let h = if step % 997 == 0 { 0 } else { h };
                let model = {
                    let h = h.max(1);
                    if set.contains(&h) {
                        false
                    } else {
                        set.insert(h);
                        queue.push_back(h);
                        if queue.len() > cap {
                            set.remove(&queue.pop_front().unwrap());
                        }
                        true
                    }
                };
                assert_eq!(
                    table.insert(h),
                    model,
                    "cap {cap}, step {step}, hash {h:#x}"
                );
            }
        }
    }
}
