//! The channels reports arrive on. Each turns its wire format into stored inbound events with
//! their intake jobs, and sends replies in its own format.

pub mod whatsapp;
