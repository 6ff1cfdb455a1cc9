//! What the load generator measures on its side: each endpoint's latency
//! and status counts (it listens to every answer as the client's
//! `Observer`), and its own CPU time.

use frontrow_client::Observer;
use reqwest::StatusCode;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// A tiny deterministic generator, so runs are reproducible.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        (self.next() % 10_000) as f64 / 10_000.0 < p
    }
}

/// Each endpoint's latencies (µs) and status counts.
#[derive(Default)]
pub(crate) struct Samples {
    pub(crate) latencies: BTreeMap<&'static str, Vec<u32>>,
    pub(crate) statuses: BTreeMap<(&'static str, u16), u64>,
}

/// Hears every answer the load test's client receives.
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Samples>);

impl Recorder {
    /// What it heard so far; it starts again from nothing.
    pub(crate) fn take(&self) -> anyhow::Result<Samples> {
        let mut samples = self
            .0
            .lock()
            .map_err(|_| anyhow::anyhow!("recorder poisoned"))?;
        Ok(std::mem::take(&mut *samples))
    }
}

impl Observer for Recorder {
    fn observe(&self, endpoint: &'static str, status: StatusCode, elapsed: Duration) {
        let micros = elapsed.as_micros().min(u32::MAX as u128) as u32;
        if let Ok(mut samples) = self.0.lock() {
            samples.latencies.entry(endpoint).or_default().push(micros);
            *samples
                .statuses
                .entry((endpoint, status.as_u16()))
                .or_default() += 1;
        }
    }
}

/// One endpoint's latency as the client measured it.
pub struct EndpointStats {
    pub name: &'static str,
    pub count: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

pub(crate) fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

/// This process's CPU time (user + system) so far, from /proc (Linux; 100
/// ticks per second, the kernel's USER_HZ on every mainstream platform).
pub(crate) fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

impl Samples {
    /// Each endpoint's latency percentiles over a run of `elapsed`.
    pub(crate) fn endpoint_stats(&mut self, elapsed: Duration) -> Vec<EndpointStats> {
        std::mem::take(&mut self.latencies)
            .into_iter()
            .map(|(name, mut samples)| {
                samples.sort_unstable();
                EndpointStats {
                    name,
                    count: samples.len(),
                    per_second: samples.len() as f64 / elapsed.as_secs_f64(),
                    p50_ms: percentile(&samples, 0.50),
                    p95_ms: percentile(&samples, 0.95),
                    p99_ms: percentile(&samples, 0.99),
                }
            })
            .collect()
    }

    /// Answers with `status`, over every endpoint.
    pub(crate) fn count_of(&self, status: u16) -> u64 {
        self.statuses
            .iter()
            .filter(|((_, s), _)| *s == status)
            .map(|(_, n)| n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile(&samples, 0.5), 50.0);
        assert_eq!(percentile(&samples, 0.99), 99.0);
    }
}
