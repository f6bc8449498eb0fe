//! The one delicate step of a linear-probing hash table whose slots are `u64`s (0: empty,
//! as many slots as a power of two): taking a value out without breaking other lookups.

/// Empties slot `at` by backward-shift deletion: a later slot of the same run moves into
/// the hole when the hole lies between that slot's home (`home(value)`; bits above the
/// table's size are ignored) and where it sits, so no lookup stops at a hole short of it.
pub fn remove_at(slots: &mut [u64], at: usize, home: impl Fn(u64) -> usize) {
    let mask = slots.len() - 1;
    let mut hole = at;
    let mut j = at;
    loop {
        j = (j + 1) & mask;
        let value = slots[j];
        if value == 0 {
            break;
        }
        let home = home(value) & mask;
        if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
            slots[hole] = value;
            hole = j;
        }
    }
    slots[hole] = 0;
}
