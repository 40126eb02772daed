//! Integration tests: the real service over HTTP against a real database (SQLite, or
//! PostgreSQL when MELDEWEG_TEST_DATABASE_URL is set) with a fake WhatsApp Cloud API.
//! One test binary, so it links once.

mod architecture;
mod backup;
mod browser;
mod bystanders;
mod cli;
mod connections;
mod conversation;
mod fake_graph;
mod fake_smtp;
mod helpers;
mod hostile_input;
mod languages;
mod metrics;
mod open311;
mod outbound;
mod photos;
mod privacy_p10;
mod privacy_p11;
mod privacy_p12;
mod privacy_p13;
mod privacy_p14;
mod privacy_p3;
mod privacy_p4;
mod privacy_p5;
mod privacy_p6;
mod privacy_p7;
mod privacy_p8;
mod privacy_p9;
mod private_ca;
mod queue;
mod quick_start;
mod s3_server;
mod sandbox;
mod scale_out;
mod search;
mod staff;
mod staff_api;
mod staff_helpers;
mod stats;
mod status_replies;
mod storage;
mod triage;
mod webhook;
mod what_people_see;
