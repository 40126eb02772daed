//! What the fuzz targets share: the vault of the tests' key, the shipped default settings, one
//! current-thread runtime for the async extractors, and the check that a refusal's reason does
//! not repeat a number the body held.

use std::sync::OnceLock;

use meldeweg::config::Settings;
use meldeweg::crypto::Vault;
use tokio::runtime::{Builder, Runtime};

/// The key the tests and benchmarks use (tests/api/helpers.rs).
const ENCRYPTION_KEY: &str = "6d656c64657765676d656c64657765676d656c64657765676d656c6465776567";

/// Shortest run of digits taken for a value the body held (a phone number has more); the line
/// and column in a parser's reason have fewer for any input below 1 MB.
const MIN_DIGITS: usize = 7;

/// The vault a fresh installation would have, from the tests' fixed key.
pub fn vault() -> &'static Vault {
    static VAULT: OnceLock<Vault> = OnceLock::new();
    VAULT.get_or_init(|| Vault::from_key_text(ENCRYPTION_KEY).expect("the tests' key is valid"))
}

/// The settings Meldeweg runs on without a configuration file (config/default.toml).
pub fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| Settings::load_with_env(None, |_| None).expect("the shipped defaults load"))
}

/// One current-thread runtime with a timer, made once for every run of a target.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Builder::new_current_thread().enable_time().build().expect("a runtime can be built"))
}

/// Panics when `reason` repeats `MIN_DIGITS` digits in a row from `body`: a refusal's reason is
/// answered and logged, and must leave out the values the body held (a number, a message).
pub fn assert_repeats_no_number(body: &[u8], reason: &str) {
    for run in body.split(|b| !b.is_ascii_digit()).filter(|run| run.len() >= MIN_DIGITS) {
        for digits in run.windows(MIN_DIGITS) {
            let digits = std::str::from_utf8(digits).expect("ASCII digits are UTF-8");
            assert!(!reason.contains(digits), "the reason {reason:?} repeats {digits} from the body");
        }
    }
}
