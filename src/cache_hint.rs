//! Asking the processor to start loading memory that is about to be read.

/// Starts loading the cache line at `p` into the cache, without waiting for it. A hint:
/// it never faults, whatever `p` is, and does nothing where there is no such instruction.
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing into the program and cannot fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
