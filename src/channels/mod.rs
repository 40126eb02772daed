//! The channels reports arrive on. Each turns its wire format into stored inbound events with
//! their intake jobs, and sends replies in its own format. `email` only sends: updates to
//! citizens who reported on the web form and gave an address.

pub mod email;
pub mod whatsapp;
