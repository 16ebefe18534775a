//! The reconnect delay schedule: exponential growth, a cap, and per-attempt jitter.
//!
//! ```text
//!  retry n:      1      2      3      4      5     ...    k
//!  delay (ms): 1000   1500   2250   3375   5062   ...  30000 (capped)
//!  jittered:  [500,1000] [750,1500] ...  each uniformly in [d(1-j), d]
//! ```
//!
//! All maths is in `f64` milliseconds with the exponent capped, so no input can
//! overflow or panic: an infinite or NaN intermediate is treated as "at the cap".

use core::time::Duration;

/// Exponents above this are all "at the cap" for any growth factor > 1 and any
/// sane delay; capping keeps `powi` finite-time and meaningful.
const MAX_EXPONENT: u32 = 1024;

/// A small, seeded pseudo-random generator (SplitMix64). Deterministic for a seed,
/// so tests reproduce exact jitter; the driver seeds it from the browser.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// The schedule's parameters, copied from the config.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Backoff {
    pub(crate) min: Duration,
    pub(crate) max: Duration,
    pub(crate) growth: f64,
    pub(crate) jitter: f64,
}

impl Backoff {
    /// The un-jittered delay before retry `n` (`n >= 1`; `n == 0` means no delay).
    pub(crate) fn base_delay(&self, n: u32) -> Duration {
        if n == 0 {
            return Duration::ZERO;
        }
        let exponent = (n - 1).min(MAX_EXPONENT);
        // `powi` takes an i32; MAX_EXPONENT fits.
        let factor = self
            .growth
            .powi(i32::try_from(exponent).unwrap_or(i32::MAX));
        let ms = self.min.as_secs_f64() * 1000.0 * factor;
        let max_ms = self.max.as_secs_f64() * 1000.0;
        if !ms.is_finite() || ms >= max_ms {
            return self.max;
        }
        millis_to_duration(ms).min(self.max)
    }

    /// `d` shortened by a random fraction of up to `jitter`: uniform in
    /// `(d × (1 − jitter), d]`.
    pub(crate) fn jittered(&self, d: Duration, rng: &mut Rng) -> Duration {
        if self.jitter <= 0.0 || d.is_zero() {
            return d;
        }
        let keep = 1.0 - self.jitter * rng.next_unit();
        millis_to_duration(d.as_secs_f64() * 1000.0 * keep).min(d)
    }
}

/// Converts non-negative finite milliseconds to a duration; anything else is zero.
fn millis_to_duration(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(min: u64, max: u64, growth: f64, jitter: f64) -> Backoff {
        Backoff {
            min: Duration::from_millis(min),
            max: Duration::from_millis(max),
            growth,
            jitter,
        }
    }

    #[test]
    fn the_delay_grows_geometrically_from_the_minimum_up_to_the_cap() {
        let b = schedule(1000, 30_000, 1.5, 0.0);
        let got: Vec<u128> = (0..=10).map(|n| b.base_delay(n).as_millis()).collect();
        assert_eq!(
            got,
            [0, 1000, 1500, 2250, 3375, 5062, 7593, 11390, 17085, 25628, 30000]
        );
    }

    #[test]
    fn huge_retry_numbers_and_growth_stay_at_the_cap() {
        let b = schedule(1000, 30_000, 1.0e300, 0.0);
        assert_eq!(b.base_delay(3), Duration::from_secs(30));
        assert_eq!(b.base_delay(u32::MAX), Duration::from_secs(30));
        let b = schedule(1000, 30_000, 1.5, 0.0);
        assert_eq!(b.base_delay(u32::MAX), Duration::from_secs(30));
        let b = schedule(1000, 30_000, 1.0, 0.0);
        assert_eq!(b.base_delay(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn jitter_keeps_each_delay_within_its_bounds_and_varies() {
        let b = schedule(1000, 30_000, 2.0, 0.5);
        let mut rng = Rng::new(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            let d = b.jittered(Duration::from_millis(1000), &mut rng);
            assert!(d <= Duration::from_millis(1000), "{d:?}");
            assert!(d > Duration::from_millis(500), "{d:?}");
            seen.insert(d.as_millis());
        }
        assert!(seen.len() > 100, "jitter should spread delays");
    }

    #[test]
    fn full_jitter_may_go_down_to_zero_but_never_negative() {
        let b = schedule(1000, 30_000, 2.0, 1.0);
        let mut rng = Rng::new(1);
        let min = (0..1000)
            .map(|_| b.jittered(Duration::from_millis(1000), &mut rng))
            .min()
            .unwrap();
        assert!(min < Duration::from_millis(20), "{min:?}");
    }

    #[test]
    fn the_generator_is_deterministic_per_seed_and_in_range() {
        let a: Vec<f64> = {
            let mut r = Rng::new(42);
            (0..5).map(|_| r.next_unit()).collect()
        };
        let b: Vec<f64> = {
            let mut r = Rng::new(42);
            (0..5).map(|_| r.next_unit()).collect()
        };
        assert_eq!(a, b);
        assert!(a.iter().all(|u| (0.0..1.0).contains(u)));
        assert_ne!(a[0], a[1]);
    }
}
