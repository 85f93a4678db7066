#[test]
fn dump() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mail");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths {
        let raw = std::fs::read(&p).unwrap();
        let m = postbud_core::message::parse(&raw).unwrap();
        let mut m2 = m.clone();
        for a in &mut m2.attachments {
            a.bytes.truncate(20);
        }
        if let Some(h) = &mut m2.html {
            h.truncate(200);
        }
        println!(
            "=== {}\n{:#?}\nKIND {:?}\nID {}",
            p.display(),
            m2,
            postbud_core::classify::classify(&m, "post@forbund.example"),
            postbud_core::message::identity(&raw, Some(&m))
        );
    }
}
