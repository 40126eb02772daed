//! The classifier trained on the shipped corpus, on messages written for these tests (not
//! taken from the training or evaluation files): every category in several styles, umlauts
//! typed as ae/oe/ue/ss, typos, compounds, emoji, and the danger rules of both priorities.

use meldeweg_workers::category::Category;
use meldeweg_workers::classify::{corpus_lines, Categories, Classifier, Priority};

fn classifier() -> Classifier {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../config");
    let categories = Categories::from_toml(&std::fs::read_to_string(format!("{config}/categories.toml")).unwrap());
    let corpus: Vec<(Category, String)> = Category::ALL
        .into_iter()
        .map(|c| (c, std::fs::read_to_string(format!("{config}/training/{}.txt", c.id())).unwrap()))
        .collect();
    let examples = corpus.iter().flat_map(|(c, text)| corpus_lines(text).map(move |line| (*c, line)));
    Classifier::train(categories.unwrap(), examples)
}

fn check(classifier: &Classifier, expected: Category, texts: &[&str]) {
    for text in texts {
        let answer = classifier.classify(text);
        assert_eq!(answer.category, expected, "{text:?} → {answer:?}");
        assert!(answer.runner_up != answer.category);
        assert!((0.0..=1.0).contains(&answer.confidence));
    }
}

#[test]
fn every_category_in_several_styles() {
    let c = classifier();
    check(
        &c,
        Category::Strassenschaden,
        &[
            "Schlaglöcher ohne Ende in der Mühlenstraße",
            "SEHR GEEHRTE DAMEN UND HERREN, DER GEHWEG IST AUFGEBROCHEN",
            "lose Gehwegplatte, bin fast gestolpert",
        ],
    );
    check(
        &c,
        Category::Beleuchtung,
        &["laterne brennt auch tagsüber", "Straßenlampe flackert die ganze Nacht 💡", "funzel is aus"],
    );
    check(
        &c,
        Category::Muell,
        &["Sperrmüll seit einer Woche am Straßenrand", "Mülleimer an der Haltestelle quillt über 🤢"],
    );
    check(&c, Category::Graffiti, &["Schmierereien an der Schule", "jemand hat die Bushaltestelle besprüht"]);
    check(&c, Category::Verkehrszeichen, &["Stoppschild ist verdreht", "Ampel an der Kreuzung zeigt nur gelb"]);
    check(&c, Category::Gruen, &["Hecke wuchert über den ganzen Gehweg", "der Rasen im Park wurde ewig nicht gemäht"]);
    check(&c, Category::Spielplatz, &["Glasscherben im Sandkasten!", "Spielplatzrutsche hat ein Loch"]);
    check(
        &c,
        Category::Kanal,
        &["Gully verstopft, nach dem Regen steht alles unter Wasser", "es stinkt aus dem Abfluss"],
    );
    check(&c, Category::Winterdienst, &["Gehweg nicht geräumt, spiegelglatt", "Hier wurde noch kein Salz gestreut ❄️"]);
    check(
        &c,
        Category::Sonstiges,
        &["toter Fuchs am Straßenrand", "Fahrrad ohne Reifen steht seit Monaten am Bahnhof"],
    );
}

#[test]
fn umlauts_written_out_and_typos_give_the_same_answer() {
    let c = classifier();
    for (umlaut, written, typo) in [
        ("Straßenlaterne defekt", "Strassenlaterne defekt", "Strasenlatärne defekt"),
        ("Müll im Gebüsch", "Muell im Gebuesch", "Mül im Gebüsh"),
        ("Schlaglöcher auf der Fahrbahn", "Schlagloecher auf der Fahrbahn", "Schlaglöscher auf der Fahrban"),
    ] {
        let expected = c.classify(umlaut).category;
        assert_eq!(c.classify(written).category, expected, "{written}");
        assert_eq!(c.classify(typo).category, expected, "{typo}");
    }
}

#[test]
fn danger_words_set_the_priority_and_name_themselves() {
    let c = classifier();
    for text in [
        "Kanaldeckel fehlt, das Loch ist offen!",
        "Baum umgestürzt, liegt quer über der Straße",
        "Es riecht stark nach Gas an der Ecke",
        "Kabel hängen offen aus dem Laternenmast",
    ] {
        let answer = c.classify(text);
        assert_eq!(answer.priority, Priority::Urgent, "{text}: {answer:?}");
        assert!(!answer.danger.is_empty());
    }
    for text in ["Gefährliche Stolperfalle vor dem Kindergarten", "Glasscherben auf dem Spielplatz"] {
        let answer = c.classify(text);
        assert_eq!(answer.priority, Priority::High, "{text}: {answer:?}");
    }
    let calm = c.classify("Laterne flackert ein bisschen");
    assert_eq!((calm.priority, calm.danger.len()), (Priority::Normal, 0));
}

#[test]
fn no_text_means_no_confidence() {
    let c = classifier();
    for text in ["", "   ", "👍👍", "12"] {
        assert_eq!(c.classify(text).confidence, 0.0, "{text:?}");
    }
}
