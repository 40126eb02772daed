//! Meldeweg: citizens' problem reports over WhatsApp for German municipalities.
//!
//! The imperative shell around the pure stages in `meldeweg-workers`. Data flows
//! channels (ingress) → queue → pipeline (intake, triage, notify) → outbox; staff work the orders
//! (`orders`, `staff`); `web` serves the HTTP side
//! and `startup` wires it all from `config`. See docs/architecture.md for the whole picture.

pub mod audit;
pub mod channels;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod http;
pub mod inbox;
pub mod key_rotation;
pub mod orders;
pub mod outbox;
pub mod pipeline;
pub mod public_copies;
pub mod public_fetch;
pub mod queue;
pub mod rate_limit;
pub mod reporters;
pub mod reports;
pub mod request_id;
pub mod retention;
pub mod rights;
pub mod secrets;
pub mod service_hours;
pub mod staff;
pub mod startup;
pub mod stats;
pub mod storage;
pub mod telemetry;
pub mod texts;
pub mod time;
pub mod town;
pub mod web;
