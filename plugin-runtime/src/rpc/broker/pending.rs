//! Messages from the other side waiting to be claimed, by broker id: connection information for
//! an id this side will dial, or the acknowledgement of a knock.
//!
//! One message per id at a time (extras are dropped, as go-plugin drops them); a message nobody
//! claims within [`STALE`] is forgotten, so a later dial for a reused id cannot find it. Expiry is
//! checked whenever the table is touched, so no task waits on each message.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::sync::lock;

/// How long unclaimed information is kept: go-plugin's 5 s.
pub(super) const STALE: Duration = Duration::from_secs(5);

/// The table; `T` is the message (go-plugin's `ConnInfo`).
#[derive(Debug)]
pub(super) struct Pending<T> {
    waiting: Mutex<HashMap<u32, (T, Instant)>>,
    /// Woken on every delivery; each claimer checks for its own id.
    delivered: Notify,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending {
            waiting: Mutex::new(HashMap::new()),
            delivered: Notify::new(),
        }
    }
}

impl<T> Pending<T> {
    /// A message for `id` has arrived.
    pub(super) fn deliver(&self, id: u32, message: T) {
        let now = Instant::now();
        {
            let mut waiting = lock(&self.waiting);
            waiting.retain(|_, (_, arrived)| now.duration_since(*arrived) < STALE);
            waiting.entry(id).or_insert((message, now));
        }
        self.delivered.notify_waiters();
    }

    /// Takes the message for `id`, waiting up to `limit` for it to arrive.
    pub(super) async fn claim(&self, id: u32, limit: Duration) -> Option<T> {
        let claim = async {
            loop {
                let delivered = self.delivered.notified();
                tokio::pin!(delivered);
                // Registered before looking, so a delivery in between is not missed.
                delivered.as_mut().enable();
                if let Some(message) = self.take(id) {
                    return message;
                }
                delivered.await;
            }
        };
        tokio::time::timeout(limit, claim).await.ok()
    }

    fn take(&self, id: u32) -> Option<T> {
        let mut waiting = lock(&self.waiting);
        let (message, arrived) = waiting.remove(&id)?;
        (arrived.elapsed() < STALE).then_some(message)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.waiting).len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_claimer_gets_a_message_that_arrives_while_it_waits() {
        let pending = Arc::new(Pending::default());
        let claimer = tokio::spawn({
            let pending = Arc::clone(&pending);
            async move { pending.claim(7, STALE).await }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        pending.deliver(7, "seven");
        assert_eq!(claimer.await.unwrap(), Some("seven"));
        assert_eq!(pending.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_that_arrived_first_is_claimed_at_once() {
        let pending = Pending::default();
        pending.deliver(1, "one");
        assert_eq!(pending.claim(1, Duration::ZERO).await, Some("one"));
    }

    #[tokio::test(start_paused = true)]
    async fn claims_are_by_id_and_a_second_message_for_an_id_is_dropped() {
        let pending = Pending::default();
        pending.deliver(1, "first");
        pending.deliver(1, "second");
        pending.deliver(2, "other");
        assert_eq!(pending.claim(1, STALE).await, Some("first"));
        assert_eq!(pending.claim(2, STALE).await, Some("other"));
        // Claimed once: a second claim waits out its limit.
        assert_eq!(pending.claim(1, Duration::from_secs(1)).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unclaimed_message_goes_stale_after_five_seconds() {
        let pending = Pending::default();
        pending.deliver(3, "late");
        tokio::time::sleep(STALE).await;
        assert_eq!(pending.claim(3, Duration::from_secs(1)).await, None);

        pending.deliver(4, "in time");
        tokio::time::sleep(STALE - Duration::from_millis(1)).await;
        assert_eq!(pending.claim(4, Duration::ZERO).await, Some("in time"));
    }

    #[tokio::test(start_paused = true)]
    async fn stale_messages_are_forgotten_when_the_table_is_next_touched() {
        let pending = Pending::default();
        for id in 0..100 {
            pending.deliver(id, id);
        }
        tokio::time::sleep(STALE).await;
        pending.deliver(1000, 1000);
        assert_eq!(pending.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_claim_times_out_without_a_message() {
        let pending = Pending::<()>::default();
        assert_eq!(pending.claim(9, STALE).await, None);
    }
}
