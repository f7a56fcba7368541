//! The only file that names burn backends.
//!
//! oxgrad computes in `f64` on burn's Flex CPU backend; gradients use burn's autodiff decorator,
//! optionally with gradient checkpointing. Every tensor oxgrad creates lives on a device made here.

use burn::tensor::{Device, FloatDType};

/// The CPU device, configured for `f64`. Safe to call repeatedly and from several threads: the
/// float type is fixed the first time, and a later call finds it already set.
#[must_use]
pub fn cpu() -> Device {
    let mut device = Device::flex();
    // Settings can be fixed only once per device; a second call reports AlreadyInitialized,
    // which is fine as long as the float type is f64 (checked below).
    let _ = device.configure(FloatDType::F64);
    debug_assert_eq!(device.settings().float_dtype, FloatDType::F64, "the CPU device must compute in f64");
    device
}

/// The CPU device with autodiff.
#[must_use]
pub fn cpu_autodiff() -> Device {
    cpu().autodiff()
}
