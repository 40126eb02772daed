//! The staff UI over HTTP: logging in and out, rate limiting, idle sessions, CSRF on every
//! form, invalid transitions refused with a reason, the citizens' words shown escaped, the
//! administrators' page, and the printable sheet.

use meldeweg::staff::Role;
use reqwest::header::LOCATION;

use crate::helpers::*;
use crate::staff_helpers::*;

#[tokio::test]
async fn depot_staff_log_in_see_their_orders_and_log_out() {
    let app = spawn_app().await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let (_, _, ours) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    let (_, _, theirs) = reported(&app, "Schlagloch vor dem Haus", SUED).await;

    assert_eq!(client().get(app.url("/staff/orders")).send().await.unwrap().headers()[LOCATION], "/staff/login");
    let session = login(&app, "Crew@Musterstadt.de ").await;
    let list = session.get(&app, "/staff/orders").await.text().await.unwrap();
    assert!(list.contains(&ours), "{list}");
    assert!(!list.contains(&theirs), "another depot's order is not listed");
    // Asking for another depot in the filter changes nothing for depot staff.
    let list = session.get(&app, "/staff/orders?depot=bauhof-sued").await.text().await.unwrap();
    assert!(list.contains(&ours) && !list.contains(&theirs));
    let page = session.get(&app, &format!("/staff/orders/{theirs}")).await;
    assert_eq!(page.status(), 403);

    let out = session.post(&app, "/staff/logout", &[]).await;
    assert_eq!(out.status(), 303);
    let after = session.get(&app, "/staff/orders").await;
    assert_eq!(after.status(), 303, "the session ended with the logout");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_sessions").await, 0);
}

#[tokio::test]
async fn wrong_passwords_and_unknown_accounts_get_the_same_answer_and_a_disabled_account_cannot_log_in() {
    let app = spawn_app().await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let wrong = post_login(&app, "crew@musterstadt.de", "falsch-falsch").await;
    assert_eq!(wrong.status(), 401);
    let wrong = wrong.text().await.unwrap();
    let unknown = post_login(&app, "niemand@musterstadt.de", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    let error = |page: &str| page.split("id=\"login-error\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert_eq!(error(&wrong), error(&unknown.text().await.unwrap()));

    let mut conn = app.db.pool().acquire().await.unwrap();
    meldeweg::staff::accounts::set_disabled(&mut conn, "crew@musterstadt.de", true, meldeweg::time::now_ms())
        .await
        .unwrap();
    drop(conn);
    assert_eq!(post_login(&app, "crew@musterstadt.de", PASSWORD).await.status(), 401);
}

#[tokio::test]
async fn failed_logins_slow_one_address_down_and_never_lock_the_owner_out() {
    let app = spawn_app_with(|settings| {
        settings.staff.login_free_failures = 3;
        settings.staff.login_failures_to_alert = 3;
        settings.staff.login_max_attempts_per_client = 8;
        settings.http.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    add_staff(&app, "admin@musterstadt.de", Role::Admin, None).await;
    let attacker = "203.0.113.66";
    for _ in 0..3 {
        assert_eq!(login_from(&app, attacker, "crew@musterstadt.de", "falsch-falsch").await.0, 401);
    }
    let (status, page) = login_from(&app, attacker, "crew@musterstadt.de", PASSWORD).await;
    assert_eq!(status, 429, "after 3 failures the next attempt from there waits, even with the right password");
    assert!(page.contains("Bitte warten Sie 5 Sekunden"), "{page}");
    // The owner, elsewhere, is not locked out.
    assert_eq!(login_from(&app, "198.51.100.7", "crew@musterstadt.de", PASSWORD).await.0, 303);
    // Admins see the account under attack.
    let admin = login(&app, "admin@musterstadt.de").await;
    let page = admin.get(&app, "/staff/admin").await.text().await.unwrap();
    let row = page.split("<tr").skip(1).find(|row| row.contains("crew@musterstadt.de")).expect("the account is listed");
    assert!(row.contains("angegriffen") && row.contains("class=\"attacked\""), "{row}");
    let alert = "crew@musterstadt.de: Anmeldung wird angegriffen";
    assert!(page.contains(alert), "the warning stands above the table, also on a phone: {page}");
    let admin_row = page.split("<tr").skip(1).find(|row| row.contains("admin@musterstadt.de")).unwrap();
    assert!(!admin_row.contains("angegriffen"), "{admin_row}");
    // The attacker's address has its own allowance of attempts, across accounts; refused ones count.
    let mut statuses = Vec::new();
    for n in 0..5 {
        statuses.push(login_from(&app, attacker, &format!("niemand{n}@musterstadt.de"), "falsch").await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429], "8 attempts from one address in the window");
    let (status, page) = login_from(&app, attacker, "admin@musterstadt.de", PASSWORD).await;
    assert_eq!(status, 429);
    assert!(page.contains("Zu viele Anmeldeversuche von diesem Anschluss"), "{page}");
    assert_eq!(login_from(&app, "198.51.100.8", "admin@musterstadt.de", PASSWORD).await.0, 303, "others still can");
    assert_eq!(app.count("SELECT COUNT(*) FROM login_failures WHERE client LIKE '%203.0.113%'").await, 0, "hashed");
    assert_eq!(app.count("SELECT COUNT(*) FROM rate_limits WHERE bucket LIKE '%203.0.113%'").await, 0, "hashed");
}

/// A login through the trusted proxy (127.0.0.1) for the client `from`: status and page.
async fn login_from(app: &TestApp, from: &str, email: &str, password: &str) -> (u16, String) {
    let http = client();
    let form = http.get(app.url("/staff/login")).send().await.unwrap();
    let cookie = form.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = csrf_in(&form.text().await.unwrap());
    let response = http
        .post(app.url("/staff/login"))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-forwarded-for", from)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_session_idle_past_the_timeout_ends_and_asks_to_log_in_again() {
    let app = spawn_app().await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let session = login(&app, "crew@musterstadt.de").await;
    assert_eq!(session.get(&app, "/staff/orders").await.status(), 200);
    // 61 minutes without a request (the idle timeout is 60).
    let idle_since = meldeweg::time::now_ms() - 61 * 60_000;
    sqlx::query("UPDATE staff_sessions SET last_seen_at = $1").bind(idle_since).execute(app.db.pool()).await.unwrap();
    let expired = session.get(&app, "/staff/orders").await;
    assert_eq!(expired.status(), 303);
    assert_eq!(expired.headers()[LOCATION], "/staff/login?expired=1");
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_sessions").await, 0);
    let form = client().get(app.url("/staff/login?expired=1")).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("Sitzung ist abgelaufen"), "{form}");
}

#[tokio::test]
async fn every_form_without_this_sessions_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let (_, _, order) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    let session = login(&app, "dispo@musterstadt.de").await;
    let other = login(&app, "dispo@musterstadt.de").await;
    let forms: [(&str, Vec<(&str, &str)>); 6] = [
        ("transition", vec![("transition", "accept")]),
        ("comment", vec![("text", "Hallo")]),
        ("reroute", vec![("text", "bauhof-sued")]),
        ("merge", vec![("text", "A-2026-999999")]),
        ("recategorise", vec![("reference", "M-2026-000001"), ("category", "gruen")]),
        ("transition", vec![("transition", "reject"), ("note", "privat")]),
    ];
    for (action, fields) in &forms {
        let path = format!("/staff/orders/{order}/{action}");
        let missing = session.post_raw(&app, &path, fields).await;
        assert_eq!(missing.status(), 403, "{action} without a token");
        let mut wrong = fields.clone();
        wrong.push(("csrf", &other.csrf));
        assert_eq!(session.post_raw(&app, &path, &wrong).await.status(), 403, "{action} with another session's token");
    }
    let done = session
        .http
        .post(app.url(&format!("/staff/orders/{order}/done")))
        .header(reqwest::header::COOKIE, &session.cookie)
        .multipart(reqwest::multipart::Form::new().text("csrf", "falsch"))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 403);
    assert_eq!(session.post_raw(&app, "/staff/logout", &[]).await.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM order_events WHERE actor_id IS NOT NULL").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM work_orders WHERE status = 'open' AND depot = 'bauhof-nord'").await, 1);
    // With the token, the same form works.
    let accepted = session.post(&app, &format!("/staff/orders/{order}/transition"), &[("transition", "accept")]).await;
    assert_eq!(accepted.status(), 303);
}

#[tokio::test]
async fn invalid_transitions_are_refused_with_a_reason_on_the_page() {
    let app = spawn_app().await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let (_, _, order) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    let session = login(&app, "crew@musterstadt.de").await;
    let path = format!("/staff/orders/{order}/transition");
    let refused = session.post(&app, &path, &[("transition", "done")]).await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains("zuerst übernehmen"));
    let reject = session.post(&app, &path, &[("transition", "reject"), ("note", "   ")]).await;
    assert_eq!(reject.status(), 400, "a rejection needs a reason");
    let reopen = session.post(&app, &path, &[("transition", "reopen")]).await;
    assert_eq!(reopen.status(), 403, "only dispatchers reopen");
    let nonsense = session.post(&app, &path, &[("transition", "explode")]).await;
    assert_eq!(nonsense.status(), 400);
    let long = "x".repeat(501);
    let too_long = session.post(&app, &path, &[("transition", "reject"), ("note", &long)]).await;
    assert_eq!(too_long.status(), 400);
    assert_eq!(app.count("SELECT COUNT(*) FROM order_events WHERE actor_id IS NOT NULL").await, 0);

    assert_eq!(session.post(&app, &path, &[("transition", "accept")]).await.status(), 303);
    let twice = session.post(&app, &path, &[("transition", "accept")]).await;
    assert_eq!(twice.status(), 409);
    let page = session.get(&app, &format!("/staff/orders/{order}")).await.text().await.unwrap();
    assert!(page.contains("übernommen") && page.contains("crew@musterstadt.de"), "history names who did it");
}

#[tokio::test]
async fn a_citizens_description_with_markup_is_shown_escaped() {
    let app = spawn_app().await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let attack = "Schlagloch <script>alert('x')</script><img src=x onerror=alert(1)> \"quoted\"";
    let (citizen, _, order) = reported(&app, attack, NORD).await;
    let session = login(&app, "crew@musterstadt.de").await;
    let comment = "<b>fett</b>";
    let posted = session.post(&app, &format!("/staff/orders/{order}/comment"), &[("text", comment)]).await;
    assert_eq!(posted.status(), 303, "the comment is taken");
    let stored = app.count("SELECT COUNT(*) FROM order_events WHERE kind = 'comment' AND detail = '<b>fett</b>'").await;
    assert_eq!(stored, 1, "the comment is stored as written");
    for path in [format!("/staff/orders/{order}"), format!("/staff/orders/{order}/print"), "/staff/orders".into()] {
        let page = session.get(&app, &path).await.text().await.unwrap();
        assert!(!page.contains("<script>alert"), "{path}");
        assert!(!page.contains("<img src=x"), "{path}");
        assert!(!page.contains("<b>fett</b>"), "{path}");
    }
    let page = session.get(&app, &format!("/staff/orders/{order}")).await.text().await.unwrap();
    assert!(page.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"), "escaped, still readable");
    assert!(page.contains("&#60;b&#62;fett&#60;/b&#62;"), "the comment is shown, escaped");
    assert!(!page.contains(citizen.phone.as_deref().unwrap()), "never the reporter's number");
}

#[tokio::test]
async fn only_admins_open_the_administration_page() {
    let app = spawn_app().await;
    for (email, role, depot) in [
        ("crew@musterstadt.de", Role::Depot, Some("bauhof-nord")),
        ("dispo@musterstadt.de", Role::Dispatcher, None),
        ("chefin@musterstadt.de", Role::Manager, None),
        ("admin@musterstadt.de", Role::Admin, None),
    ] {
        add_staff(&app, email, role, depot).await;
        let session = login(&app, email).await;
        let page = session.get(&app, "/staff/admin").await;
        let expected = if role == Role::Admin { 200 } else { 403 };
        assert_eq!(page.status(), expected, "{role:?}");
        if role == Role::Admin {
            let page = page.text().await.unwrap();
            assert!(page.contains("dispo@musterstadt.de") && page.contains("bauhof-nord"));
        }
    }
}

#[tokio::test]
async fn the_printable_sheet_has_one_page_per_order_and_a_qr_code_to_open_it() {
    let app = spawn_app().await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let (_, _, first) = reported(&app, "Schlagloch auf der Fahrbahn", NORD).await;
    let (_, _, second) = reported(&app, "Schlagloch vor dem Haus", SUED).await;
    let session = login(&app, "dispo@musterstadt.de").await;
    let sheets = session.get(&app, "/staff/print").await.text().await.unwrap();
    assert_eq!(sheets.matches("<article class=\"sheet\">").count(), 2);
    assert!(sheets.contains(&first) && sheets.contains(&second));
    assert_eq!(sheets.matches("<svg").count(), 4, "a QR code and a map per sheet");
    assert_eq!(sheets.matches("class=\"basemap\"").count(), 2, "the place on a map drawn from the town's files");
    assert_eq!(sheets.matches("<td class=\"place\">").count(), 2, "the place in words");
    assert!(sheets.contains(&format!("{}/staff/orders/{first}", app.settings.public_base())));
    let css = client().get(app.url("/assets/print.css")).send().await.unwrap().text().await.unwrap();
    assert!(css.contains("break-after: page"));
    let one = session.get(&app, "/staff/print?depot=bauhof-sued").await.text().await.unwrap();
    assert!(one.contains(&second) && !one.contains(&first), "the list's filters apply");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_address_limit_counts_the_forwarded_client() {
    let app = spawn_app_with(|settings| {
        settings.staff.login_max_attempts_per_client = 2;
        settings.http.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let attempt = |from: &'static str, email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let http = client();
            let form = http.get(app.url("/staff/login")).send().await.unwrap();
            let cookie =
                form.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
            let csrf = csrf_in(&form.text().await.unwrap());
            let response = http
                .post(app.url("/staff/login"))
                .header(reqwest::header::COOKIE, cookie)
                // The first hop is whatever the client claims; the proxy appends the real one.
                .header("x-forwarded-for", format!("6.6.6.6, {from}"))
                .form(&[("email", email), ("password", password), ("csrf", &csrf)])
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    };
    assert_eq!(attempt("10.0.0.1", "crew@musterstadt.de", "falsch-falsch").await, 401);
    assert_eq!(attempt("10.0.0.1", "dispo@musterstadt.de", "falsch-falsch").await, 401);
    assert_eq!(attempt("10.0.0.1", "dispo@musterstadt.de", PASSWORD).await, 429, "10.0.0.1 is blocked");
    assert_eq!(
        attempt("10.0.0.2", "dispo@musterstadt.de", PASSWORD).await,
        303,
        "another client behind the proxy is not"
    );
}

#[tokio::test]
async fn guesses_sent_at_once_see_each_other() {
    let app = spawn_app_with(|settings| {
        settings.staff.login_free_failures = 3;
        settings.http.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    add_staff(&app, "crew@musterstadt.de", Role::Depot, Some("bauhof-nord")).await;
    let guesses = (0..10)
        .map(|n| login_from(&app, "203.0.113.77", "crew@musterstadt.de", if n == 9 { PASSWORD } else { "falsch" }));
    let statuses: Vec<u16> =
        futures_util::future::join_all(guesses).await.into_iter().map(|(status, _)| status).collect();
    let checked = statuses.iter().filter(|s| **s != 429).count();
    assert!(checked <= 3, "only the free failures' worth of passwords were checked: {statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}
