//! P11 data stays local: on the embedded defaults (sandbox mode, SQLite, local files) a whole
//! report — chat, triage, the crew's work, the status page — calls no outside service at all, and
//! no page Meldeweg serves loads a script, style sheet, font or image from another server (map
//! tiles are the one configured exception, named in a data attribute for the map script).

use meldeweg::staff::Role;

use crate::helpers::*;
use crate::staff_helpers::*;

/// Every `src="…"` and `href="…"` of elements that load something (scripts, style sheets,
/// images, icons, fonts) on `page`.
fn loaded_resources(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for tag in page.split('<').skip(1) {
        let name = tag.split([' ', '>', '\n']).next().unwrap_or_default().to_ascii_lowercase();
        let loads = match name.as_str() {
            "script" | "img" | "source" | "iframe" | "embed" | "object" => true,
            "link" => !tag.contains("rel=\"alternate\"") && !tag.contains("rel=\"canonical\""),
            _ => false,
        };
        if !loads {
            continue;
        }
        for attribute in ["src=\"", "href=\"", "data=\""] {
            if let Some(start) = tag.find(attribute) {
                let rest = &tag[start + attribute.len()..];
                found.push(rest[..rest.find('"').unwrap_or(rest.len())].to_string());
            }
        }
    }
    found
}

#[tokio::test]
async fn the_embedded_defaults_call_nothing_outside_and_pages_load_only_their_own_files() {
    let app = spawn_app_with(|settings| {
        settings.channels.set("whatsapp.mode", "sandbox");
        settings.public_url = "http://127.0.0.1:8080".into();
    })
    .await;
    add_staff(&app, "admin@musterstadt.de", Role::Admin, None).await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let (_, reference, order) = reported(&app, "Schlagloch vor der Schule", NORD).await;
    transitions(&app, &token, &order, &["accept", "done"]).await;
    assert!(app.graph.requests().is_empty(), "sandbox mode sent nothing to the WhatsApp API");

    let status = app.status_link(&reference).await;
    let status_path = &status[status.find("/m/").unwrap()..];
    let session = login(&app, "admin@musterstadt.de").await;
    let mut pages = Vec::new();
    for path in ["/", "/melden", "/melden?lang=en", "/sandbox", status_path] {
        pages.push((path.to_string(), app.http.get(app.url(path)).send().await.unwrap().text().await.unwrap()));
    }
    for path in [
        "/staff/login",
        "/staff/orders",
        "/staff/map",
        "/staff/print",
        &format!("/staff/orders/{order}"),
        "/staff/stats",
        "/staff/admin",
        "/staff/rights",
    ] {
        pages.push((path.to_string(), session.get(&app, path).await.text().await.unwrap()));
    }
    let mut checked = 0;
    for (path, page) in &pages {
        for resource in loaded_resources(page) {
            assert!(
                resource.starts_with('/') && !resource.starts_with("//") || resource.starts_with("data:"),
                "{path} loads {resource} from elsewhere"
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "the pages' resources were found ({checked})");
}
