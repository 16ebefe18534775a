//! Time as the core sees it: an [`Instant`] the caller constructs.
//!
//! The core never reads a clock (`std::time::Instant::now()` panics on
//! `wasm32-unknown-unknown`). The browser driver reads `performance.now()` in one
//! place and converts it with [`Instant::from_millis_f64`]; tests build instants
//! freely with [`Instant::from_millis`].

use core::ops::Add;
use core::time::Duration;

/// A point in time, in microseconds since an origin the caller chooses.
///
/// All arithmetic saturates: adding a huge [`Duration`] gives the far future, never a
/// panic or a wrap-around.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    micros: u64,
}

impl Instant {
    /// The origin (time zero).
    pub const ZERO: Instant = Instant { micros: 0 };

    /// An instant `ms` milliseconds after the origin.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        Instant {
            micros: ms.saturating_mul(1000),
        }
    }

    /// An instant from fractional milliseconds, as `performance.now()` returns them.
    ///
    /// Negative values and NaN map to the origin; values too large saturate.
    #[must_use]
    pub fn from_millis_f64(ms: f64) -> Self {
        let micros = ms * 1000.0;
        // `as` saturates for floats (NaN becomes 0), so this cannot panic.
        Instant {
            micros: if micros.is_nan() || micros <= 0.0 {
                0
            } else {
                micros as u64
            },
        }
    }

    /// The time elapsed since `earlier`, or zero if `earlier` is later than `self`.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(earlier.micros))
    }

    /// Milliseconds since the origin, as a float (for reporting).
    #[must_use]
    pub fn as_millis_f64(self) -> f64 {
        self.micros as f64 / 1000.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturating addition.
    fn add(self, rhs: Duration) -> Instant {
        let add = u64::try_from(rhs.as_micros()).unwrap_or(u64::MAX);
        Instant {
            micros: self.micros.saturating_add(add),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addition_saturates_instead_of_overflowing() {
        let far = Instant::from_millis(u64::MAX) + Duration::MAX;
        assert_eq!(far, Instant { micros: u64::MAX });
    }

    #[test]
    fn float_conversion_maps_nan_and_negatives_to_the_origin() {
        assert_eq!(Instant::from_millis_f64(f64::NAN), Instant::ZERO);
        assert_eq!(Instant::from_millis_f64(-5.0), Instant::ZERO);
        assert_eq!(Instant::from_millis_f64(1.5).micros, 1500);
        assert_eq!(Instant::from_millis_f64(f64::INFINITY).micros, u64::MAX);
    }

    #[test]
    fn duration_since_a_later_instant_is_zero() {
        let a = Instant::from_millis(10);
        let b = Instant::from_millis(20);
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
        assert_eq!(b.saturating_duration_since(a), Duration::from_millis(10));
        assert!((b.as_millis_f64() - 20.0).abs() < f64::EPSILON);
    }
}
