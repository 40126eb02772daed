//! Bystander detection (issue 22): how well, how fast and at what memory cost faces and plates
//! are found and obscured.
//!
//!     cargo bench -p meldeweg-workers --bench bystanders          # timing, then both sets
//!     cargo bench -p meldeweg-workers --bench bystanders -- --face-side 1024 --plate-side 1024
//!     cargo bench -p meldeweg-workers --bench bystanders -- --eval-only --face-threshold 0.4
//!
//! The defaults are the service's (`config/default.toml`). Evaluation: the 64 photos of
//! `tests/fixtures/bystanders/eval/` (2048 px, 120 boxes whose sizes are known exactly, see
//! tests/fixtures/SOURCES.md), on which the threshold and sizes were chosen, and the 32 photos
//! of the held-out set `tests/fixtures/bystanders/holdout/` (the same generator, another seed),
//! which nothing was chosen on, go through the detectors as the service runs them. A face or plate counts as protected when the regions the public copy obscures (each
//! grown by the same margin as in the copy) cover at least 70 % of its box, whatever the
//! detector that found it. A region that covers no box by 20 % of its own area is a false
//! positive of its kind. Recall is given per size band (face height, plate width).
//!
//! Timing: the 12-megapixel phone photo (`tests/fixtures/photos/phone_o6_gps.jpg`, 4032 × 3024)
//! cleaned as today (`photo::clean`), and cleaned, checked and copied as the photo stage now
//! does, alternating (the detectors spread over all cores). Memory: what the models and their
//! plans take once per process, and the peak one photo in flight adds above what is resident
//! before it (the peak is reset for it).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use meldeweg_workers::bystanders::{self, Detectors, Kind, Region, Settings};
use meldeweg_workers::photo::{self, Limits};
use serde::Deserialize;

#[path = "../../benches/support/stats.rs"]
mod stats;

const RUNS: usize = 20;
const FACE_BANDS: [(u32, u32); 4] = [(24, 32), (32, 48), (48, 96), (96, 10_000)];
const PLATE_BANDS: [(u32, u32); 3] = [(50, 80), (80, 160), (160, 10_000)];
/// The public copy's margin (`bystanders::obscure`).
const MARGIN: f64 = 0.2;

#[derive(Deserialize)]
struct Set {
    photos: Vec<EvalPhoto>,
}

#[derive(Deserialize)]
struct EvalPhoto {
    file: String,
    objects: Vec<Object>,
}

#[derive(Deserialize)]
struct Object {
    kind: String,
    #[serde(rename = "box")]
    area: [u32; 4],
}

fn root() -> PathBuf {
    // The repository's root: models and fixtures live there, beside the service.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let side = |name: &str, default: u32| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map_or(default, |v| v.parse().expect(name))
    };
    let face_threshold = args
        .iter()
        .position(|a| a == "--face-threshold")
        .and_then(|i| args.get(i + 1))
        .map_or(0.3, |v| v.parse().expect("--face-threshold"));
    let settings =
        Settings { face_side: side("--face-side", 2048), plate_side: side("--plate-side", 1024), face_threshold };
    let detectors = Detectors::load(&root().join("models"), settings).expect("models load");
    println!(
        "bystanders: faces looked for at {} px, plates at {} px, face threshold {}",
        settings.face_side, settings.plate_side, settings.face_threshold
    );
    // Timing and memory first, in a process that has not yet seen the evaluation set.
    if !args.iter().any(|a| a == "--eval-only") {
        time(&detectors);
    }
    evaluate(&detectors, "evaluation set (the settings were chosen on it)", "tests/fixtures/bystanders/eval");
    evaluate(&detectors, "held-out set (never used to choose anything)", "tests/fixtures/bystanders/holdout");
}

/// Share of `object` (x, y, w, h) covered by the union of `regions` grown by the margin.
fn covered(object: [u32; 4], regions: &[Region]) -> f64 {
    let [x, y, w, h] = object;
    let mut inside = 0u64;
    for py in y..y + h {
        for px in x..x + w {
            if regions.iter().any(|r| grown_contains(r, px, py)) {
                inside += 1;
            }
        }
    }
    inside as f64 / (u64::from(w) * u64::from(h)) as f64
}

fn grown_contains(r: &Region, px: u32, py: u32) -> bool {
    let gx = (f64::from(r.width) * MARGIN).ceil();
    let gy = (f64::from(r.height) * MARGIN).ceil();
    let (px, py) = (f64::from(px), f64::from(py));
    px >= f64::from(r.x) - gx
        && px < f64::from(r.x + r.width) + gx
        && py >= f64::from(r.y) - gy
        && py < f64::from(r.y + r.height) + gy
}

/// Share of region `r` that lies on any object.
fn on_objects(r: &Region, objects: &[Object]) -> f64 {
    let mut shared = 0u64;
    for o in objects {
        let [x, y, w, h] = o.area;
        let width = (r.x + r.width).min(x + w).saturating_sub(r.x.max(x));
        let height = (r.y + r.height).min(y + h).saturating_sub(r.y.max(y));
        shared += u64::from(width) * u64::from(height);
    }
    shared as f64 / (u64::from(r.width) * u64::from(r.height)).max(1) as f64
}

#[derive(Default, Clone, Copy)]
struct Tally {
    found: u32,
    total: u32,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let share = 100.0 * f64::from(self.found) / f64::from(self.total.max(1));
        write!(f, "{}/{} ({share:.1} %)", self.found, self.total)
    }
}

fn evaluate(detectors: &Detectors, name: &str, folder: &str) {
    let dir = root().join(folder);
    let set: Set = serde_json::from_str(&std::fs::read_to_string(dir.join("boxes.json")).expect("boxes.json"))
        .expect("boxes.json parses");
    let mut faces = [Tally::default(); FACE_BANDS.len()];
    let mut plates = [Tally::default(); PLATE_BANDS.len()];
    let (mut false_faces, mut false_plates) = (0u32, 0u32);
    let mut missed = Vec::new();
    let mut false_regions = Vec::new();
    let mut took = Vec::new();
    for photo in &set.photos {
        let pixels = photo::decode_cleaned(&std::fs::read(dir.join(&photo.file)).expect("photo")).expect("a JPEG");
        let started = Instant::now();
        let regions = detectors.find(&pixels).expect("detection runs");
        took.push(started.elapsed());
        for object in &photo.objects {
            let protected = covered(object.area, &regions) >= 0.7;
            let [_, _, w, h] = object.area;
            let (tallies, size, bands): (&mut [Tally], u32, &[(u32, u32)]) = match object.kind.as_str() {
                "face" => (&mut faces, h, &FACE_BANDS),
                _ => (&mut plates, w, &PLATE_BANDS),
            };
            if let Some(band) = bands.iter().position(|(lo, hi)| (*lo..*hi).contains(&size)) {
                tallies[band].total += 1;
                tallies[band].found += u32::from(protected);
            }
            if !protected {
                missed.push(format!("{} {} {:?}", photo.file, object.kind, object.area));
            }
        }
        for region in &regions {
            if on_objects(region, &photo.objects) < 0.2 {
                let area = [region.x, region.y, region.width, region.height];
                false_regions.push(format!("{} {:?} {area:?}", photo.file, region.kind));
                match region.kind {
                    Kind::Face => false_faces += 1,
                    _ => false_plates += 1,
                }
            }
        }
    }
    let sum = |t: &[Tally]| {
        t.iter().fold(Tally::default(), |a, b| Tally { found: a.found + b.found, total: a.total + b.total })
    };
    println!("\n{name}: {} photos", set.photos.len());
    println!("| class | size band | protected |");
    println!("|---|---|---|");
    for ((lo, hi), tally) in FACE_BANDS.iter().zip(&faces) {
        println!("| face | {lo}–{} px tall | {tally} |", hi.min(&999));
    }
    println!("| face | all (≥ 24 px) | {} |", sum(&faces));
    for ((lo, hi), tally) in PLATE_BANDS.iter().zip(&plates) {
        println!("| plate | {lo}–{} px wide | {tally} |", hi.min(&999));
    }
    println!("| plate | readable (≥ 80 px wide) | {} |", sum(&plates[1..]));
    let photos = set.photos.len() as f64;
    println!(
        "false positives: {false_faces} face regions, {false_plates} plate regions on {} photos ({:.2} per photo)",
        set.photos.len(),
        f64::from(false_faces + false_plates) / photos
    );
    took.sort();
    println!(
        "detection on the 2048 px photos: p50 {:.0} ms, p99 {:.0} ms",
        stats::percentile_ms(&took, 50.0),
        stats::percentile_ms(&took, 99.0)
    );
    for miss in missed {
        println!("  missed: {miss}");
    }
    for region in false_regions {
        println!("  obscured for nothing: {region}");
    }
}

fn time(detectors: &Detectors) {
    let original = std::fs::read(root().join("tests/fixtures/photos/phone_o6_gps.jpg")).expect("fixture");
    let limits = Limits::default();
    let loaded = memory_mib("VmRSS");
    let cleaned = photo::clean(&original, &limits).expect("cleans");
    let cleaning = memory_mib("VmHWM");
    // Warm-up: the plans for this photo's canvas are made once per process.
    detectors.find(&cleaned.pixels).expect("detects");
    let planned = memory_mib("VmHWM");
    // One photo in flight: the peak above what is resident before it, plans and pixels made.
    reset_peak();
    let before = memory_mib("VmRSS");
    let regions = detectors.find(&cleaned.pixels).expect("detects");
    drop(bystanders::public_copy(&cleaned.pixels, &regions, &limits).expect("copies"));
    let in_flight = memory_mib("VmHWM") - before;
    drop(cleaned);
    let (mut clean_only, mut with_copy, mut check_only) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        let cleaned = photo::clean(&original, &limits).expect("cleans");
        clean_only.push(started.elapsed());
        drop(cleaned);

        let started = Instant::now();
        let cleaned = photo::clean(&original, &limits).expect("cleans");
        let checked = Instant::now();
        let regions = detectors.find(&cleaned.pixels).expect("detects");
        let copy = bystanders::public_copy(&cleaned.pixels, &regions, &limits).expect("copies");
        check_only.push(checked.elapsed());
        with_copy.push(started.elapsed());
        drop(copy);
    }
    for list in [&mut clean_only, &mut with_copy, &mut check_only] {
        list.sort();
    }
    let line = |name: &str, list: &[Duration]| {
        println!("| {name} | {:.0} ms | {:.0} ms |", stats::percentile_ms(list, 50.0), stats::percentile_ms(list, 99.0))
    };
    println!("\n12 MP photo (4032 × 3024), {RUNS} runs each");
    println!("| step | p50 | p99 |");
    println!("|---|---|---|");
    line("cleaning alone (before issue 22)", &clean_only);
    line("cleaning + detection + public copy (now)", &with_copy);
    line("detection + public copy alone", &check_only);
    println!(
        "memory: {loaded:.0} MiB resident with the models loaded; peak {cleaning:.0} MiB after cleaning one photo, \
         {planned:.0} MiB after its first detection (the plans, made once per process: +{:.0} MiB); \
         one photo in flight through detection and public copy: +{in_flight:.0} MiB at its peak",
        planned - cleaning
    );
}

/// One of the process's memory figures from /proc/self/status (VmRSS now, VmHWM its peak), in MiB.
fn memory_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Starts the peak (VmHWM) again from what is resident now (Linux: 5 to clear_refs).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("the peak resident size can be reset");
}
