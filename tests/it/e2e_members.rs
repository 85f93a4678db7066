//! Members' commands through real servers (issue 9): each sent by SMTP to
//! Postfix, delivered to Dovecot, read by postbud over IMAP and answered
//! through Postfix; the replies read back from the members' own mailboxes.
//! One test for every command in turn, one for an unverified sender and the
//! cross-member cases.

use crate::e2e::{POST, WAIT, home, replies, run_once};
use crate::reps::{attachment, import_rep_register, security, unverified, verified};
use crate::support::{MailStack, Reply};

const KARI: &str = "kari.nordmann@example.no";
const PER: &str = "per.hansen@example.no";
/// The address Kari links by mistake (seed 004), on a domain the stack takes.
const PRIVAT: &str = "kari.privat@example.test";

fn kind(r: &Reply) -> String {
    r.header("X-Postbud-Kind").unwrap_or_default()
}

fn result(r: &Reply) -> String {
    r.header("X-Postbud-Result").unwrap_or_default()
}

/// The replies of `kind` among `got`, asserting there is exactly one.
fn one<'a>(got: &'a [Reply], k: &str) -> &'a Reply {
    let found: Vec<&Reply> = got.iter().filter(|r| kind(r) == k).collect();
    assert_eq!(found.len(), 1, "one {k} reply in {got:#?}");
    found[0]
}

fn code_after_bekreft(text: &str) -> String {
    text.split("BEKREFT ")
        .nth(1)
        .expect("BEKREFT and a code")
        .chars()
        .take(6)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_members_command_through_real_servers() {
    let stack = MailStack::start();
    let home = home(&stack, &security());
    import_rep_register(&home);
    for raw in [
        verified(KARI, "ENDRE", "telefon: 913 00 000\nstillingsprosent: 80"),
        verified(KARI, "MELD UT", ""),
        unverified(KARI, "MINE TILLITSVALGTE", ""),
        unverified(KARI, "MINE DATA", ""),
        verified(KARI, &format!("KOBLE {PRIVAT}"), ""),
        verified(KARI, "HJELP", ""),
    ] {
        stack.send(&raw, KARI, &[POST]);
    }
    stack.wait_for(POST, "INBOX", 6, WAIT).await;
    run_once(&home).await;
    let got = replies(&stack.wait_for(KARI, "INBOX", 6, WAIT).await);
    let update = one(&got, "update");
    assert_eq!(result(update), "pending", "{}", update.text);
    assert!(update.text.contains("+4791300000"), "{}", update.text);
    let resign = one(&got, "resign");
    assert!(resign.text.contains("grunnforsikringen"), "{}", resign.text);
    let resign_ref = resign.header("X-Postbud-Ref").unwrap();
    assert!(one(&got, "reps").text.contains(PER));
    let (name, xlsx) = attachment(one(&got, "data"));
    assert_eq!(name, "mine-data.xlsx");
    assert!(xlsx.starts_with(b"PK"), "an xlsx");
    assert_eq!(result(one(&got, "link")), "pending");
    assert!(one(&got, "help").text.contains("MINE DATA"));
    let code = replies(&stack.wait_for(PRIVAT, "INBOX", 1, WAIT).await);
    let code = code_after_bekreft(&code[0].text);

    // The code from the new address links it; Kari undoes her resignation.
    stack.send(
        &unverified(PRIVAT, &format!("BEKREFT {code}"), ""),
        PRIVAT,
        &[POST],
    );
    stack.send(
        &verified(KARI, &format!("ANGRE {resign_ref}"), ""),
        KARI,
        &[POST],
    );
    stack.wait_for(POST, "INBOX", 2, WAIT).await;
    run_once(&home).await;
    let got = replies(&stack.wait_for(KARI, "INBOX", 8, WAIT).await);
    assert_eq!(result(one(&got, "undo")), "ok");
    let to_new = replies(&stack.wait_for(PRIVAT, "INBOX", 2, WAIT).await);
    assert!(
        to_new
            .iter()
            .any(|r| kind(r) == "link" && result(r) == "ok")
    );
    // Kari's notice of the new link came to her registered address.
    assert_eq!(got.iter().filter(|r| kind(r) == "link").count(), 2);

    // A wrong address after all: removed. The office approves the update.
    let update_ref: String = home
        .store()
        .conn
        .query_row(
            "SELECT ref FROM pending_changes WHERE kind = 'employment'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    stack.send(
        &verified(KARI, &format!("FJERN {PRIVAT}"), ""),
        KARI,
        &[POST],
    );
    stack.send(
        &verified(
            "kontor@forbund.example",
            &format!("GODKJENN {update_ref}"),
            "",
        ),
        "kontor@forbund.example",
        &[POST],
    );
    stack.wait_for(POST, "INBOX", 2, WAIT).await;
    run_once(&home).await;
    let got = replies(&stack.wait_for(KARI, "INBOX", 10, WAIT).await);
    assert_eq!(result(one(&got, "unlink")), "ok");
    let approved = one(&got, "approve");
    assert_eq!(
        approved.header("X-Postbud-Ref").as_deref(),
        Some(update_ref.as_str())
    );
    let count = |sql: &str| -> i64 { home.store().conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM addresses WHERE email = 'kari.privat@example.test'"),
        0
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM people WHERE member_no = '50001' AND percent = '80' AND phone = '+4791300000' AND status = 'active'"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unverified_member_and_the_cross_member_cases_through_real_servers() {
    let stack = MailStack::start();
    let home = home(&stack, &security());
    import_rep_register(&home);
    // A forged ENDRE as Kari: the code goes to Kari, nothing changes.
    stack.send(
        &unverified(KARI, "ENDRE", "telefon: 400 00 000"),
        PER,
        &[POST],
    );
    // Per writes about Kari's things.
    stack.send(&verified(KARI, "MELD UT", ""), KARI, &[POST]);
    stack.send(&verified(PER, &format!("KOBLE {KARI}"), ""), PER, &[POST]);
    stack.send(&verified(PER, &format!("FJERN {KARI}"), ""), PER, &[POST]);
    stack.wait_for(POST, "INBOX", 4, WAIT).await;
    run_once(&home).await;
    let to_kari = replies(&stack.wait_for(KARI, "INBOX", 2, WAIT).await);
    let ask = one(&to_kari, "update");
    assert_eq!(result(ask), "pending");
    assert!(ask.text.contains("BEKREFT "), "{}", ask.text);
    let resign_ref = one(&to_kari, "resign").header("X-Postbud-Ref").unwrap();
    let to_per = replies(&stack.wait_for(PER, "INBOX", 2, WAIT).await);
    assert!(
        !to_per.iter().any(|r| r.text.contains("Kari")),
        "nothing about Kari"
    );
    assert_eq!(result(one(&to_per, "unlink")), "rejected");
    assert_eq!(
        result(one(&to_per, "link")),
        "pending",
        "the same answer as for a free address"
    );

    // Per tries Kari's reference and her code; Kari confirms with hers.
    let code = code_after_bekreft(&ask.text);
    stack.send(
        &verified(PER, &format!("ANGRE {resign_ref}"), ""),
        PER,
        &[POST],
    );
    stack.send(
        &unverified(PER, &format!("BEKREFT {code}"), ""),
        PER,
        &[POST],
    );
    stack.send(
        &unverified(KARI, &format!("BEKREFT {code}"), ""),
        KARI,
        &[POST],
    );
    stack.wait_for(POST, "INBOX", 3, WAIT).await;
    run_once(&home).await;
    let to_per = replies(&stack.wait_for(PER, "INBOX", 4, WAIT).await);
    assert_eq!(result(one(&to_per, "undo")), "rejected");
    assert_eq!(result(one(&to_per, "confirm")), "rejected");
    let to_kari = replies(&stack.wait_for(KARI, "INBOX", 3, WAIT).await);
    assert!(
        to_kari
            .iter()
            .any(|r| kind(r) == "update" && result(r) == "ok"),
        "{to_kari:#?}"
    );
    let count = |sql: &str| -> i64 { home.store().conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM people WHERE member_no = '50001' AND phone = '+4740000000'"),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM pending_changes WHERE status = 'pending' AND kind = 'resign'"),
        1
    );
    assert_eq!(
        count(&format!(
            "SELECT COUNT(*) FROM addresses WHERE email = '{KARI}' AND person_id = (SELECT id FROM people WHERE member_no = '50001')"
        )),
        1
    );
}
