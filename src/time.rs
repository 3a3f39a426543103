//! Dates and the system clock.

/// Unix seconds as ISO-8601 UTC, `2026-11-28T12:00:00Z`.
pub fn format_date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The system clock in Unix seconds.
///
/// Every encrypt and decrypt reads it once, and only whole seconds matter (dates,
/// rotation and deletion times), so on Linux it reads `CLOCK_REALTIME_COARSE`: the
/// time of the kernel's last tick, copied out of the vDSO page without reading
/// the TSC (a few ns; `SystemTime::now()` cost ~8 % of a 64-byte AdvanceEncrypt
/// on a KVM guest). It lags the precise clock by at most one tick (1-10 ms).
/// Neither is a system call. Elsewhere, or if the coarse clock fails, the
/// precise one.
pub fn system_now() -> i64 {
    coarse(Clock::Realtime).map_or_else(precise_now, |(secs, _)| secs)
}

/// Milliseconds of a monotonic clock since some fixed moment of this process (the
/// first call), for intervals of tens of milliseconds and more: the store's check
/// for other processes' changes, on every call. `CLOCK_MONOTONIC_COARSE` on Linux
/// (vDSO, no TSC read, one tick of resolution), else [`std::time::Instant`].
pub fn monotonic_coarse_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    static COARSE_START: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let ms = |(secs, nanos): (i64, i64)| {
        u64::try_from(secs).unwrap_or(0) * 1_000 + u64::try_from(nanos).unwrap_or(0) / 1_000_000
    };
    let start = *COARSE_START.get_or_init(|| coarse(Clock::Monotonic).map(ms));
    match (start, coarse(Clock::Monotonic)) {
        (Some(start), Some(now)) => ms(now).saturating_sub(start),
        _ => START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_millis() as u64,
    }
}

fn precise_now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The two coarse clocks.
#[derive(Clone, Copy)]
enum Clock {
    Realtime,
    Monotonic,
}

/// A coarse clock as (seconds, nanoseconds). One of the crate's few uses of
/// `unsafe` outside `src/ffi/` (see `lib.rs`): the libc call.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
fn coarse(clock: Clock) -> Option<(i64, i64)> {
    let id = match clock {
        Clock::Realtime => libc::CLOCK_REALTIME_COARSE,
        Clock::Monotonic => libc::CLOCK_MONOTONIC_COARSE,
    };
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into `ts`, which outlives the call.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    // `time_t` and the nanoseconds are i64 on the 64-bit targets, i32 on some
    // 32-bit ones.
    #[allow(clippy::useless_conversion)]
    let now = (i64::from(ts.tv_sec), i64::from(ts.tv_nsec));
    (rc == 0).then_some(now)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn coarse(_clock: Clock) -> Option<(i64, i64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_8601_utc() {
        assert_eq!(format_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_date(1_795_867_200), "2026-11-28T12:00:00Z");
        assert_eq!(format_date(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_date(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn the_coarse_clock_keeps_to_the_precise_one() {
        // The coarse clock lags by at most a tick: the same second, or the one
        // before when a second boundary falls between the two reads.
        for _ in 0..1000 {
            let before = precise_now();
            let coarse = system_now();
            let after = precise_now();
            assert!(
                (before - 1..=after).contains(&coarse),
                "{before} {coarse} {after}"
            );
        }
        #[cfg(target_os = "linux")]
        assert!(coarse(Clock::Realtime).is_some());
    }

    #[test]
    fn the_coarse_monotonic_clock_moves_with_the_precise_one() {
        let (start, coarse_start) = (std::time::Instant::now(), monotonic_coarse_ms());
        std::thread::sleep(std::time::Duration::from_millis(120));
        let (elapsed, coarse_elapsed) = (start.elapsed(), monotonic_coarse_ms() - coarse_start);
        // A tick (at most 10 ms) of lag at either end.
        let precise = elapsed.as_millis() as u64;
        assert!(
            (precise.saturating_sub(20)..=precise + 20).contains(&coarse_elapsed),
            "{coarse_elapsed} ms against {precise} ms"
        );
        #[cfg(target_os = "linux")]
        assert!(coarse(Clock::Monotonic).is_some());
        let mut last = monotonic_coarse_ms();
        for _ in 0..10_000 {
            let now = monotonic_coarse_ms();
            assert!(now >= last, "never backwards");
            last = now;
        }
    }
}
