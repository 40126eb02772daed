//! WhatsApp webhook deliveries as Meta sends them, signed with the benchmarks' app secret.

use meldeweg::channels::whatsapp::signature::sign;

use super::fake_graph::PHONE_NUMBER_ID;
use super::APP_SECRET;

/// A delivery with one message from `from`, as Meta sends it, and its signature header.
pub fn signed_delivery(from: &str, message_id: &str, content: &str) -> (String, String) {
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let body = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"419561257915477","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"{PHONE_NUMBER_ID}"}},"contacts":[{{"profile":{{"name":"Bench"}},"wa_id":"{from}","user_id":"DE.{from}"}}],"messages":[{{"from":"{from}","from_user_id":"DE.{from}","id":"{message_id}","timestamp":"{timestamp}",{content}}}]}}}}]}}]}}"#
    );
    let signature = sign(APP_SECRET.as_bytes(), body.as_bytes());
    (body, signature)
}
