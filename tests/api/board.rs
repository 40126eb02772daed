//! The order board without a search, on a seeded history of 6,000 reports, against a plain
//! sort of every order: the active orders most urgent first (overdue, then by priority, then
//! oldest) with their exact count; closed orders and all orders newest first, counted up to
//! the cap or as far as the page shown, and the list says "more than".

use meldeweg::orders::board::{Filter, StatusFilter, COUNT_CAP};
use meldeweg::staff::Role;
use meldeweg_workers::status::OrderStatus;
use sqlx::Row;

use crate::helpers::*;
use crate::search::walked;
use crate::staff_helpers::*;

struct Order {
    number: String,
    status: String,
    depot: String,
    priority: u8,
    due: i64,
    created: i64,
    id: i64,
}

#[tokio::test]
async fn the_board_sorts_active_orders_by_urgency_and_the_others_newest_first_with_a_capped_count() {
    let app = spawn_app().await;
    let municipality = meldeweg::town::load(&app.settings, &[]).unwrap();
    let now = meldeweg::time::now_ms();
    meldeweg::demo::seed(&app.db, &municipality, &app.settings.sla, 6000, 500, 11, now).await.unwrap();
    let rows = sqlx::query("SELECT id, number, status, depot, priority, due_at, created_at FROM work_orders")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    let orders: Vec<Order> = rows
        .iter()
        .map(|row| Order {
            number: row.get("number"),
            status: row.get("status"),
            depot: row.get("depot"),
            priority: match row.get::<String, _>("priority").as_str() {
                "urgent" => 0,
                "high" => 1,
                _ => 2,
            },
            due: row.get("due_at"),
            created: row.get("created_at"),
            id: row.get("id"),
        })
        .collect();
    let active = |o: &&Order| OrderStatus::parse(&o.status).is_some_and(OrderStatus::is_active);
    let by_urgency = |keep: &dyn Fn(&Order) -> bool| {
        let mut found: Vec<&Order> = orders.iter().filter(active).filter(|o| keep(o)).collect();
        found.sort_by_key(|o| (o.due >= now, o.priority, o.created, o.id));
        found.into_iter().map(|o| o.number.clone()).collect::<Vec<_>>()
    };
    let newest = |keep: &dyn Fn(&Order) -> bool| {
        let mut found: Vec<&Order> = orders.iter().filter(|o| keep(o)).collect();
        found.sort_by_key(|o| (std::cmp::Reverse(o.created), std::cmp::Reverse(o.id)));
        found.into_iter().map(|o| o.number.clone()).collect::<Vec<_>>()
    };
    let list = |status, depot: Option<&str>, overdue| Filter {
        status,
        depot: depot.map(str::to_string),
        overdue,
        limit: 100,
        ..Filter::default()
    };
    let done = StatusFilter::Only(OrderStatus::Done);
    let cases: Vec<(&str, Filter, Vec<String>, bool)> = vec![
        ("active", list(StatusFilter::Active, None, false), by_urgency(&|_| true), true),
        (
            "active, one depot",
            list(StatusFilter::Active, Some("bauhof-sued"), false),
            by_urgency(&|o| o.depot == "bauhof-sued"),
            true,
        ),
        ("overdue", list(StatusFilter::Active, None, true), by_urgency(&|o| o.due < now), true),
        ("all, overdue", list(StatusFilter::All, None, true), by_urgency(&|o| o.due < now), true),
        (
            "open only",
            list(StatusFilter::Only(OrderStatus::Open), None, false),
            by_urgency(&|o| o.status == "open"),
            true,
        ),
        ("done", list(done, None, false), newest(&|o| o.status == "done"), false),
        (
            "done, one depot",
            list(done, Some("bauhof-nord"), false),
            newest(&|o| o.status == "done" && o.depot == "bauhof-nord"),
            false,
        ),
        ("all", list(StatusFilter::All, None, false), newest(&|_| true), false),
    ];
    let mut capped = false;
    for (case, filter, expected, exact) in cases {
        assert!(!expected.is_empty(), "{case}: the history has such orders");
        let (numbers, count) = walked(&app, &filter, now).await;
        assert_eq!(numbers, expected, "{case}");
        let found = expected.len() as i64;
        if exact || found <= COUNT_CAP {
            assert_eq!(count, (found, true), "{case}");
        } else {
            capped = true;
            assert_eq!(count, (COUNT_CAP, false), "{case}: more than the cap");
            // A page beyond the cap counts as far as itself.
            let far = Filter { offset: 300, ..filter.clone() };
            let mut conn = app.db.pool().acquire().await.unwrap();
            let (_, far_count) = meldeweg::orders::board::page(&mut conn, &far, now).await.unwrap();
            assert_eq!(far_count, if found > 400 { (400, false) } else { (found, true) }, "{case}: page 4");
        }
    }
    assert!(capped, "some list has more orders than it counts");

    // The list says there are more and how they are sorted, and offers the next page.
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let session = login(&app, "dispo@musterstadt.de").await;
    let (status, page) = session.page(&app, "/staff/orders?status=done").await;
    assert_eq!(status, 200);
    assert!(page.contains("mehr als 200 Aufträge"), "{page}");
    assert!(page.contains("die neuesten zuerst; Filter oder Suche grenzen die Liste ein."), "{page}");
    assert!(page.contains(r#"rel="next""#), "{page}");
}
