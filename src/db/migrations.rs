//! The schema migrations, compiled into the binary: `migrations/sqlite/` and
//! `migrations/postgres/` hold one numbered file per change with the same meaning in both.
//! A new migration is a new file in both folders and a new line in each list below.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::db::Backend;

const SQLITE: &[(i64, &str, &str)] = &[
    (1, "intake spine", include_str!("../../migrations/sqlite/0001_intake_spine.sql")),
    (2, "job series", include_str!("../../migrations/sqlite/0002_job_series.sql")),
    (3, "cleaned photos", include_str!("../../migrations/sqlite/0003_cleaned_photos.sql")),
    (4, "work orders", include_str!("../../migrations/sqlite/0004_work_orders.sql")),
    (5, "category corrections", include_str!("../../migrations/sqlite/0005_category_corrections.sql")),
    (6, "staff workflow", include_str!("../../migrations/sqlite/0006_staff_workflow.sql")),
    (7, "statistics indexes", include_str!("../../migrations/sqlite/0007_statistics_indexes.sql")),
    (8, "opening report index", include_str!("../../migrations/sqlite/0008_opening_report_index.sql")),
    (9, "statistics rollups", include_str!("../../migrations/sqlite/0009_statistics_rollups.sql")),
    (10, "statistics buckets", include_str!("../../migrations/sqlite/0010_statistics_buckets.sql")),
    (11, "audit log", include_str!("../../migrations/sqlite/0011_audit_log.sql")),
    (12, "retention and rights", include_str!("../../migrations/sqlite/0012_retention_and_rights.sql")),
    (13, "web form", include_str!("../../migrations/sqlite/0013_web_form.sql")),
    (14, "erasure requests", include_str!("../../migrations/sqlite/0014_erasure_requests.sql")),
    (15, "channel-neutral core", include_str!("../../migrations/sqlite/0015_channel_neutral_core.sql")),
    (16, "rate limits", include_str!("../../migrations/sqlite/0016_rate_limits.sql")),
    (17, "public copies", include_str!("../../migrations/sqlite/0017_public_copies.sql")),
    (18, "after-photo index", include_str!("../../migrations/sqlite/0018_after_photo_index.sql")),
    (19, "search terms", include_str!("../../migrations/sqlite/0019_search_terms.sql")),
    (20, "open311 keys", include_str!("../../migrations/sqlite/0020_open311_keys.sql")),
    (21, "forwarded requests", include_str!("../../migrations/sqlite/0021_forwarded_requests.sql")),
    (22, "order events by time", include_str!("../../migrations/sqlite/0022_order_events_time.sql")),
    (23, "job request ids", include_str!("../../migrations/sqlite/0023_job_request_ids.sql")),
    (24, "schedules", include_str!("../../migrations/sqlite/0024_schedules.sql")),
    (25, "duplicate cells", include_str!("../../migrations/sqlite/0025_duplicate_cells.sql")),
    (26, "audit pending", include_str!("../../migrations/sqlite/0026_audit_pending.sql")),
    (27, "order lists", include_str!("../../migrations/sqlite/0027_order_lists.sql")),
    (28, "backlog index", include_str!("../../migrations/sqlite/0028_backlog_index.sql")),
];

const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "intake spine", include_str!("../../migrations/postgres/0001_intake_spine.sql")),
    (2, "job series", include_str!("../../migrations/postgres/0002_job_series.sql")),
    (3, "cleaned photos", include_str!("../../migrations/postgres/0003_cleaned_photos.sql")),
    (4, "work orders", include_str!("../../migrations/postgres/0004_work_orders.sql")),
    (5, "category corrections", include_str!("../../migrations/postgres/0005_category_corrections.sql")),
    (6, "staff workflow", include_str!("../../migrations/postgres/0006_staff_workflow.sql")),
    (7, "statistics indexes", include_str!("../../migrations/postgres/0007_statistics_indexes.sql")),
    (8, "opening report index", include_str!("../../migrations/postgres/0008_opening_report_index.sql")),
    (9, "statistics rollups", include_str!("../../migrations/postgres/0009_statistics_rollups.sql")),
    (10, "statistics buckets", include_str!("../../migrations/postgres/0010_statistics_buckets.sql")),
    (11, "audit log", include_str!("../../migrations/postgres/0011_audit_log.sql")),
    (12, "retention and rights", include_str!("../../migrations/postgres/0012_retention_and_rights.sql")),
    (13, "web form", include_str!("../../migrations/postgres/0013_web_form.sql")),
    (14, "erasure requests", include_str!("../../migrations/postgres/0014_erasure_requests.sql")),
    (15, "channel-neutral core", include_str!("../../migrations/postgres/0015_channel_neutral_core.sql")),
    (16, "rate limits", include_str!("../../migrations/postgres/0016_rate_limits.sql")),
    (17, "public copies", include_str!("../../migrations/postgres/0017_public_copies.sql")),
    (18, "after-photo index", include_str!("../../migrations/postgres/0018_after_photo_index.sql")),
    (19, "search terms", include_str!("../../migrations/postgres/0019_search_terms.sql")),
    (20, "open311 keys", include_str!("../../migrations/postgres/0020_open311_keys.sql")),
    (21, "forwarded requests", include_str!("../../migrations/postgres/0021_forwarded_requests.sql")),
    (22, "order events by time", include_str!("../../migrations/postgres/0022_order_events_time.sql")),
    (23, "job request ids", include_str!("../../migrations/postgres/0023_job_request_ids.sql")),
    (24, "schedules", include_str!("../../migrations/postgres/0024_schedules.sql")),
    (25, "duplicate cells", include_str!("../../migrations/postgres/0025_duplicate_cells.sql")),
    (26, "audit pending", include_str!("../../migrations/postgres/0026_audit_pending.sql")),
    (27, "order lists", include_str!("../../migrations/postgres/0027_order_lists.sql")),
    (28, "backlog index", include_str!("../../migrations/postgres/0028_backlog_index.sql")),
];

fn list(backend: Backend) -> &'static [(i64, &'static str, &'static str)] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

pub fn migrator(backend: Backend) -> Migrator {
    let migrations = list(backend)
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(version, Cow::Borrowed(description), MigrationType::Simple, Cow::Borrowed(sql), false)
        })
        .collect::<Vec<_>>();
    Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT }
}

pub fn latest_version(backend: Backend) -> i64 {
    list(backend).iter().map(|m| m.0).max().unwrap_or(0)
}
