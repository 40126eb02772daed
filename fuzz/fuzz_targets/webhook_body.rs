//! Any bytes as the body of a WhatsApp webhook POST, through what the endpoint does before the
//! core's ingress stores it (`Delivery::parse`, then `translate::batch`: each message validated
//! and sealed, each status a receipt), and what the intake job does later with a stored message
//! (open it, `translate::read`). Nothing may panic; a message the batch took as readable must
//! read back; the reason of a refused body or message must not repeat a number from the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldeweg::channels::whatsapp::translate;
use meldeweg::channels::whatsapp::webhook::Delivery;
use meldeweg_fuzz::{assert_repeats_no_number, vault};

fuzz_target!(|body: &[u8]| {
    let batch = match Delivery::parse(body).and_then(|delivery| translate::batch(delivery, vault())) {
        Ok(batch) => batch,
        Err(reason) => return assert_repeats_no_number(body, &reason),
    };
    for arrival in &batch.arrivals {
        let stored = vault().open(&arrival.payload_enc).expect("a sealed message opens");
        match &arrival.error {
            None => drop(translate::read(&stored).expect("a message taken as readable reads back")),
            Some(reason) => assert_repeats_no_number(body, reason),
        }
    }
});
