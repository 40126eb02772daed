//! From WhatsApp's wire format to the core's: a webhook delivery becomes a `Batch` for the
//! core's ingress (each message validated and sealed as WhatsApp sent it, each status a
//! receipt), and a stored message is read back as an `InboundMessage`.
//!
//! One unreadable message does not lose the others: it is kept as an invalid event with the
//! reason. Profile names and shared contact cards are never kept (P5 minimisation).

use meldeweg_workers::message::{Content, InboundMessage, MediaRef, Sender, Unsupported};
use meldeweg_workers::LatLon;
use sha2::{Digest, Sha256};

use super::client::WINDOW_CLOSED;
use super::webhook::{Contact, Delivery, Interactive, Media, Message, MessagesValue, Status};
use super::NAME;
use crate::crypto::Vault;
use crate::http::error::json_error;
use crate::outbox::DeliveryStatus;
use crate::pipeline::ingress::{series_of, Arrival, Batch, Receipt};

/// Longest media id taken from a message (Meta's ids are about 16 digits).
const MAX_MEDIA_ID: usize = 256;
/// Longest media type or checksum (a base64 SHA-256 is 44 characters).
const MAX_MEDIA_META: usize = 100;

/// Parses a delivery. Fails only when a `messages` change is not the documented shape (the
/// reason is answered to the provider); single unreadable messages are kept as invalid events.
pub fn batch(delivery: Delivery, vault: &Vault) -> Result<Batch, String> {
    let mut batch = Batch { channel: NAME, arrivals: Vec::new(), receipts: Vec::new() };
    for change in delivery.entry.iter().flat_map(|entry| &entry.changes) {
        if change.field != "messages" {
            tracing::debug!(field = %change.field, "ignoring webhook change");
            continue;
        }
        let value: MessagesValue = serde_json::from_str(change.value.get())
            .map_err(|e| format!("a `messages` change is malformed: {}", json_error(&e)))?;
        for error in &value.errors {
            tracing::warn!(code = error.code, title = %error.title, "WhatsApp reported an error in a delivery");
        }
        for raw in &value.messages {
            batch.arrivals.push(match read_message(raw.get(), &value.contacts) {
                Ok(message) => {
                    let json = serde_json::to_vec(&message).expect("serialising a Message cannot fail");
                    let sender = sender(&message);
                    Arrival {
                        series: series_of(vault, NAME, &sender),
                        provider_id: vault.message_id_hash(&message.id),
                        kind: message.kind,
                        payload_enc: vault.seal(&json),
                        error: None,
                    }
                }
                Err(reason) => Arrival {
                    provider_id: format!("invalid:{}", hex::encode(Sha256::digest(raw.get().as_bytes()))),
                    kind: "invalid".into(),
                    payload_enc: vault.seal(raw.get().as_bytes()),
                    series: None,
                    error: Some(reason),
                },
            });
        }
        for raw in &value.statuses {
            match serde_json::from_str::<Status>(raw.get()) {
                Ok(status) => batch.receipts.extend(receipt(vault, status)),
                Err(error) => tracing::warn!(error = %json_error(&error), "ignoring an unreadable status"),
            }
        }
    }
    Ok(batch)
}

/// A status of a message Meldeweg sent, for the statuses it tracks.
fn receipt(vault: &Vault, status: Status) -> Option<Receipt> {
    let delivery_status = match status.status.as_str() {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        other => {
            tracing::debug!(status = %other, "ignoring a status Meldeweg does not track");
            return None;
        }
    };
    let error = status.errors.first().map(|e| (e.code, e.title.clone()));
    Some(Receipt {
        // Sent messages are stored under the hash of their id, like received ones.
        provider_id: vault.message_id_hash(&status.id),
        status: delivery_status,
        at_ms: status.timestamp.saturating_mul(1000),
        window_closed: error.as_ref().is_some_and(|(code, _)| *code == WINDOW_CLOSED),
        error,
    })
}

fn read_message(raw: &str, contacts: &[Contact]) -> Result<Message, String> {
    let mut message: Message =
        serde_json::from_str(raw).map_err(|e| format!("unreadable message: {}", json_error(&e)))?;
    fill_sender(&mut message, contacts);
    message.validate()?;
    Ok(message)
}

/// Completes the sender from `contacts`, which carry the number and the business-scoped user id.
fn fill_sender(message: &mut Message, contacts: &[Contact]) {
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    let contact = contacts
        .iter()
        .find(|c| same(&c.wa_id, &message.from) || same(&c.user_id, &message.from_user_id))
        .or(match contacts {
            [only] => Some(only),
            _ => None,
        });
    if let Some(contact) = contact {
        if message.from.is_none() {
            message.from = contact.wa_id.clone();
        }
        if message.from_user_id.is_none() {
            message.from_user_id = contact.user_id.clone();
        }
    }
}

/// The sender: the number, and the business-scoped user id, which stays when a citizen hides
/// or changes their number.
fn sender(message: &Message) -> Sender {
    Sender { phone: message.from.clone(), account: message.from_user_id.clone() }
}

/// A message stored by `batch`, as the core reads it.
pub fn read(stored: &[u8]) -> Result<InboundMessage, String> {
    let message: Message = serde_json::from_slice(stored).map_err(|e| json_error(&e))?;
    Ok(InboundMessage {
        channel: NAME.to_string(),
        sender: sender(&message),
        sent_at_ms: message.timestamp.saturating_mul(1000),
        content: content(&message),
        id: message.id,
    })
}

/// What a message says, in the core's terms.
fn content(message: &Message) -> Content {
    let unsupported = |kind| Content::Unsupported { kind };
    let photo = |media: &Media| Content::Photo {
        media: MediaRef {
            id: media.id.clone(),
            claimed_type: media.mime_type.clone(),
            claimed_size: None,
            sha256: media.sha256.clone(),
        },
        caption: media.caption.clone(),
    };
    match message.kind.as_str() {
        "text" => match &message.text {
            Some(text) => Content::Text { text: text.body.clone() },
            None => unsupported(Unsupported::Other),
        },
        "image" => match &message.image {
            Some(media) if media_is_sane(media) => photo(media),
            _ => unsupported(Unsupported::Other),
        },
        // A photo sent as a document keeps all its metadata; it is cleaned like any other.
        "document" => match &message.document {
            Some(media)
                if media_is_sane(media) && media.mime_type.as_deref().is_some_and(|m| m.starts_with("image/")) =>
            {
                photo(media)
            }
            _ => unsupported(Unsupported::Document),
        },
        "location" => match &message.location {
            Some(location) => match LatLon::new(location.latitude, location.longitude) {
                Ok(point) => {
                    Content::Location { point, name: location.name.clone(), address: location.address.clone() }
                }
                Err(_) => unsupported(Unsupported::Other),
            },
            None => unsupported(Unsupported::Other),
        },
        "interactive" => match message.interactive.as_ref().and_then(Interactive::choice) {
            Some(choice) => Content::Choice { id: choice.id.clone(), title: choice.title.clone() },
            None => unsupported(Unsupported::Other),
        },
        // A quick-reply button of a template message.
        "button" => match &message.button {
            Some(button) => Content::Choice { id: button.payload.clone(), title: button.text.clone() },
            None => unsupported(Unsupported::Other),
        },
        "audio" => unsupported(Unsupported::Audio),
        "video" => unsupported(Unsupported::Video),
        "contacts" => unsupported(Unsupported::Contacts),
        "reaction" | "sticker" | "system" => Content::Ignored,
        _ => unsupported(Unsupported::Other),
    }
}

/// Media ids and metadata are bounded before they are used.
fn media_is_sane(media: &Media) -> bool {
    let short = |s: &Option<String>| s.as_ref().is_none_or(|s| s.len() <= MAX_MEDIA_META);
    !media.id.is_empty() && media.id.len() <= MAX_MEDIA_ID && short(&media.mime_type) && short(&media.sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(json: &str) -> Message {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_sender_is_completed_from_the_matching_contact() {
        let contacts = vec![
            Contact { wa_id: Some("111".into()), user_id: Some("US.1".into()) },
            Contact { wa_id: Some("222".into()), user_id: Some("US.2".into()) },
        ];
        let mut m = message(r#"{"from":"222","id":"a","timestamp":"1","type":"text"}"#);
        fill_sender(&mut m, &contacts);
        assert_eq!(m.from_user_id.as_deref(), Some("US.2"));

        let mut m = message(r#"{"from_user_id":"US.1","id":"a","timestamp":"1","type":"text"}"#);
        fill_sender(&mut m, &contacts);
        assert_eq!(m.from.as_deref(), Some("111"));
    }

    #[test]
    fn a_citizen_without_a_number_keeps_none() {
        let contacts = vec![Contact { wa_id: None, user_id: Some("US.9".into()) }];
        let mut m = message(r#"{"id":"a","timestamp":"1","type":"text"}"#);
        fill_sender(&mut m, &contacts);
        assert_eq!((m.from, m.from_user_id.as_deref()), (None, Some("US.9")));
    }

    #[test]
    fn stored_messages_read_back_in_the_cores_terms() {
        let read = |json: &str| read(json.as_bytes()).unwrap();
        let text = read(
            r#"{"from":"4915","from_user_id":"US.1","id":"w1","timestamp":"1700000000","type":"text","text":{"body":"Loch"}}"#,
        );
        assert_eq!(text.sender, Sender { phone: Some("4915".into()), account: Some("US.1".into()) });
        assert_eq!(text.sent_at_ms, 1_700_000_000_000);
        assert_eq!(text.content, Content::Text { text: "Loch".into() });
        let pdf = read(
            r#"{"from":"1","id":"w2","timestamp":"1","type":"document","document":{"id":"m","mime_type":"application/pdf"}}"#,
        );
        assert_eq!(pdf.content, Content::Unsupported { kind: Unsupported::Document });
        let scan = read(
            r#"{"from":"1","id":"w3","timestamp":"1","type":"document","document":{"id":"m","mime_type":"image/png"}}"#,
        );
        assert!(matches!(scan.content, Content::Photo { .. }));
        let far = read(
            r#"{"from":"1","id":"w4","timestamp":"1","type":"location","location":{"latitude":91,"longitude":0}}"#,
        );
        assert_eq!(far.content, Content::Unsupported { kind: Unsupported::Other });
        let long_id = format!(
            r#"{{"from":"1","id":"w5","timestamp":"1","type":"image","image":{{"id":"{}"}}}}"#,
            "x".repeat(300)
        );
        assert_eq!(read(&long_id).content, Content::Unsupported { kind: Unsupported::Other });
        let sticker = read(r#"{"from":"1","id":"w6","timestamp":"1","type":"sticker"}"#);
        assert_eq!(sticker.content, Content::Ignored);
    }
}
