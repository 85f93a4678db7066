//! Employer contacts' commands end to end (SPEC section 5, seed 003): only
//! for the sender's own employers, deactivated and never deleted.

use crate::reps::{security, unverified, verified};
use crate::support::{FIXTURES, Home};
use postbud::store::import::{ImportKind, import};

fn home() -> Home {
    home_with("")
}

/// A home with the contacts imported and `security` keys added.
fn home_with(security_extra: &str) -> Home {
    let home = Home::new(&format!("{}{security_extra}", security()));
    let mut store = home.store();
    let text = std::fs::read_to_string(format!("{FIXTURES}/register/contacts.csv")).unwrap();
    import(
        &mut store.conn,
        ImportKind::Contacts,
        "contacts.csv",
        &text,
        home.now(),
        &|_, _| {},
    )
    .unwrap();
    home
}

const LONN: &str = "lonn@bedrift.example";

#[test]
fn contacts_are_listed_added_changed_and_deactivated_never_deleted() {
    let home = home();
    home.deliver(&verified(
        LONN,
        "KONTAKT NY ny@bedrift.example",
        "navn: Nina Ny\ntelefon: 55 00 00 01\nansvar: receipts|letters",
    ));
    home.deliver(&verified(LONN, "KONTAKT DEAKTIVER ny@bedrift.example", ""));
    home.deliver(&verified(LONN, "KONTAKTER", ""));
    home.run();
    let replies = home.replies();
    assert_eq!(replies.len(), 3);
    assert!(
        replies
            .iter()
            .all(|r| r.header("X-Postbud-Result").as_deref() == Some("ok"))
    );
    insta::assert_snapshot!("contacts_nb", replies[2].snapshot());
    assert_eq!(home.count("SELECT COUNT(*) FROM contacts"), 2);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM contacts WHERE active = 0 AND deactivated_at IS NOT NULL"),
        1
    );
    // The last active contact stays.
    home.deliver(&verified(
        LONN,
        "KONTAKT DEAKTIVER lonn@bedrift.example",
        "",
    ));
    home.run();
    assert_eq!(
        home.replies()
            .pop()
            .unwrap()
            .header("X-Postbud-Result")
            .as_deref(),
        Some("rejected")
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM contacts WHERE active = 1"),
        1
    );
}

#[test]
fn contact_commands_need_a_contact_and_a_verified_sender() {
    let home = home();
    home.deliver(&verified("kari.nordmann@example.no", "KONTAKTER", ""));
    home.deliver(&unverified(LONN, "KONTAKT NY x@bedrift.example", "navn: X"));
    home.run();
    let replies = home.replies();
    assert_eq!(
        replies[0].header("X-Postbud-Result").as_deref(),
        Some("rejected")
    );
    assert!(
        !replies[0].text.contains(LONN),
        "no contact details to a stranger"
    );
    assert_eq!(
        replies[1].header("X-Postbud-Result").as_deref(),
        Some("pending"),
        "a code first"
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM contacts"), 1);
}

/// Hardening finding 1: a forger sends many unverified commands from a
/// contact's address, then thousands of guesses. At most three codes are
/// made, the fifth wrong guess kills them, and nothing is carried out.
#[test]
fn guessing_confirmation_codes_gets_a_forger_nowhere() {
    let home = home_with("max_replies_per_hour = 100000\n");
    for i in 0..10 {
        home.deliver(&unverified(
            "lonn@bedrift.example",
            &format!("KONTAKT NY angriper{i}@evil.example"),
            "navn: Angriper\nansvar: receipts",
        ));
    }
    home.run();
    assert_eq!(
        home.count("SELECT COUNT(*) FROM codes WHERE email = 'lonn@bedrift.example' AND purpose = 'confirm'"),
        3,
        "at most three live confirmation codes"
    );
    for guess in 0..2000 {
        home.deliver(&unverified(
            "lonn@bedrift.example",
            &format!("BEKREFT {guess:06}"),
            "",
        ));
    }
    home.run();
    assert_eq!(
        home.count("SELECT COUNT(*) FROM contacts WHERE email LIKE '%evil.example'"),
        0,
        "nothing was carried out"
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM code_failures WHERE email = 'lonn@bedrift.example'"),
        5,
        "five guesses were checked; then none"
    );
    assert_eq!(
        home.count(&format!(
            "SELECT COUNT(*) FROM codes WHERE email = 'lonn@bedrift.example' AND expires_at > '{}'",
            postbud::store::ts(home.now())
        )),
        0,
        "every live code died"
    );
    // The next unverified command gets no new code for a day.
    home.deliver(&unverified("lonn@bedrift.example", "KONTAKTER", ""));
    home.run();
    let last = home.replies().pop().unwrap();
    assert_eq!(last.header("X-Postbud-Result").as_deref(), Some("rejected"));
    assert!(last.text.contains("for mange feil koder"), "{}", last.text);
    assert_eq!(
        home.count("SELECT COUNT(*) FROM codes WHERE email = 'lonn@bedrift.example'"),
        3
    );
}

/// A held message (over the reply limit) makes no code.
#[test]
fn a_held_message_makes_no_code() {
    let home = home_with("max_replies_per_hour = 1\n");
    home.deliver(&unverified("kari.nordmann@example.no", "hei", "første"));
    home.deliver(&unverified("kari.nordmann@example.no", "KODE", ""));
    home.run();
    assert_eq!(
        home.count("SELECT COUNT(*) FROM messages WHERE outcome = 'held'"),
        1
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM codes"), 0);
}
