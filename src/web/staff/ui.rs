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
};

pub fn for_lang(lang: &str) -> &'static Ui {
    if lang == "en" {
        &EN
    } else {
        &DE
    }
}

impl Ui {
    pub fn status(&self, status: &str) -> &'static str {
        let de = self.lang == "de";
        match status {
            "open" => {
                if de {
                    "offen"
                } else {
                    "open"
                }
            }
            "accepted" => {
                if de {
                    "übernommen"
                } else {
                    "accepted"
                }
            }
            "in_progress" => {
                if de {
                    "in Arbeit"
                } else {
                    "in progress"
                }
            }
            "done" => {
                if de {
                    "erledigt"
                } else {
                    "done"
                }
            }
            "rejected" => {
                if de {
                    "abgelehnt"
                } else {
                    "rejected"
                }
            }
            "forwarded" => {
                if de {
                    "weitergegeben"
                } else {
                    "forwarded"
                }
            }
            "merged" => {
                if de {
                    "zusammengeführt"
                } else {
                    "merged"
                }
            }
            _ => "?",
        }
    }

    pub fn priority(&self, priority: &str) -> &'static str {
        let de = self.lang == "de";
        match priority {
            "urgent" => {
                if de {
                    "dringend"
                } else {
                    "urgent"
                }
            }
            "high" => {
                if de {
                    "hoch"
                } else {
                    "high"
                }
            }
            _ => {
                if de {
                    "normal"
                } else {
                    "normal"
                }
            }
        }
    }

    /// The button label of a transition.
    pub fn transition(&self, transition: &str) -> &'static str {
        let de = self.lang == "de";
        match transition {
            "accept" => {
                if de {
                    "Übernehmen"
                } else {
                    "Accept"
                }
            }
            "start" => {
                if de {
                    "Arbeit beginnen"
                } else {
                    "Start work"
                }
            }
            "done" => {
                if de {
                    "Erledigt"
                } else {
                    "Done"
                }
            }
            "reject" => {
                if de {
                    "Ablehnen"
                } else {
                    "Reject"
                }
            }
            "forward" => {
                if de {
                    "Weitergeben"
                } else {
                    "Forward"
                }
            }
            "reopen" => {
                if de {
                    "Wieder öffnen"
                } else {
                    "Reopen"
                }
            }
            _ => "?",
        }
    }

    /// How a history line is named.
    pub fn event(&self, kind: &str) -> &'static str {
        let de = self.lang == "de";
        match kind {
            "opened" => {
                if de {
                    "Auftrag angelegt"
                } else {
                    "Order opened"
                }
            }
            "duplicate_linked" => {
                if de {
                    "weitere Meldung zugeordnet"
                } else {
                    "Further report linked"
                }
            }
            "accept" => {
                if de {
                    "übernommen"
                } else {
                    "accepted"
                }
            }
            "start" => {
                if de {
                    "Arbeit begonnen"
                } else {
                    "work started"
                }
            }
            "done" => {
                if de {
                    "erledigt"
                } else {
                    "done"
                }
            }
            "reject" => {
                if de {
                    "abgelehnt"
                } else {
                    "rejected"
                }
            }
            "forward" => {
                if de {
                    "weitergegeben"
                } else {
                    "forwarded"
                }
            }
            "reopen" => {
                if de {
                    "wieder geöffnet"
                } else {
                    "reopened"
                }
            }
            "comment" => {
                if de {
                    "Kommentar"
                } else {
                    "comment"
                }
            }
            "rerouted" => {
                if de {
                    "an anderen Betriebshof"
                } else {
                    "re-routed"
                }
            }
            "merged" => {
                if de {
                    "zusammengeführt in"
                } else {
                    "merged into"
                }
            }
            "absorbed" => {
                if de {
                    "übernommen aus"
                } else {
                    "took over the reports of"
                }
            }
            "recategorised" => {
                if de {
                    "Kategorie korrigiert"
                } else {
                    "category corrected"
                }
            }
            "after_photo" => {
                if de {
                    "Foto nach der Arbeit"
                } else {
                    "after-photo"
                }
            }
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
