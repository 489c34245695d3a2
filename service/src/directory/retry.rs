//! When a failed Graph request is tried again, and after how long (graph-api.md §8.1, §8.2).
//!
//! - 429, any method (Graph did not execute it): wait `Retry-After` when Graph sent one (up to a
//!   cap; a longer one fails at once), else back off exponentially from the bucket's window.
//! - 503 (honouring its `Retry-After`), 504, a broken connection or a timeout: retried with
//!   exponential back-off and full jitter, but only for requests that are safe to repeat.
//!   A POST that may have executed is never repeated: it could create a second object.
//! - Anything else goes to the caller as it is.
//!
//! Pure: the caller supplies the attempt number and the random draw.

use std::time::Duration;

use reqwest::Method;

use crate::config::GraphLimits;

/// What went wrong with one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trouble {
    /// 429.
    Throttled { retry_after: Option<Duration> },
    /// 503.
    Unavailable { retry_after: Option<Duration> },
    /// 504.
    GatewayTimeout,
    /// The request went out but no complete answer came back (reset, timeout, cut body).
    Broken,
    /// No connection could be made, or any other status: not worth repeating.
    Final,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Wait this long, then try again.
    Retry { wait: Duration, why: &'static str },
    /// Graph keeps throttling (or asks for a wait over the cap): come back after this long.
    Throttled { retry_after: Duration },
    /// Give the failure to the caller.
    GiveUp,
}

/// Retry settings, from `graph.limits`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    max_attempts: u32,
    max_retry_after: Duration,
    backoff_base: Duration,
    backoff_max: Duration,
}

impl RetryPolicy {
    pub(crate) fn new(limits: &GraphLimits) -> RetryPolicy {
        RetryPolicy {
            max_attempts: limits.max_attempts.max(1),
            max_retry_after: Duration::from_secs(limits.max_retry_after_secs),
            backoff_base: Duration::from_millis(limits.backoff_base_ms),
            backoff_max: Duration::from_millis(limits.backoff_max_ms),
        }
    }

    /// What to do after `attempt` (1 = the first) failed with `trouble`. `window` is the
    /// request's bucket window (the first back-off of a 429 without `Retry-After`); `random` is
    /// a uniform draw from [0, 1) for the jitter.
    pub(crate) fn decide(
        &self,
        method: &Method,
        trouble: Trouble,
        attempt: u32,
        window: Duration,
        random: f64,
    ) -> Decision {
        let last = attempt >= self.max_attempts;
        match trouble {
            Trouble::Throttled {
                retry_after: Some(wait),
            } => {
                if last || wait > self.max_retry_after {
                    Decision::Throttled { retry_after: wait }
                } else {
                    Decision::Retry {
                        wait,
                        why: "429 Retry-After",
                    }
                }
            }
            Trouble::Throttled { retry_after: None } => {
                // The window is full: nothing is admitted for at least its length. Later waits
                // spread over [window, window * 2^n] so that many waiting clients drift apart.
                let ceiling = doubled(window, attempt - 1).min(self.backoff_max.max(window));
                let wait = window + (ceiling - window).mul_f64(random);
                if last {
                    Decision::Throttled { retry_after: wait }
                } else {
                    Decision::Retry {
                        wait,
                        why: "429 without Retry-After: back-off",
                    }
                }
            }
            _ if last || !safe_to_repeat(method) => Decision::GiveUp,
            Trouble::Unavailable {
                retry_after: Some(wait),
            } if wait <= self.max_retry_after => Decision::Retry {
                wait,
                why: "503 Retry-After",
            },
            Trouble::Unavailable { .. } => self.back_off(attempt, random, "503: back-off"),
            Trouble::GatewayTimeout => self.back_off(attempt, random, "504: back-off"),
            Trouble::Broken => self.back_off(attempt, random, "connection broken: back-off"),
            Trouble::Final => Decision::GiveUp,
        }
    }

    /// Exponential back-off with full jitter: uniform over [0, base * 2^(attempt-1)], capped.
    fn back_off(&self, attempt: u32, random: f64, why: &'static str) -> Decision {
        let ceiling = doubled(self.backoff_base, attempt - 1).min(self.backoff_max);
        Decision::Retry {
            wait: ceiling.mul_f64(random),
            why,
        }
    }
}

/// GET, HEAD, PUT and DELETE are idempotent. So are our PATCHes: every one sets absolute values
/// (a state, a list of targets), never increments, so sending one twice leaves the same result.
/// POST creates: repeating one that may have executed could create a duplicate.
fn safe_to_repeat(method: &Method) -> bool {
    method != Method::POST
}

fn doubled(base: Duration, times: u32) -> Duration {
    base.saturating_mul(1 << times.min(20))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::new(&GraphLimits {
            max_attempts: 4,
            max_retry_after_secs: 30,
            backoff_base_ms: 100,
            backoff_max_ms: 1_000,
            ..GraphLimits::default()
        })
    }

    const SECOND: Duration = Duration::from_secs(1);
    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_429_with_retry_after_waits_exactly_that_for_any_method() {
        for method in [Method::GET, Method::POST, Method::PATCH] {
            let decision = policy().decide(
                &method,
                Trouble::Throttled {
                    retry_after: Some(7 * SECOND),
                },
                1,
                SECOND,
                0.9,
            );
            assert_eq!(
                decision,
                Decision::Retry {
                    wait: 7 * SECOND,
                    why: "429 Retry-After"
                }
            );
        }
    }

    #[test]
    fn a_retry_after_over_the_cap_fails_at_once_saying_when_to_come_back() {
        let decision = policy().decide(
            &Method::GET,
            Trouble::Throttled {
                retry_after: Some(300 * SECOND),
            },
            1,
            SECOND,
            0.5,
        );
        assert_eq!(
            decision,
            Decision::Throttled {
                retry_after: 300 * SECOND
            }
        );
    }

    #[test]
    fn a_429_without_retry_after_backs_off_from_the_window_with_jitter() {
        let throttled = Trouble::Throttled { retry_after: None };
        let wait = |attempt, random| match policy().decide(
            &Method::GET,
            throttled,
            attempt,
            MS(200),
            random,
        ) {
            Decision::Retry { wait, .. } => wait,
            other => panic!("{other:?}"),
        };
        // First retry: the window itself; then over [window, window * 2^n], capped at 1 s.
        assert_eq!(wait(1, 0.99), MS(200));
        assert_eq!(wait(2, 0.0), MS(200));
        assert_eq!(wait(2, 0.5), MS(300));
        assert_eq!(wait(3, 0.5), MS(500));
        assert_eq!(wait(3, 1.0), MS(800));
    }

    #[test]
    fn the_last_429_says_throttled_instead_of_retrying() {
        let decision = policy().decide(
            &Method::GET,
            Trouble::Throttled {
                retry_after: Some(2 * SECOND),
            },
            4,
            SECOND,
            0.5,
        );
        assert_eq!(
            decision,
            Decision::Throttled {
                retry_after: 2 * SECOND
            }
        );
        assert!(matches!(
            policy().decide(
                &Method::GET,
                Trouble::Throttled { retry_after: None },
                4,
                SECOND,
                0.5
            ),
            Decision::Throttled { retry_after } if retry_after >= SECOND
        ));
    }

    #[test]
    fn transient_failures_back_off_exponentially_with_full_jitter() {
        let wait = |trouble, attempt, random| match policy().decide(
            &Method::GET,
            trouble,
            attempt,
            SECOND,
            random,
        ) {
            Decision::Retry { wait, .. } => wait,
            other => panic!("{other:?}"),
        };
        let unavailable = Trouble::Unavailable { retry_after: None };
        assert_eq!(wait(unavailable, 1, 0.5), MS(50));
        assert_eq!(wait(Trouble::GatewayTimeout, 2, 0.5), MS(100));
        assert_eq!(wait(Trouble::Broken, 3, 1.0), MS(400));
        assert_eq!(wait(Trouble::Broken, 3, 0.0), Duration::ZERO);
        // The 503's own Retry-After is honoured.
        assert_eq!(
            wait(
                Trouble::Unavailable {
                    retry_after: Some(3 * SECOND)
                },
                1,
                0.5
            ),
            3 * SECOND
        );
    }

    #[test]
    fn the_back_off_is_capped() {
        let decision = RetryPolicy::new(&GraphLimits {
            max_attempts: 40,
            backoff_base_ms: 100,
            backoff_max_ms: 1_000,
            ..GraphLimits::default()
        })
        .decide(&Method::GET, Trouble::Broken, 35, SECOND, 1.0);
        assert_eq!(
            decision,
            Decision::Retry {
                wait: SECOND,
                why: "connection broken: back-off"
            }
        );
    }

    #[test]
    fn writes_that_may_have_executed_are_repeated_only_when_idempotent() {
        for trouble in [
            Trouble::Unavailable { retry_after: None },
            Trouble::GatewayTimeout,
            Trouble::Broken,
        ] {
            assert_eq!(
                policy().decide(&Method::POST, trouble, 1, SECOND, 0.5),
                Decision::GiveUp
            );
            for method in [Method::PATCH, Method::PUT, Method::DELETE, Method::GET] {
                assert!(matches!(
                    policy().decide(&method, trouble, 1, SECOND, 0.5),
                    Decision::Retry { .. }
                ));
            }
        }
    }

    #[test]
    fn attempts_are_bounded_and_other_failures_are_final() {
        assert_eq!(
            policy().decide(&Method::GET, Trouble::GatewayTimeout, 4, SECOND, 0.5),
            Decision::GiveUp
        );
        assert_eq!(
            policy().decide(&Method::GET, Trouble::Final, 1, SECOND, 0.5),
            Decision::GiveUp
        );
    }
}
