//! Citizen text made comparable: lower case, umlauts folded the way people type them without a
//! German keyboard (ä → ae, ö → oe, ü → ue, ß → ss), everything that is not a letter or digit
//! (punctuation, emoji) turned into a space.

/// The folded text: words of lower-case ASCII letters and digits (and any other alphabetic
/// characters, lower-cased) separated by single spaces, with a space at either end so whole
/// words can be found as " word ".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'à' | 'á' | 'â' => out.push('a'),
            'è' | 'é' | 'ê' => out.push('e'),
            c if c.is_alphanumeric() => out.push(c),
            _ => {
                if !out.ends_with(' ') {
                    out.push(' ');
                }
            }
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// The words of a folded text.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded.split(' ').filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umlauts_case_and_punctuation_fold_to_plain_words() {
        assert_eq!(fold("Straßenlaterne KAPUTT!!! 💡"), " strassenlaterne kaputt ");
        assert_eq!(fold("Müll, überall…"), fold("Muell ueberall"));
        assert_eq!(
            words(&fold("Ecke Bahnhofstr./Schulstr. 4")).collect::<Vec<_>>(),
            ["ecke", "bahnhofstr", "schulstr", "4"]
        );
        assert_eq!(fold(""), " ");
    }
}
