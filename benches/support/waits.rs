//! Where the database's time goes under load: samples `pg_stat_activity` every few
//! milliseconds and counts, over all samples, what each busy session of the benchmark's
//! database was doing: running (on the CPU) or waiting (a lock, the WAL flush of a commit, the
//! client), with the statement's first words. A share is the part of all busy-session samples.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How often `pg_stat_activity` is read.
const EVERY: Duration = Duration::from_millis(5);
/// Rows printed.
const TOP: usize = 12;

pub struct Sampler {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Waits>,
}

pub struct Waits {
    samples: u64,
    counts: HashMap<String, u64>,
}

impl Sampler {
    pub fn start(database_url: &str) -> Self {
        let url = database_url.to_string();
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
            let mut waits = Waits { samples: 0, counts: HashMap::new() };
            loop {
                tokio::select! {
                    _ = &mut stopped => return waits,
                    () = tokio::time::sleep(EVERY) => {}
                }
                let rows: Vec<(Option<String>, Option<String>, String)> = sqlx::query_as(
                    "SELECT wait_event_type, wait_event, regexp_replace(left(query, 48), '\\s+', ' ', 'g')
                     FROM pg_stat_activity
                     WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap_or_default();
                waits.samples += 1;
                for (kind, event, query) in rows {
                    let what = match (kind, event) {
                        (Some(kind), Some(event)) => format!("{kind}:{event}"),
                        _ => "running".to_string(),
                    };
                    *waits.counts.entry(format!("{what:<28} {query}")).or_default() += 1;
                }
            }
        });
        Self { stop, task }
    }

    pub async fn stop(self) -> Waits {
        let _ = self.stop.send(());
        self.task.await.unwrap()
    }
}

impl fmt::Display for Waits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let busy: u64 = self.counts.values().sum();
        writeln!(
            f,
            "PostgreSQL busy sessions: {:.2} on average over {} samples; where their time went:",
            busy as f64 / self.samples.max(1) as f64,
            self.samples
        )?;
        let mut rows: Vec<(&String, &u64)> = self.counts.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1));
        for (what, count) in rows.into_iter().take(TOP) {
            writeln!(f, "  {:5.1} %  {what}", 100.0 * *count as f64 / busy.max(1) as f64)?;
        }
        Ok(())
    }
}
