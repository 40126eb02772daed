//! P14 service hours: a report that reaches the Bauhof outside its working hours is told when
//! it will be looked at; an urgent one also gets the 110/112 hint, whatever the hours.

use meldeweg::service_hours::describe;
use meldeweg::texts::TextKey;
use meldeweg_workers::conversation::Lang;

use crate::helpers::*;
use crate::staff_helpers::*;

#[tokio::test]
async fn outside_the_hours_the_acknowledgement_says_when_the_report_will_be_looked_at() {
    let today = meldeweg::stats::today(meldeweg::time::now_ms());
    let (yesterday, tomorrow) = (today.yesterday().unwrap(), today.tomorrow().unwrap());
    let reopening = tomorrow.tomorrow().unwrap();
    let app = spawn_app_with(|settings| {
        let hours = &mut settings.service_hours;
        hours.enabled = true;
        for day in [
            &mut hours.monday,
            &mut hours.tuesday,
            &mut hours.wednesday,
            &mut hours.thursday,
            &mut hours.friday,
            &mut hours.saturday,
            &mut hours.sunday,
        ] {
            *day = "07:00-16:00".into();
        }
        // Closed from yesterday to tomorrow: whenever the test runs, the next start is at 07:00
        // the day after tomorrow (also if triage happens just after midnight).
        hours.holidays = [yesterday, today, tomorrow].map(|day| day.to_string()).to_vec();
    })
    .await;
    let when = format!("{}, 07:00 Uhr", reopening.strftime("%d.%m.%Y"));
    let start = reopening.at(7, 0, 0, 0).in_tz("Europe/Berlin").unwrap().timestamp().as_millisecond();
    let note = app.render_in(Lang::De, TextKey::OutsideHours, &[("when", &describe(Lang::De, start))]);

    let (citizen, reference, _) = reported(&app, "Schlagloch vor der Schule", NORD).await;
    let replies = app.graph.texts_to(citizen.address());
    let acknowledgement = replies.iter().find(|r| r.contains(&reference)).expect("an acknowledgement");
    assert!(acknowledgement.ends_with(&note), "{acknowledgement}");
    assert!(acknowledgement.contains(&when), "{when} in {acknowledgement}");
    let hint = app.render_in(Lang::De, TextKey::EmergencyHint, &[]);
    assert!(!acknowledgement.contains(&hint), "not urgent: {acknowledgement}");

    let (urgent, reference, _) = reported(&app, "Der Gullydeckel fehlt, der Schacht ist offen!", SUED).await;
    let replies = app.graph.texts_to(urgent.address());
    let acknowledgement = replies.iter().find(|r| r.contains(&reference)).expect("an acknowledgement");
    assert!(acknowledgement.contains(&format!("{note}\n\n{hint}")), "{acknowledgement}");
    assert!(acknowledgement.ends_with(&hint), "urgent: the emergency numbers at any hour: {acknowledgement}");
}
