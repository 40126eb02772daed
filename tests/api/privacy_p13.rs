//! P13 no exposure to others, across channels: a pothole reported on the web form (with an
//! e-mail address) and again on WhatsApp joins one work order; neither citizen learns anything
//! about the other — not on the status pages, not in the chat, not in the e-mails.

use meldeweg::staff::Role;
use reqwest::multipart::Form;

use crate::fake_smtp::FakeSmtp;
use crate::helpers::*;
use crate::staff_helpers::*;

#[tokio::test]
async fn a_web_reporter_and_a_chat_reporter_of_one_pothole_learn_nothing_of_each_other() {
    let sink = FakeSmtp::start().await;
    let url = sink.url();
    let app = spawn_app_with(|settings| settings.channels.set("email.smtp_url", url)).await;
    add_staff(&app, "dispo@musterstadt.de", Role::Dispatcher, None).await;
    let token = api_token(&app, "dispo@musterstadt.de").await;
    let form = Form::new()
        .text("description", "Schlagloch, Radfahrerin gestürzt, Frau Weber aus Nr. 3 weiß mehr")
        .text("lat", NORD.0.to_string())
        .text("lon", NORD.1.to_string())
        .text("email", "k.weber@example.org");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client.post(app.url("/melden")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let web_page = response.headers()["location"].to_str().unwrap().to_string();
    app.queue_drained().await;
    let (citizen, chat_reference, order) = reported(&app, "Schlagloch, Herr Yilmaz hat es auch gesehen", NORD).await;
    let orders: Vec<String> =
        sqlx::query_scalar("SELECT number FROM work_orders").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(orders, std::slice::from_ref(&order), "one order for both");
    let web_reference: String = sqlx::query_scalar("SELECT reference FROM reports WHERE channel = 'web'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    transitions(&app, &token, &order, &["accept", "done"]).await;
    eventually("the web reporter's three e-mails", || async { sink.mails().len() == 3 }).await;

    let phone = citizen.phone.clone().unwrap();
    let chat_page = app.status_link(&chat_reference).await;
    let chat_page = &chat_page[chat_page.find("/m/").unwrap()..];
    for (whose, page) in [("web", web_page.as_str()), ("chat", chat_page)] {
        let html = app.http.get(app.url(page)).send().await.unwrap().text().await.unwrap();
        for private in ["Weber", "k.weber", "Yilmaz", "Radfahrerin", phone.as_str()] {
            assert!(!html.contains(private), "the {whose} status page shows {private:?}");
        }
    }
    let mails: String = sink.mails().iter().map(|m| format!("{}\n{}\n", m.subject, m.body)).collect();
    for other in [chat_reference.as_str(), "Yilmaz", phone.as_str()] {
        assert!(!mails.contains(other), "the e-mails mention {other:?}");
    }
    let chat = app.graph.texts_to(citizen.address()).join("\n");
    for other in [web_reference.as_str(), "Weber", "k.weber"] {
        assert!(!chat.contains(other), "the chat mentions {other:?}");
    }
    assert!(mails.contains(&web_reference) && chat.contains(&chat_reference), "each hears about their own");
}
