//! The channels reports arrive on. Each turns its wire format into stored inbound events and
//! jobs; nothing channel-specific goes further into the pipeline than `StoredMessage`.

pub mod whatsapp;
