//! The worst messages within the limits (SPEC section 3): handling any one
//! of them, whatever it holds, stays under 512 MB, and the reply stays under
//! 5 MB. The daemon runs as its own process under an address-space limit
//! (`setrlimit`), so a message that needed more would kill it, and would end
//! quarantined as "stopped twice" instead of answered.

use crate::support::home::NOW;
use crate::support::{FIXTURES, Home};
use postbud::store::import::{ImportKind, import};
use std::process::Command;

/// What one message may use, and what the process needs besides: its code,
/// threads' stacks and the allocator's reservations, measured idle.
const MESSAGE_LIMIT: u64 = 512 << 20;
const BASELINE: u64 = 256 << 20;

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + bytes.len() / 57 * 2 + 4);
    for (i, chunk) in bytes.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let n = chunk.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for k in 0..4 {
            out.push(if k <= chunk.len() {
                T[(n >> (18 - 6 * k) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

fn with_attachment(subject: &str, name: &str, mime: &str, bytes: &[u8], n: usize) -> Vec<u8> {
    format!(
        "From: lonn@bedrift.example\r\nTo: post@forbund.example\r\nSubject: {subject}\r\n\
         Message-ID: <worst-{n}@bedrift.example>\r\n\
         Authentication-Results: mx.forbund.example; dmarc=pass header.from=bedrift.example\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nListe.\r\n\
         --b\r\nContent-Type: {mime}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        base64(bytes)
    )
    .into_bytes()
}

/// A list of `rows` lines, every one wrong (ids nobody has), as xlsx.
fn xlsx_list(rows: usize) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Fødselsnummer").unwrap();
    sheet.write_string(0, 1, "Navn").unwrap();
    sheet.write_string(0, 2, "Beløp").unwrap();
    for i in 0..rows {
        let r = (i + 1) as u32;
        sheet
            .write_number(r, 0, 1_000_000_000.0 + i as f64)
            .unwrap();
        sheet.write_string(r, 1, "Navn Navnesen").unwrap();
        sheet.write_number(r, 2, 412.5).unwrap();
    }
    book.save_to_buffer().unwrap()
}

fn worst_messages(rows: usize) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    // Parts nested a million levels deep (25 MB would hold more).
    let mut deep = String::from(
        "From: a@example.no\r\nTo: post@forbund.example\r\nSubject: dyp\r\nMessage-ID: <worst-deep@x>\r\n",
    );
    for _ in 0..300_000 {
        deep.push_str("Content-Type: message/rfc822\r\n\r\n");
    }
    deep.push_str("\r\nhei\r\n");
    out.push(("deep", deep.into_bytes()));
    // HTML only: a table of 200,000 cells (2 MB, the most read of a part).
    let mut html = String::from("<table>");
    for i in 0..200_000 {
        if i % 10 == 0 {
            html.push_str("<tr>");
        }
        html.push_str("<td>x</td>");
    }
    html.push_str("</table>");
    out.push((
        "html",
        format!(
            "From: ola@example.no\r\nTo: post@forbund.example\r\nSubject: tabell\r\nMessage-ID: <worst-html@x>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
        )
        .into_bytes(),
    ));
    // A deduction list whose every row is wrong.
    out.push((
        "list",
        with_attachment(
            "Trekkliste 10/2026",
            "liste.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &xlsx_list(rows),
            1,
        ),
    ));
    // An activity list of a million names (about 15 MB).
    let names: Vec<String> = (0..1_000_000).map(|i| format!("Navn {i}")).collect();
    out.push((
        "activity",
        format!(
            "From: leder.bergen@ffm.example\r\nTo: post@forbund.example\r\nSubject: AKTIVITET 2026\r\n\
             Message-ID: <worst-activity@ffm.example>\r\n\
             Authentication-Results: mx.forbund.example; dmarc=pass header.from=ffm.example\r\n\r\n{}\r\n",
            names.join(", ")
        )
        .into_bytes(),
    ));
    out
}

#[test]
fn the_worst_messages_within_the_limits_stay_under_512_mb() {
    // The full million rows in a release build: `postbud bench` reports it.
    let rows: usize = std::env::var("POSTBUD_WORST_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200_000);
    let home = Home::new(&format!(
        "{}[lists]\nallow_synthetic_ids = true\n[limits]\nmax_message_bytes = 26214400\n",
        crate::reps::security()
    ));
    {
        let mut store = home.store();
        for (kind, file) in [
            (ImportKind::Contacts, "contacts.csv"),
            (ImportKind::Peers, "peers.csv"),
            (ImportKind::Roles, "roles.csv"),
        ] {
            let text = std::fs::read_to_string(format!("{FIXTURES}/register/{file}")).unwrap();
            import(&mut store.conn, kind, file, &text, home.now(), &|_, _| {}).unwrap();
        }
    }
    let mut messages = worst_messages(rows);
    // POSTBUD_WORST_ONLY=list: that message alone, to measure it.
    if let Ok(only) = std::env::var("POSTBUD_WORST_ONLY") {
        messages.retain(|(name, _)| *name == only);
    }
    // POSTBUD_WORST_DUMP=dir: write the messages there, to measure each one
    // alone with a release build.
    if let Ok(dir) = std::env::var("POSTBUD_WORST_DUMP") {
        for (name, raw) in &messages {
            std::fs::write(format!("{dir}/{name}.eml"), raw).unwrap();
        }
    }
    for (_, raw) in &messages {
        assert!(raw.len() < 25 << 20, "within the size limit");
        home.deliver(raw);
    }
    let limit = BASELINE + MESSAGE_LIMIT;
    let count = messages.len();
    drop(messages);
    // POSTBUD_WORST_BIN: another build of postbud (a release one) to run.
    let bin = std::env::var("POSTBUD_WORST_BIN").unwrap_or(env!("CARGO_BIN_EXE_postbud").into());
    // A small shell sets the limit and becomes GNU time, which runs postbud
    // and reports its peak (this process's own rusage would count the pages
    // of this big test process in a child before it execs).
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -v \"$1\" && shift && exec /usr/bin/time -f 'peak resident %M KB' \"$@\"",
        "sh",
        &(limit / 1024).to_string(),
        &bin,
        "--config",
        home.config_path().to_str().unwrap(),
        "run",
        "--once",
    ])
    .env("POSTBUD_NOW", NOW)
    .env("MALLOC_ARENA_MAX", "2");
    let t = std::time::Instant::now();
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak_kb: u64 = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("peak resident ")?
                .strip_suffix(" KB")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no peak from /usr/bin/time (apt-get install time): {stderr}"));
    eprintln!(
        "handled the worst messages ({rows} list rows) in {:?}, peak resident {} MB",
        t.elapsed(),
        peak_kb / 1024
    );
    assert!(
        peak_kb * 1024 < MESSAGE_LIMIT,
        "postbud's peak was {} MB",
        peak_kb / 1024
    );
    assert!(out.status.success(), "{out:?}");
    let outcomes: Vec<(String, String)> = home
        .store()
        .conn
        .prepare("SELECT COALESCE(subject, ''), outcome FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(outcomes.len(), count, "{outcomes:?}");
    for (subject, outcome) in &outcomes {
        match subject.as_str() {
            _ if count == 1 => {}
            // Refused before it is parsed.
            "" | "dyp" => assert_eq!(outcome, "quarantined", "{subject}"),
            _ => assert_eq!(outcome, "handled", "{subject}: {outcomes:?}"),
        }
    }
    for reply in home.replies() {
        eprintln!(
            "reply to {} ({} bytes): {}",
            reply.to,
            reply.raw.len(),
            reply.text.lines().take(8).collect::<Vec<_>>().join(" | ")
        );
        assert!(
            reply.raw.len() < 5 << 20,
            "a reply of {} bytes to {}",
            reply.raw.len(),
            reply.to
        );
    }
}
