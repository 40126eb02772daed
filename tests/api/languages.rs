//! German throughout, English where the reader chose it (issue 23): every staff and public page
//! is fetched in both languages, and what a person reads on it (text, and the labels a screen
//! reader speaks: aria-label, title, alt, placeholder) must not contain a UI word of the other
//! language from the lists below. Data (street, district, depot and person names, citizens'
//! words) is not UI and is kept out of the lists.

use meldeweg::staff::Role;
use reqwest::header::{ACCEPT, COOKIE};

use crate::helpers::*;
use crate::staff_helpers::*;

/// English UI words that must not appear on a page in German.
const ENGLISH: &[&str] = &[
    "Orders",
    "Order",
    "Map",
    "Print",
    "Log out",
    "Logout",
    "Search",
    "Reports",
    "Report",
    "received",
    "done",
    "Statistics",
    "Overview",
    "Back",
    "Priority",
    "District",
    "Category",
    "Actions",
    "Legend",
    "Known problems",
    "Photos",
    "Timeline",
    "Reported",
    "Place",
    "page",
    "Coordinates",
    "Navigate",
    "Main menu",
    "Created",
    "Due",
    "overdue",
    "open",
    "accepted",
    "rejected",
    "history",
    "History",
    "Comment",
    "Save",
    "week",
    "the",
    "and",
    "with",
    "Skip",
    "Start page",
    "Not found",
    "web form",
    "Definitions",
    "time to done",
    "previous period",
    "Hotspots",
    "Streets",
    "Filter orders",
    "any",
    "all",
];

/// German UI words that must not appear on a page in English.
const GERMAN: &[&str] = &[
    "Aufträge",
    "Auftrag",
    "Karte",
    "Drucken",
    "Abmelden",
    "Suchen",
    "Meldungen",
    "Meldung",
    "Kategorie",
    "Bezirk",
    "Betriebshof",
    "Priorität",
    "erledigt",
    "Zurück",
    "Statistik",
    "Hauptmenü",
    "Aktionen",
    "Legende",
    "Bekannte Probleme",
    "Verlauf",
    "Gemeldet",
    "Ort",
    "Seite",
    "Koordinaten",
    "Navigation",
    "angelegt",
    "fällig",
    "überfällig",
    "offen",
    "übernommen",
    "abgelehnt",
    "Kommentar",
    "Speichern",
    "Woche",
    "je",
    "der",
    "die",
    "das",
    "und",
    "mit",
    "Startseite",
    "Nicht gefunden",
    "Webformular",
    "Definitionen",
    "Vorperiode",
    "Brennpunkte",
    "Straßen",
    "alle",
    "beliebig",
    "Problem melden",
    "Fotos",
    "Eingang",
    "Zeitraum",
];

/// What a person reads on `html`: the text between tags (without scripts and styles) and the
/// values of the attributes that are read out or shown.
fn readable(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        let end = rest[start..].find('>').map_or(rest.len(), |e| start + e + 1);
        let tag = &rest[start..end];
        for attribute in ["aria-label=\"", "title=\"", "alt=\"", "placeholder=\""] {
            if let Some(at) = tag.find(attribute) {
                let value = &tag[at + attribute.len()..];
                out.push_str(&value[..value.find('"').unwrap_or(value.len())]);
                out.push(' ');
            }
        }
        rest = &rest[end..];
        for skipped in ["script", "style", "svg"] {
            if tag.starts_with(&format!("<{skipped}")) && !tag.ends_with("/>") {
                let close = format!("</{skipped}>");
                rest = rest.find(&close).map_or("", |e| &rest[e + close.len()..]);
            }
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&").replace("&quot;", "\"").replace("&#x27;", "'").replace("&#39;", "'")
}

/// The words of `words` that occur in `text` as whole words.
fn found<'a>(text: &str, words: &[&'a str]) -> Vec<&'a str> {
    let is_word = |c: char| c.is_alphanumeric() || c == '-';
    words
        .iter()
        .copied()
        .filter(|word| {
            text.match_indices(word).any(|(at, _)| {
                let before = text[..at].chars().next_back().is_none_or(|c| !is_word(c));
                let after = text[at + word.len()..].chars().next().is_none_or(|c| !is_word(c));
                before && after
            })
        })
        .collect()
}

async fn html(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    let mut request = client().get(app.url(path)).header(ACCEPT, "text/html");
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap().text().await.unwrap()
}

#[test]
fn the_check_sees_text_and_spoken_labels_but_not_scripts() {
    let page = r#"<nav aria-label="Hauptmenü"><a href="/x">Orders</a></nav><script>const done = 1;</script><p>Das &amp; mehr</p>"#;
    let text = readable(page);
    assert_eq!(found(&text, ENGLISH), vec!["Orders"]);
    assert_eq!(found(&text, &["Hauptmenü", "done", "mehr"]), vec!["Hauptmenü", "mehr"]);
    assert!(found("Orderly", ENGLISH).is_empty(), "whole words only");
}

#[tokio::test]
async fn every_page_speaks_one_language() {
    let app = spawn_app().await;
    add_staff(&app, "admin@musterstadt.de", Role::Admin, None).await;
    add_staff(&app, "admin-en@musterstadt.de", Role::Admin, None).await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    sqlx::query("UPDATE staff_users SET lang = 'en' WHERE email = 'admin-en@musterstadt.de'")
        .execute(app.db.pool())
        .await
        .unwrap();
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let (_, reference, order) = reported(&app, "Schlagloch Schulweg", NORD).await;
    let (_, _, done) = reported(&app, "Schlagloch Marktecke", (51.9623, 7.6254)).await;
    transitions(&app, &token, &done, &["accept", "done"]).await;
    let link = app.status_link(&reference).await;
    let status_page = &link[link.find("/m/").unwrap()..];

    let staff_pages = [
        "/staff/orders".to_string(),
        "/staff/orders?q=Schule".to_string(),
        "/staff/orders?status=all".to_string(),
        "/staff/map?status=all".to_string(),
        format!("/staff/orders/{order}"),
        format!("/staff/orders/{order}/print"),
        format!("/staff/orders/{done}"),
        "/staff/print".to_string(),
        "/staff/stats".to_string(),
        "/staff/admin".to_string(),
        "/staff/rights".to_string(),
        "/staff/orders/A-2026-999999".to_string(),
    ];
    let german = login(&app, "admin@musterstadt.de").await;
    let english = login(&app, "admin-en@musterstadt.de").await;
    let mut wrong = Vec::new();
    for path in &staff_pages {
        let de = readable(&html(&app, path, Some(&german.cookie)).await);
        let en = readable(&html(&app, path, Some(&english.cookie)).await);
        for word in found(&de, ENGLISH) {
            wrong.push(format!("German {path}: {word:?}"));
        }
        for word in found(&en, GERMAN) {
            wrong.push(format!("English {path}: {word:?}"));
        }
    }
    for path in [status_page, "/karte", "/melden", "/m/0123456789abcdef0123456789abcdef"] {
        let de = readable(&html(&app, path, None).await);
        let joiner = if path.contains('?') { '&' } else { '?' };
        let en = readable(&html(&app, &format!("{path}{joiner}lang=en"), None).await);
        for word in found(&de, ENGLISH) {
            wrong.push(format!("German {path}: {word:?}"));
        }
        for word in found(&en, GERMAN) {
            wrong.push(format!("English {path}: {word:?}"));
        }
    }
    for path in ["/", "/staff/login"] {
        for word in found(&readable(&html(&app, path, None).await), ENGLISH) {
            wrong.push(format!("German {path}: {word:?}"));
        }
    }
    assert!(wrong.is_empty(), "{} UI words in the wrong language:\n{}", wrong.len(), wrong.join("\n"));
}
