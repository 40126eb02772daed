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
    pub open_in_map: &'static str,
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
    pub none: &'static str,
    pub back: &'static str,
    pub page_next: &'static str,
    pub job: &'static str,
    pub attempts: &'static str,
    pub error: &'static str,
    pub when: &'static str,
    pub label: &'static str,
    pub revoked: &'static str,
    pub sla: &'static str,
    pub hours: &'static str,
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
    address: "Adresse",
    reports: "Meldungen",
    no_orders: "Keine Aufträge für diese Auswahl.",
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
    open_in_map: "In OpenStreetMap öffnen",
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
    none: "keine",
    back: "Zurück zur Liste",
    page_next: "Weitere Aufträge",
    job: "Aufgabe",
    attempts: "Versuche",
    error: "Fehler",
    when: "Zeit",
    label: "Bezeichnung",
    revoked: "widerrufen",
    sla: "Fristen (Stunden bis fällig)",
    hours: "Std.",
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
    address: "Address",
    reports: "Reports",
    no_orders: "No orders match this selection.",
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
    open_in_map: "Open in OpenStreetMap",
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
    none: "none",
    back: "Back to the list",
    page_next: "More orders",
    job: "Job",
    attempts: "Attempts",
    error: "Error",
    when: "When",
    label: "Label",
    revoked: "revoked",
    sla: "Due times (hours)",
    hours: "h",
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
