//! Scheduled work (retention runs, photo re-checks, statistics roll-ups) that runs once across
//! every instance sharing the database, however many `serve` and `worker` processes there are.
//!
//! Each schedule is a row in `schedules`. Every instance looks at it now and then; the one whose
//! `UPDATE … WHERE next_run_at <= now AND held_until <= now` changes the row holds this turn.
//! It renews its hold while the work runs and, when done, counts the run and sets the next turn
//! `every` later. An instance that dies mid-run stops renewing; its hold expires after `HOLD`
//! and another instance runs the turn again (every scheduled job is safe to run again).

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::time::now_ms;

/// How long a turn stays held without renewal: an instance that dies leaves it this long.
const HOLD: Duration = Duration::from_secs(30);
/// Longest pause between two looks at a schedule.
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// One scheduled piece of work.
#[derive(Clone)]
pub struct Schedule {
    db: Db,
    name: &'static str,
    every: Duration,
    holder: String,
}

impl Schedule {
    /// `name` runs every `every`, across all instances; `holder` names this process.
    pub fn new(db: Db, name: &'static str, every: Duration, holder: String) -> Self {
        Self { db, name, every, holder }
    }

    /// Looks at the schedule until `shutdown`, running `work` on each turn this instance takes.
    /// The first turn of a schedule no instance has run before comes `first_after` from now.
    pub fn spawn<F, Fut>(self, first_after: Duration, shutdown: CancellationToken, mut work: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        tokio::spawn(async move {
            if let Err(error) = self.create(first_after).await {
                tracing::warn!(schedule = self.name, %error, "schedule not set up; it is tried again at the next look");
            }
            let look = self.every.min(LOOK_EVERY);
            loop {
                tokio::select! {
                    () = tokio::time::sleep(look) => {}
                    () = shutdown.cancelled() => return,
                }
                match self.take_turn().await {
                    Ok(true) => {
                        tokio::select! {
                            () = work() => {}
                            () = self.keep_holding() => {}
                        }
                        if let Err(error) = self.finish().await {
                            tracing::warn!(schedule = self.name, %error, "finishing a scheduled run failed; another instance may run it again");
                        }
                    }
                    Ok(false) => {}
                    Err(error) => tracing::warn!(schedule = self.name, %error, "looking at a schedule failed"),
                }
            }
        });
    }

    async fn create(&self, first_after: Duration) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO schedules (name, next_run_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(self.name)
            .bind(now_ms() + first_after.as_millis() as i64)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Whether this instance took the turn that is due (false: not due, or another holds it).
    async fn take_turn(&self) -> sqlx::Result<bool> {
        let now = now_ms();
        let taken = sqlx::query(
            "UPDATE schedules SET holder = $1, held_until = $2
             WHERE name = $3 AND next_run_at <= $4 AND held_until <= $4",
        )
        .bind(&self.holder)
        .bind(now + HOLD.as_millis() as i64)
        .bind(self.name)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Renews the hold every third of its length; returns only when the hold was lost (another
    /// instance took the turn over), which ends the run.
    async fn keep_holding(&self) {
        loop {
            tokio::time::sleep(HOLD / 3).await;
            let renewed = sqlx::query("UPDATE schedules SET held_until = $1 WHERE name = $2 AND holder = $3")
                .bind(now_ms() + HOLD.as_millis() as i64)
                .bind(self.name)
                .bind(&self.holder)
                .execute(self.db.pool())
                .await;
            match renewed {
                Ok(done) if done.rows_affected() == 1 => {}
                Ok(_) => {
                    tracing::warn!(schedule = self.name, "another instance took over this scheduled run");
                    return;
                }
                Err(error) => tracing::warn!(schedule = self.name, %error, "renewing a scheduled run's hold failed"),
            }
        }
    }

    /// Counts the run and sets the next turn.
    async fn finish(&self) -> sqlx::Result<()> {
        let now = now_ms();
        sqlx::query(
            "UPDATE schedules SET holder = NULL, held_until = 0, runs = runs + 1, last_run_at = $1,
                                  next_run_at = $2
             WHERE name = $3 AND holder = $4",
        )
        .bind(now)
        .bind(now + self.every.as_millis() as i64)
        .bind(self.name)
        .bind(&self.holder)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}
