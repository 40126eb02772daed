use meldeweg_workers::bystanders::*;
fn main() {
    let d = Detectors::load(std::path::Path::new("models"), Settings { side: 1024, face_threshold: 0.5 }).unwrap();
    for path in std::env::args().skip(1) {
        let img = image::open(&path).unwrap().into_rgb8();
        let r = d.find(&img).unwrap();
        let faces: Vec<_> = r.iter().filter(|x| x.kind == Kind::Face).map(|x| (x.x, x.y, x.width, x.height)).collect();
        println!("{path} {}x{} {:?}", img.width(), img.height(), faces);
    }
}
