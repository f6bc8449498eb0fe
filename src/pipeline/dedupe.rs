//! Dropping exact repeats of log lines within a bounded window.

/// Event lines remembered (as hashes) to drop exact repeats: bounded, so memory stays flat.
pub(super) const RECENT_LINES_REMEMBERED: usize = 1 << 18;

/// A bounded set of recent line hashes (oldest forgotten first): an open-addressing table
/// of the hashes themselves (at most half full) and a ring of them in arrival order. The
/// hashes are xxh3 already, so their low bits place them; one probe each way touches one
/// cache line where a general-purpose set touches several: this runs once per log line.
pub(super) struct RecentLines {
    slots: Slots,
    ring: Vec<u64>,
    cap: usize,
    next: usize,
}

impl RecentLines {
    pub(super) fn new(cap: usize) -> Self {
        RecentLines {
            slots: Slots::zeroed((2 * cap).next_power_of_two()),
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

    /// Starts loading the slots `insert(h)` will touch: its own, and the one of the hash
    /// it will push out of the window when `ahead` inserts come before it.
    pub(super) fn prefetch(&self, h: u64, ahead: usize) {
        let mask = self.slots.len() - 1;
        crate::cache_hint::prefetch(&self.slots[h.max(1) as usize & mask]);
        if self.ring.len() == self.cap {
            let oldest = self.ring[(self.next + ahead) % self.cap];
            crate::cache_hint::prefetch(&self.slots[oldest as usize & mask]);
        }
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
        if let Ok(at) = self.find(h) {
            // A hash is its own home.
            crate::linear_probing::remove_at(&mut self.slots, at, |v| v as usize);
        }
    }
}

/// The slot table's memory. A hash's slot is random, so every line touches a new page of
/// the table's 4 MiB: in 4 KiB pages each probe also misses the TLB, and the prefetch
/// that should hide the cache miss waits for the page walk instead. In 2 MiB pages (Linux's
/// transparent huge pages, asked for this mapping only) the table takes two TLB entries:
/// the 1 M-line import took 0.84 s instead of 0.88 s, 1.51 s of CPU instead of 1.585 s
/// (medians of six alternating runs). Where the kernel has none to give, or elsewhere than
/// Linux, the table is ordinary memory and works the same.
enum Slots {
    Heap(Vec<u64>),
    #[cfg(target_os = "linux")]
    Mapped(HugeMapping),
}

/// Zeroed memory for `len` u64s, starting on a 2 MiB boundary, advised to be backed by
/// huge pages.
#[cfg(target_os = "linux")]
struct HugeMapping {
    mapping: *mut libc::c_void,
    mapping_len: usize,
    slots: *mut u64,
    len: usize,
}

#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

// SAFETY: the mapping is owned by its one `Slots` value; nothing else points into it.
#[cfg(target_os = "linux")]
unsafe impl Send for HugeMapping {}

#[cfg(target_os = "linux")]
impl HugeMapping {
    fn new(len: usize) -> Option<Self> {
        let bytes = len.checked_mul(8)?;
        let mapping_len = bytes.checked_add(HUGE_PAGE)?;
        // SAFETY: a fresh private anonymous mapping, checked before use; the kernel hands
        // it out zeroed.
        let mapping = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapping_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if mapping == libc::MAP_FAILED {
            return None;
        }
        let skip = (HUGE_PAGE - mapping as usize % HUGE_PAGE) % HUGE_PAGE;
        // SAFETY: `skip` < HUGE_PAGE, so the table lies within the mapping.
        let slots = unsafe { mapping.cast::<u8>().add(skip) }.cast::<u64>();
        // SAFETY: advice on memory of this mapping; refused advice changes nothing.
        unsafe {
            libc::madvise(slots.cast(), bytes, libc::MADV_HUGEPAGE);
        }
        Some(HugeMapping {
            mapping,
            mapping_len,
            slots,
            len,
        })
    }
}

#[cfg(target_os = "linux")]
impl Drop for HugeMapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `new` made; no reference into it outlives self.
        unsafe {
            libc::munmap(self.mapping, self.mapping_len);
        }
    }
}

impl Slots {
    fn zeroed(len: usize) -> Self {
        #[cfg(target_os = "linux")]
        if len * 8 >= HUGE_PAGE
            && let Some(mapped) = HugeMapping::new(len)
        {
            return Slots::Mapped(mapped);
        }
        Slots::Heap(vec![0; len])
    }
}

impl std::ops::Deref for Slots {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        match self {
            Slots::Heap(v) => v,
            // SAFETY: `len` zero-initialised u64s at `slots`, inside the live mapping.
            #[cfg(target_os = "linux")]
            Slots::Mapped(m) => unsafe { std::slice::from_raw_parts(m.slots, m.len) },
        }
    }
}

impl std::ops::DerefMut for Slots {
    fn deref_mut(&mut self) -> &mut [u64] {
        match self {
            Slots::Heap(v) => v,
            // SAFETY: as in `deref`; `&mut self` makes the borrow unique.
            #[cfg(target_os = "linux")]
            Slots::Mapped(m) => unsafe { std::slice::from_raw_parts_mut(m.slots, m.len) },
        }
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

    /// At an import's size the table is a mapping of its own (on Linux): it starts zeroed,
    /// and forgets exactly the hashes pushed out of the window.
    #[test]
    fn the_full_window_forgets_only_what_falls_out() {
        use xxhash_rust::xxh3::xxh3_64;
        let cap = super::RECENT_LINES_REMEMBERED;
        let mut table = RecentLines::new(cap);
        #[cfg(target_os = "linux")]
        assert!(matches!(table.slots, super::Slots::Mapped(_)));
        assert!(table.slots.iter().all(|&s| s == 0));
        let hash = |i: usize| xxh3_64(&i.to_le_bytes());
        for i in 0..cap {
            table.prefetch(hash(i), i % 32);
            assert!(table.insert(hash(i)));
        }
        assert!(!table.insert(hash(0)), "still in the window");
        table.prefetch(hash(cap), 3);
        assert!(table.insert(hash(cap)), "new, and pushes the first out");
        assert!(table.insert(hash(0)), "forgotten");
        assert!(!table.insert(hash(2)), "the second fell out, not the third");
    }
}
