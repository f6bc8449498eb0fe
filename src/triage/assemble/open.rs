//! The assembler's open messages by key (`host \0 queue_id`): a table whose slot for a key
//! follows from the key's hash alone. A chunk of events can then ask for their messages'
//! memory level by level — slots, entries, what the entries point to — before any is
//! looked at (`Assembler::prefetch`), where a general-purpose map finds an entry only by
//! reading its way to it.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::cache_hint::prefetch;
use crate::model::MessageState;

/// A key with its hash (`OpenMessages::key`), hashed once for all the lookups of an event.
#[derive(Clone, Copy)]
pub(super) struct Key<'a> {
    pub(super) text: &'a str,
    /// `OpenMessages::hash` of `text`: given with it, never computed otherwise.
    pub(super) hash: u64,
}

pub(super) struct Entry {
    pub(super) key: String,
    pub(super) msg: MessageState,
}

pub(super) struct OpenMessages {
    /// Linear probing, at most half full. 0 is an empty slot; otherwise the low 32 bits
    /// of the key's hash (which also place it: the table never has 2^32 slots) above
    /// the index of its entry, plus one.
    slots: Vec<u64>,
    /// The messages; a removed one leaves a hole that the next insert fills.
    entries: Vec<Option<Entry>>,
    holes: Vec<u32>,
    /// Per table, at random: log text chooses the keys, and must not be able to choose
    /// keys that all land in one run of slots.
    seed: u64,
    /// Tests keep few bits of each hash, so that tags collide and runs grow long.
    #[cfg(test)]
    hash_bits: u64,
}

fn tag(hash: u64) -> u64 {
    hash & u64::from(u32::MAX)
}

impl OpenMessages {
    pub(super) fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        OpenMessages {
            slots: vec![0; 16],
            entries: Vec::new(),
            holes: Vec::new(),
            seed: std::hash::RandomState::new().build_hasher().finish(),
            #[cfg(test)]
            hash_bits: u64::MAX,
        }
    }

    pub(super) fn hash(&self, key: &str) -> u64 {
        let hash = xxh3_64_with_seed(key.as_bytes(), self.seed);
        #[cfg(test)]
        let hash = hash & self.hash_bits;
        hash
    }

    pub(super) fn key<'a>(&self, text: &'a str) -> Key<'a> {
        Key {
            text,
            hash: self.hash(text),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len() - self.holes.len()
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Entries whose slot carries the hash's tag, in probe order: the key's own entry is
    /// among them when it is open (most often it is the only one).
    fn candidates(&self, hash: u64) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mask = self.mask();
        let mut i = tag(hash) as usize & mask;
        std::iter::from_fn(move || {
            loop {
                let slot = self.slots[i];
                if slot == 0 {
                    return None;
                }
                let at = i;
                i = (i + 1) & mask;
                if slot >> 32 == tag(hash) {
                    return Some((at, (slot & u64::from(u32::MAX)) as usize - 1));
                }
            }
        })
    }

    /// The slot and entry index of `key`.
    fn find(&self, key: Key) -> Option<(usize, usize)> {
        self.candidates(key.hash).find(|&(_, index)| {
            self.entries[index]
                .as_ref()
                .is_some_and(|e| e.key.as_str() == key.text)
        })
    }

    pub(super) fn get(&self, key: Key) -> Option<&MessageState> {
        let (_, index) = self.find(key)?;
        self.entries[index].as_ref().map(|e| &e.msg)
    }

    #[cfg(test)]
    pub(super) fn get_mut(&mut self, key: Key) -> Option<&mut MessageState> {
        let (_, index) = self.find(key)?;
        self.entries[index].as_mut().map(|e| &mut e.msg)
    }

    /// The message of `key`, made by `make` when none is open.
    pub(super) fn get_or_insert_with(
        &mut self,
        key: Key,
        make: impl FnOnce() -> MessageState,
    ) -> &mut MessageState {
        let index = match self.find(key) {
            Some((_, index)) => index,
            None => self.insert(key, make()),
        };
        &mut self.entries[index].as_mut().expect("an open entry").msg
    }

    fn insert(&mut self, key: Key, msg: MessageState) -> usize {
        if (self.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let entry = Entry {
            key: key.text.to_string(),
            msg,
        };
        let index = match self.holes.pop() {
            Some(hole) => {
                self.entries[hole as usize] = Some(entry);
                hole as usize
            }
            None => {
                self.entries.push(Some(entry));
                self.entries.len() - 1
            }
        };
        self.place(tag(key.hash) << 32 | (index as u64 + 1));
        index
    }

    /// The slot's home: its tag.
    fn home(slot: u64) -> usize {
        (slot >> 32) as usize
    }

    /// Puts `slot` in the first empty slot from its home on.
    fn place(&mut self, slot: u64) {
        let mask = self.mask();
        let mut i = Self::home(slot) & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    fn grow(&mut self) {
        let doubled = vec![0; self.slots.len() * 2];
        let slots = std::mem::replace(&mut self.slots, doubled);
        for slot in slots.into_iter().filter(|&s| s != 0) {
            self.place(slot);
        }
    }

    pub(super) fn remove(&mut self, key: Key) -> Option<MessageState> {
        let (at, index) = self.find(key)?;
        crate::linear_probing::remove_at(&mut self.slots, at, Self::home);
        self.holes.push(index as u32);
        self.entries[index].take().map(|e| e.msg)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&String, &MessageState)> {
        self.entries.iter().flatten().map(|e| (&e.key, &e.msg))
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut MessageState)> {
        self.entries
            .iter_mut()
            .flatten()
            .map(|e| (&e.key, &mut e.msg))
    }

    /// First level: the slot a key of this hash starts probing at.
    pub(super) fn prefetch_slot(&self, hash: u64) {
        prefetch(&self.slots[tag(hash) as usize & self.mask()]);
    }

    /// Second level, once the slots are loaded: the entries their tags point to.
    pub(super) fn prefetch_entries(&self, hash: u64) {
        for (_, index) in self.candidates(hash) {
            let entry: *const Option<Entry> = &self.entries[index];
            prefetch(entry);
            // The entry spans several cache lines; the message's deliveries are read too.
            if let Some(e) = &self.entries[index] {
                prefetch(&e.msg.deliveries);
            }
        }
    }

    /// Third level, once the entries are loaded: each one's key text and deliveries.
    pub(super) fn prefetch_keys_and_deliveries(&self, hash: u64) {
        for (_, index) in self.candidates(hash) {
            if let Some(e) = &self.entries[index] {
                prefetch(e.key.as_ptr());
                prefetch(e.msg.deliveries.as_ptr());
            }
        }
    }

    /// The open message a key of this hash most likely is, without reading its key.
    pub(super) fn likely(&self, hash: u64) -> Option<&MessageState> {
        let (_, index) = self.candidates(hash).next()?;
        self.entries[index].as_ref().map(|e| &e.msg)
    }
}

#[cfg(test)]
mod tests {
    use super::OpenMessages;
    use crate::model::MessageState;
    use std::collections::HashMap;

    fn message(first_seen: i64) -> MessageState {
        MessageState {
            first_seen,
            ..MessageState::placeholder()
        }
    }

    /// The table against std's map, through inserts and removals that make it grow,
    /// wrap runs around its end and shift slots back; then again with hashes of 3 bits,
    /// where keys share tags and only the key tells entries apart.
    #[test]
    fn open_messages_match_a_map() {
        for hash_bits in [u64::MAX, 0b111 << 29 | 0b111] {
            let mut table = OpenMessages::new();
            table.hash_bits = hash_bits;
            let mut model: HashMap<String, i64> = HashMap::new();
            let mut x: u64 = 0x2545_f491_4f6c_dd1d;
            for step in 0..30_000i64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let key = format!("mx\0{:X}", x % 3_000);
                // Other bits than the key's choose the operation: every key is both
                // inserted and removed.
                match (x >> 32) % 3 {
                    0 => {
                        assert_eq!(
                            table.remove(table.key(&key)).map(|m| m.first_seen),
                            model.remove(&key),
                            "step {step}"
                        );
                    }
                    _ => {
                        let m = table.get_or_insert_with(table.key(&key), || message(step));
                        let want = *model.entry(key.clone()).or_insert(step);
                        assert_eq!(m.first_seen, want, "step {step}");
                    }
                }
                assert_eq!(table.len(), model.len());
            }
            for (key, first_seen) in &model {
                let found = table.get(table.key(key)).map(|m| m.first_seen);
                assert_eq!(found, Some(*first_seen));
            }
            assert_eq!(table.iter().count(), model.len());
        }
    }
}
