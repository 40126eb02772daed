//! The staff pages' own words, in German (the default) and English (chosen per account).
//! Citizens' texts live in messages.*.toml; these are for municipal staff only.

use meldeweg_workers::category::Category;

pub struct Ui {
    pub lang: &'static str,
    pub orders: &'static str,
    pub map: &'static str,
    pub print: &'static str,
    pub admin: &'static str,
    pub logout: &'static str,
    pub login: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub filter: &'static str,
    pub status: &'static str,
    pub category: &'static str,
    pub district: &'static str,
    pub depot: &'static str,
    pub any: &'static str,
    pub active: &'static str,
    pub all: &'static str,
    pub overdue: &'static str,
    pub overdue_only: &'static str,
    pub due: &'static str,
    pub priority: &'static str,
    pub address: &'static str,
    pub reports: &'static str,
    pub no_orders: &'static str,
    /// Before the depot's name, for an account limited to one depot.
    pub depot_scope: &'static str,
    pub history: &'static str,
    pub comment: &'static str,
    pub add_comment: &'static str,
    pub reason: &'static str,
    pub reason_hint: &'static str,
    pub forward_to: &'static str,
    pub after_photo: &'static str,
    pub done_with_photo: &'static str,
    pub reroute: &'static str,
    pub merge_into: &'static str,
    pub recategorise: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub photos: &'static str,
    pub coordinates: &'static str,
    pub navigate: &'static str,
    pub main_menu: &'static str,
    pub legend: &'static str,
    pub actions: &'static str,
    pub shared_place: &'static str,
    pub no_description: &'static str,
    pub map_unavailable: &'static str,
    pub session_expired: &'static str,
    pub created: &'static str,
    pub number: &'static str,
    pub scan_to_open: &'static str,
    pub crew_notes: &'static str,
    pub system: &'static str,
    pub users: &'static str,
    pub dead_jobs: &'static str,
    pub configuration: &'static str,
    pub role: &'static str,
    pub disabled: &'static str,
    pub failed_logins: &'static str,
    pub under_attack: &'static str,
    pub attacked: &'static str,
    pub none: &'static str,
    pub back: &'static str,
    pub page_next: &'static str,
    pub page_prev: &'static str,
    pub pages: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub search_help: &'static str,
    pub nothing_found: &'static str,
    pub more_than: &'static str,
    pub narrow_search: &'static str,
    pub narrow_list: &'static str,
    pub job: &'static str,
    pub attempts: &'static str,
    pub error: &'static str,
    pub when: &'static str,
    pub label: &'static str,
    pub revoked: &'static str,
    pub sla: &'static str,
    pub hours: &'static str,
    // The page for access and erasure requests by letter (/staff/rights).
    pub rights_title: &'static str,
    pub rights_intro: &'static str,
    pub rights_number: &'static str,
    pub rights_look_up: &'static str,
    pub rights_invalid_number: &'static str,
    pub rights_not_found: &'static str,
    pub rights_first_contact: &'static str,
    pub rights_notice: &'static str,
    pub rights_opted_out: &'static str,
    pub rights_erased: &'static str,
    pub rights_reports: &'static str,
    pub rights_draft: &'static str,
    pub rights_messages: &'static str,
    pub rights_received: &'static str,
    pub rights_sent: &'static str,
    pub rights_identity_checked: &'static str,
    pub rights_erase: &'static str,
    pub rights_erase_hint: &'static str,
    pub rights_erase_done: &'static str,
    pub rights_confirm_missing: &'static str,
}

pub const DE: Ui = Ui {
    lang: "de",
    orders: "Aufträge",
    map: "Karte",
    print: "Drucken",
    admin: "Verwaltung",
    logout: "Abmelden",
    login: "Anmelden",
    email: "E-Mail-Adresse",
    password: "Passwort",
    filter: "Filtern",
    status: "Status",
    category: "Kategorie",
    district: "Bezirk",
    depot: "Betriebshof",
    any: "alle",
    active: "offen (alle aktiven)",
    all: "alle, auch erledigte",
    overdue: "überfällig",
    overdue_only: "nur überfällige",
    due: "fällig",
    priority: "Priorität",
    address: "Ort",
    reports: "Meldungen",
    no_orders: "Keine Aufträge für diese Auswahl.",
    depot_scope: "Dieses Konto sieht nur die Aufträge von",
    history: "Verlauf",
    comment: "Kommentar",
    add_comment: "Kommentar speichern",
    reason: "Grund",
    reason_hint: "Der Grund wird den meldenden Personen mitgeteilt.",
    forward_to: "Weitergeben an (Stelle)",
    after_photo: "Foto nach der Arbeit (optional)",
    done_with_photo: "Erledigt melden",
    reroute: "An anderen Betriebshof",
    merge_into: "Zusammenführen mit Auftrag",
    recategorise: "Kategorie korrigieren",
    save: "Speichern",
    saved: "Gespeichert.",
    photos: "Fotos",
    coordinates: "Koordinaten",
    navigate: "Navigation starten",
    main_menu: "Hauptmenü",
    legend: "Legende",
    actions: "Aktionen",
    shared_place: "Geteilter Standort",
    no_description: "(keine Beschreibung)",
    map_unavailable: "Die Karte kann nicht geladen werden; die Liste unten zeigt alle Aufträge.",
    session_expired: "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich neu an.",
    created: "gemeldet",
    number: "Auftrag",
    scan_to_open: "Scannen, um den Auftrag zu öffnen",
    crew_notes: "Notizen der Kolonne",
    system: "Meldeweg",
    users: "Benutzer",
    dead_jobs: "Fehlgeschlagene Aufgaben",
    configuration: "Konfiguration",
    role: "Rolle",
    disabled: "gesperrt",
    failed_logins: "Fehlversuche",
    under_attack: "Anmeldung wird angegriffen: bitte Passwort prüfen und die Person informieren",
    attacked: "angegriffen",
    none: "keine",
    back: "Zurück zur Liste",
    page_next: "Weiter",
    page_prev: "Zurück",
    pages: "Seiten",
    search: "Suchen",
    search_hint: "M-2026-000123, Lindenweg, Ampel …",
    search_help: "Nach Vorgangs- oder Auftragsnummer, Straße oder Worten aus der Meldung.",
    nothing_found: "Nichts gefunden. Stimmt die Nummer oder die Schreibweise?",
    more_than: "mehr als",
    narrow_search: "die neuesten zuerst; ein weiteres Wort grenzt die Suche ein.",
    narrow_list: "die neuesten zuerst; Filter oder Suche grenzen die Liste ein.",
    job: "Aufgabe",
    attempts: "Versuche",
    error: "Fehler",
    when: "Zeit",
    label: "Bezeichnung",
    revoked: "widerrufen",
    sla: "Fristen (Stunden bis fällig)",
    hours: "Std.",
    rights_title: "Auskunft und Löschung",
    rights_intro: "Für Anfragen nach Art. 15 und 17 DSGVO, die per Brief, E-Mail oder am Schalter kommen. Geben Sie die WhatsApp-Nummer aus der Anfrage ein (z. B. +49 176 1234567 oder 0176 1234567).",
    rights_number: "WhatsApp-Nummer",
    rights_look_up: "Gespeicherte Daten anzeigen",
    rights_invalid_number: "Das ist keine Telefonnummer: bitte nur Ziffern, Leerzeichen, +, -, / und Klammern, 7 bis 15 Ziffern.",
    rights_not_found: "Zu dieser Nummer ist nichts gespeichert. (Hat die Person ihre Nummer in WhatsApp verborgen, kennen wir sie nicht: sie kann AUSKUNFT oder LÖSCHEN direkt im Chat senden.)",
    rights_first_contact: "Erster Kontakt",
    rights_notice: "Datenschutzhinweis erhalten",
    rights_opted_out: "Nachrichten abbestellt (STOP)",
    rights_erased: "Personenbezogene Daten gelöscht am",
    rights_reports: "Meldungen",
    rights_draft: "Nicht abgeschickte Meldung",
    rights_messages: "Nachrichten",
    rights_received: "empfangen",
    rights_sent: "gesendet",
    rights_identity_checked: "Ich habe die Identität der antragstellenden Person geprüft.",
    rights_erase: "Personenbezogene Daten löschen",
    rights_erase_hint: "Gelöscht werden Nummer, Texte, Nachrichten und Fotos erledigter Meldungen; Fotos offener Aufträge, sobald sie erledigt sind. Die Meldungen bleiben ohne Bezug zur Person erhalten.",
    rights_erase_done: "Gelöscht",
    rights_confirm_missing: "Bitte bestätigen Sie, dass die Identität geprüft wurde.",
};

pub const EN: Ui = Ui {
    lang: "en",
    orders: "Orders",
    map: "Map",
    print: "Print",
    admin: "Administration",
    logout: "Log out",
    login: "Log in",
    email: "E-mail address",
    password: "Password",
    filter: "Filter",
    status: "Status",
    category: "Category",
    district: "District",
    depot: "Depot",
    any: "any",
    active: "open (all active)",
    all: "all, including closed",
    overdue: "overdue",
    overdue_only: "overdue only",
    due: "due",
    priority: "Priority",
    address: "Place",
    reports: "Reports",
    no_orders: "No orders match this selection.",
    depot_scope: "This account sees only the orders of",
    history: "History",
    comment: "Comment",
    add_comment: "Save comment",
    reason: "Reason",
    reason_hint: "The reason is sent to the citizens who reported this.",
    forward_to: "Forward to (body)",
    after_photo: "Photo after the work (optional)",
    done_with_photo: "Mark done",
    reroute: "Send to another depot",
    merge_into: "Merge into order",
    recategorise: "Correct category",
    save: "Save",
    saved: "Saved.",
    photos: "Photos",
    coordinates: "Coordinates",
    navigate: "Navigate there",
    main_menu: "Main menu",
    legend: "Legend",
    actions: "Actions",
    shared_place: "Shared location",
    no_description: "(no description)",
    map_unavailable: "The map cannot be loaded; the list below shows every order.",
    session_expired: "Your session has expired. Please log in again.",
    created: "reported",
    number: "Order",
    scan_to_open: "Scan to open the order",
    crew_notes: "Crew notes",
    system: "Meldeweg",
    users: "Users",
    dead_jobs: "Failed jobs",
    configuration: "Configuration",
    role: "Role",
    disabled: "disabled",
    failed_logins: "Failed logins",
    under_attack: "Login under attack: check the password and tell the person",
    attacked: "under attack",
    none: "none",
    back: "Back to the list",
    page_next: "Next",
    page_prev: "Previous",
    pages: "Pages",
    search: "Search",
    search_hint: "M-2026-000123, Lindenweg, street light …",
    search_help: "By report or order number, street, or words of the report.",
    nothing_found: "Nothing found. Is the number or the spelling right?",
    more_than: "more than",
    narrow_search: "newest first; another word narrows the search.",
    narrow_list: "newest first; filters or a search narrow the list.",
    job: "Job",
    attempts: "Attempts",
    error: "Error",
    when: "When",
    label: "Label",
    revoked: "revoked",
    sla: "Due times (hours)",
    hours: "h",
    rights_title: "Access and erasure",
    rights_intro: "For requests under Art. 15 and 17 GDPR that arrive by letter, e-mail or at the counter. Enter the WhatsApp number the request names (e.g. +49 176 1234567 or 0176 1234567).",
    rights_number: "WhatsApp number",
    rights_look_up: "Show stored data",
    rights_invalid_number: "This is not a phone number: digits, spaces, +, -, / and brackets only, 7 to 15 digits.",
    rights_not_found: "Nothing is stored for this number. (If the person hides their number in WhatsApp, we do not know it: they can send MY DATA or DELETE in the chat.)",
    rights_first_contact: "First contact",
    rights_notice: "Privacy notice received",
    rights_opted_out: "Messages stopped (STOP)",
    rights_erased: "Personal data erased on",
    rights_reports: "Reports",
    rights_draft: "Report not yet sent",
    rights_messages: "Messages",
    rights_received: "received",
    rights_sent: "sent",
    rights_identity_checked: "I have checked the requester's identity.",
    rights_erase: "Erase personal data",
    rights_erase_hint: "Erases the number, texts, messages and photos of finished reports; photos of open work orders once they are finished. The reports stay, without any link to the person.",
    rights_erase_done: "Erased",
    rights_confirm_missing: "Please confirm that the identity was checked.",
};

pub fn for_lang(lang: &str) -> &'static Ui {
    if lang == "en" {
        &EN
    } else {
        &DE
    }
}

impl Ui {
    /// The German or the English word, by this language.
    fn pick(&self, de: &'static str, en: &'static str) -> &'static str {
        if self.lang == "en" {
            en
        } else {
            de
        }
    }

    pub fn status(&self, status: &str) -> &'static str {
        match status {
            "open" => self.pick("offen", "open"),
            "accepted" => self.pick("übernommen", "accepted"),
            "in_progress" => self.pick("in Arbeit", "in progress"),
            "done" => self.pick("erledigt", "done"),
            "rejected" => self.pick("abgelehnt", "rejected"),
            "forwarded" => self.pick("weitergegeben", "forwarded"),
            "merged" => self.pick("zusammengeführt", "merged"),
            _ => "?",
        }
    }

    pub fn priority(&self, priority: &str) -> &'static str {
        match priority {
            "urgent" => self.pick("dringend", "urgent"),
            "high" => self.pick("hoch", "high"),
            _ => "normal",
        }
    }

    /// The button label of a transition.
    pub fn transition(&self, transition: &str) -> &'static str {
        match transition {
            "accept" => self.pick("Übernehmen", "Accept"),
            "start" => self.pick("Arbeit beginnen", "Start work"),
            "done" => self.pick("Erledigt", "Done"),
            "reject" => self.pick("Ablehnen", "Reject"),
            "forward" => self.pick("Weitergeben", "Forward"),
            "reopen" => self.pick("Wieder öffnen", "Reopen"),
            _ => "?",
        }
    }

    /// How a history line is named.
    pub fn event(&self, kind: &str) -> &'static str {
        match kind {
            "opened" => self.pick("Auftrag angelegt", "Order opened"),
            "duplicate_linked" => self.pick("weitere Meldung zugeordnet", "Further report linked"),
            "accept" => self.pick("übernommen", "accepted"),
            "start" => self.pick("Arbeit begonnen", "work started"),
            "done" => self.pick("erledigt", "done"),
            "reject" => self.pick("abgelehnt", "rejected"),
            "forward" => self.pick("weitergegeben", "forwarded"),
            "reopen" => self.pick("wieder geöffnet", "reopened"),
            "comment" => self.pick("Kommentar", "comment"),
            "rerouted" => self.pick("an anderen Betriebshof", "re-routed"),
            "merged" => self.pick("zusammengeführt in", "merged into"),
            "absorbed" => self.pick("übernommen aus", "took over the reports of"),
            "recategorised" => self.pick("Kategorie korrigiert", "category corrected"),
            "after_photo" => self.pick("Foto nach der Arbeit", "after-photo"),
            _ => "?",
        }
    }

    /// Where a photo's public copy stands.
    pub fn photo_state(&self, state: crate::public_copies::State) -> &'static str {
        use crate::public_copies::State;
        match state {
            State::Checking => self.pick("wird geprüft", "being checked"),
            State::Waiting => self.pick("wartet auf Freigabe", "waiting for approval"),
            State::Public => self.pick("öffentlich", "public"),
            State::Hidden => self.pick("verborgen", "hidden"),
        }
    }

    /// The photo review page's words.
    /// The heading and explanation of a refused request, by its status.
    pub fn refusal(&self, status: axum::http::StatusCode) -> (&'static str, &'static str) {
        match status.as_u16() {
            404 => (
                self.pick("Nicht gefunden", "Not found"),
                self.pick(
                    "Diesen Auftrag, diese Meldung oder diese Seite gibt es nicht. Vielleicht ist die Nummer falsch geschrieben – die Suche findet Aufträge nach Nummer, Straße oder Worten.",
                    "There is no such order, report or page. Perhaps the number is misspelt – the search finds orders by number, street or words.",
                ),
            ),
            403 => (
                self.pick("Keine Berechtigung", "Not allowed"),
                self.pick(
                    "Ihr Konto darf das nicht sehen oder ändern, etwa weil der Auftrag zu einem anderen Betriebshof gehört.",
                    "Your account may not see or change this, for instance because the order belongs to another depot.",
                ),
            ),
            401 => (self.pick("Nicht angemeldet", "Not logged in"), self.pick("Bitte melden Sie sich an.", "Please log in.")),
            _ => (
                self.pick("Anfrage nicht möglich", "Request not possible"),
                self.pick(
                    "Die Adresse oder ein Wert darin stimmt nicht. Bitte gehen Sie zurück und versuchen Sie es noch einmal.",
                    "The address or a value in it is not right. Please go back and try again.",
                ),
            ),
        }
    }

    /// How a report came in, by the channel's id.
    pub fn channel(&self, id: &str) -> &'static str {
        match id {
            "whatsapp" => "WhatsApp",
            "web" => self.pick("Webformular", "web form"),
            "open311" => self.pick("Open311-Schnittstelle", "Open311 interface"),
            _ => "?",
        }
    }

    /// "1 Meldung", "3 Meldungen".
    pub fn report_count(&self, n: &i64) -> String {
        match (*n, self.lang) {
            (1, "en") => "1 report".to_string(),
            (1, _) => "1 Meldung".to_string(),
            (n, "en") => format!("{n} reports"),
            (n, _) => format!("{n} Meldungen"),
        }
    }

    /// "1 Auftrag", "12 Aufträge".
    pub fn order_count(&self, n: &i64) -> String {
        match (*n, self.lang) {
            (1, "en") => "1 order".to_string(),
            (1, _) => "1 Auftrag".to_string(),
            (n, "en") => format!("{n} orders"),
            (n, _) => format!("{n} Aufträge"),
        }
    }

    /// "Seite 2".
    pub fn page(&self, page: &i64) -> String {
        if self.lang == "en" {
            format!("page {page}")
        } else {
            format!("Seite {page}")
        }
    }

    /// "Seite 2 von 5".
    pub fn page_of(&self, page: &i64, pages: &i64) -> String {
        if self.lang == "en" {
            format!("page {page} of {pages}")
        } else {
            format!("Seite {page} von {pages}")
        }
    }

    pub fn review(&self, key: &str) -> &'static str {
        match key {
            "title" => self.pick("Foto prüfen", "Check photo"),
            "waiting" => self.pick("Foto(s) zur Freigabe", "photo(s) to approve"),
            "original" => self.pick("Original (nur für Mitarbeitende)", "Original (staff only)"),
            "public" => self.pick("Öffentliche Kopie", "Public copy"),
            "no_copy" => self.pick(
                "Noch keine öffentliche Kopie: Das Foto wird geprüft.",
                "No public copy yet: the photo is being checked.",
            ),
            "found" => self.pick("Unkenntlich gemacht", "Obscured"),
            "faces" => self.pick("Gesichter", "Faces"),
            "plates" => self.pick("Kennzeichen/Schrift", "Plates/text"),
            "drawn" => self.pick("von Hand", "By hand"),
            "failure" => self
                .pick("Die Erkennung ist fehlgeschlagen und wird wiederholt", "Detection failed and will be retried"),
            "reason" => self.pick("Grund (wird protokolliert)", "Reason (recorded in the audit log)"),
            "publish" => self.pick("Freigeben", "Approve"),
            "hide" => self.pick("Verbergen", "Hide"),
            "area" => self.pick("Weiteren Bereich unkenntlich machen", "Obscure another area"),
            "area_help" => self.pick(
                "Auf dem Original ein Rechteck ziehen (Finger oder Maus) oder die Werte in Pixeln eingeben.",
                "Drag a rectangle on the original (finger or mouse) or type the values in pixels.",
            ),
            "obscure" => self.pick("Bereich unkenntlich machen", "Obscure area"),
            "read_only" => self.pick(
                "Fotos geben die Disposition und die Administration frei.",
                "Dispatchers and administrators approve photos.",
            ),
            _ => "?",
        }
    }

    /// A category's label, from categories.toml.
    pub fn category<'a>(&self, categories: &'a meldeweg_workers::classify::Categories, id: &str) -> &'a str {
        let entry = Category::from_id(id).and_then(|c| categories.iter().find(|(cat, _)| *cat == c).map(|(_, e)| e));
        match entry {
            Some(entry) if self.lang == "en" => &entry.label_en,
            Some(entry) => &entry.label_de,
            None => "?",
        }
    }
}
