//! The durable queue under failure: dead workers, several workers, shutdown, dead letters.
//! These start real `meldeweg worker` processes against the test's database.

use std::time::Duration;

use meldeweg::db::Db;
use meldeweg::queue::{JobKind, Queue};
use tokio::io::AsyncReadExt;

use crate::fake_graph::Answer;
use crate::helpers::*;

/// A service that only takes webhooks; the tests start the workers as processes.
async fn spawn_ingress_only(lease_seconds: u64) -> TestApp {
    spawn_app_with(|s| {
        s.queue.in_process = false;
        s.queue.lease_seconds = lease_seconds;
    })
    .await
}

async fn stderr_of(child: &mut tokio::process::Child) -> String {
    let mut stderr = String::new();
    child.stderr.take().expect("stderr is piped").read_to_string(&mut stderr).await.unwrap();
    stderr
}

/// The `completed=N` a worker logs when it stops.
fn completed_jobs(log: &str) -> u64 {
    log.lines()
        .filter(|line| line.contains("worker stopped"))
        .find_map(|line| line.split("completed=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'worker stopped' line in:\n{log}"))
}

#[tokio::test]
async fn a_job_whose_worker_was_killed_completes_after_its_lease_expires() {
    let app = spawn_ingress_only(2).await;
    app.graph.script([Answer::Hang]);
    let citizen = Citizen::new();
    app.send(&citizen, text("Bank am Teich kaputt")).await;

    let mut first = app.start_process(&["worker"], &[("MELDEWEG_WHATSAPP_TIMEOUT_SECONDS", "600")]);
    eventually("the first worker to start sending", || async { !app.graph.requests().is_empty() }).await;
    first.kill().await.expect("kill -9 the worker");

    let mut second = app.start_process(&["worker"], &[]);
    let replies = app.replies(&citizen, 2).await;
    assert_eq!(replies.len(), 2, "the notice and the location request arrive after all");
    app.queue_drained().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'").await, 2);
    terminate(&second);
    assert!(second.wait().await.unwrap().success());
}

#[tokio::test]
async fn two_worker_processes_share_the_work_and_never_run_a_job_twice() {
    let app = spawn_ingress_only(30).await;
    app.graph.set_delay(Duration::from_millis(15));
    let citizens: Vec<Citizen> = (0..40).map(|_| Citizen::new()).collect();
    for citizen in &citizens {
        app.send(citizen, text("Sperrmüll am Straßenrand")).await;
    }
    let mut workers = [app.start_process(&["worker"], &[]), app.start_process(&["worker"], &[])];
    eventually("every citizen to get notice and location request", || async {
        app.graph.requests().len() >= citizens.len() * 2
    })
    .await;
    app.queue_drained().await;
    for worker in &workers {
        terminate(worker);
    }
    let mut completed = Vec::new();
    for worker in &mut workers {
        let log = stderr_of(worker).await;
        assert!(worker.wait().await.unwrap().success(), "worker exits 0 on SIGTERM:\n{log}");
        completed.push(completed_jobs(&log));
    }
    assert_eq!(app.graph.requests().len(), citizens.len() * 2, "no message was sent twice");
    for citizen in &citizens {
        assert_eq!(app.graph.texts_to(citizen.address()).len(), 2);
    }
    assert_eq!(completed.iter().sum::<u64>(), citizens.len() as u64 * 2, "40 intake + 40 notify jobs");
    assert!(completed.iter().all(|&n| n > 0), "both workers did some of the work: {completed:?}");
}

#[tokio::test]
async fn sigterm_lets_a_worker_finish_the_job_in_hand_and_exit_0() {
    let app = spawn_ingress_only(30).await;
    app.graph.set_delay(Duration::from_millis(800));
    let citizen = Citizen::new();
    app.send(&citizen, text("Wasserrohrbruch auf dem Gehweg")).await;
    let mut worker = app.start_process(&["worker"], &[]);
    eventually("the reply to be on its way", || async { !app.graph.requests().is_empty() }).await;
    terminate(&worker);
    let exit = worker.wait().await.unwrap();
    let log = stderr_of(&mut worker).await;
    assert!(exit.success(), "exit status {exit:?}\n{log}");
    assert!(log.contains("shutdown requested"), "{log}");
    assert_eq!(app.graph.texts_to(citizen.address()).len(), 2, "both messages of the job in hand went out");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn a_job_that_keeps_failing_is_dead_lettered_and_its_message_marked_failed() {
    let app = spawn_app_with(|s| s.queue.max_attempts = 3).await;
    app.graph.script(std::iter::repeat_n(Answer::Status(503), 100));
    let citizen = Citizen::new();
    app.send(&citizen, text("Poller umgefahren")).await;
    eventually("the job to be dead-lettered", || async {
        app.count("SELECT COUNT(*) FROM jobs WHERE dead_at IS NOT NULL").await == 1
    })
    .await;
    assert_eq!(app.graph.requests().len(), 3);
    let last_error: String = sqlx::query_scalar("SELECT last_error FROM jobs").fetch_one(app.db.pool()).await.unwrap();
    assert!(last_error.contains("503"), "{last_error}");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE state = 'failed'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE state = 'queued'").await, 1);
}

#[tokio::test]
async fn concurrent_claims_never_hand_out_the_same_job() {
    let app = spawn_ingress_only(60).await;
    let settings = &app.settings;
    let db = Db::connect(&app.database_url, &settings.database).await.unwrap();
    let queues: Vec<Queue> =
        (0..4).map(|n| Queue::new(db.clone(), settings.queue.clone(), format!("claimer-{n}"))).collect();
    let now = meldeweg::time::now_ms();
    let mut tx = db.begin().await.unwrap();
    for n in 0..200 {
        let payload = serde_json::json!({ "outbox_ids": [n] });
        queues[0].enqueue(&mut tx, JobKind::Notify, None, &payload, now).await.unwrap();
    }
    tx.commit().await.unwrap();

    let claims = futures_util::future::join_all(queues.iter().map(|queue| async move {
        let mut ids = Vec::new();
        loop {
            let jobs = queue.claim(7, meldeweg::time::now_ms()).await.unwrap();
            if jobs.is_empty() {
                return ids;
            }
            ids.extend(jobs.iter().map(|job| job.id));
        }
    }))
    .await;
    let mut all: Vec<i64> = claims.iter().flatten().copied().collect();
    assert_eq!(all.len(), 200);
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 200, "a job was claimed twice");
}

#[tokio::test]
async fn jobs_of_one_series_are_handed_out_one_at_a_time_in_order() {
    let app = spawn_ingress_only(60).await;
    let settings = &app.settings;
    let queue = Queue::new(app.db.clone(), settings.queue.clone(), "series-test".into());
    let now = meldeweg::time::now_ms();
    let mut tx = app.db.begin().await.unwrap();
    let mut series = Vec::new();
    for n in 0..3 {
        let payload = serde_json::json!({ "outbox_ids": [n] });
        series.push(queue.enqueue(&mut tx, JobKind::Notify, Some("out:7"), &payload, now).await.unwrap());
    }
    let loner =
        queue.enqueue(&mut tx, JobKind::Notify, None, &serde_json::json!({ "outbox_ids": [] }), now).await.unwrap();
    tx.commit().await.unwrap();

    let claimed: Vec<i64> = queue.claim(10, now).await.unwrap().iter().map(|j| j.id).collect();
    assert_eq!(claimed, vec![series[0], loner], "only the head of the series, and the job without one");
    assert!(queue.claim(10, now).await.unwrap().is_empty(), "the rest waits while the head runs");

    let head = queue.claim(10, now + 61_000).await.unwrap();
    assert_eq!(head.iter().map(|j| j.id).collect::<Vec<_>>(), vec![series[0], loner], "expired leases come back");
    queue.fail(&head[0], "try later", Some(Duration::from_secs(3600)), now).await.unwrap();
    assert!(
        queue.claim(10, now + 62_000).await.unwrap().iter().all(|j| !series.contains(&j.id)),
        "a head waiting for its retry still holds back the series"
    );
    let reclaimed = queue.claim(10, now + 3_700_000).await.unwrap();
    queue.dead_letter(&reclaimed[0], "gave up", now).await.unwrap();
    let next: Vec<i64> = queue.claim(10, now + 3_700_000).await.unwrap().iter().map(|j| j.id).collect();
    assert_eq!(next, vec![series[1]], "after the head is dead-lettered the series moves on");
}
