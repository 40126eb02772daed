//! WhatsApp Business Platform (Cloud API, or an EU provider with the same message bodies):
//! the webhook we receive, the messages we send, and the client that sends them (P1).

pub mod client;
pub mod ingress;
pub mod media;
pub mod message;
pub mod signature;
pub mod store;
pub mod webhook;
