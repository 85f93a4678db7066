//! Employer contacts' commands end to end (SPEC section 5, seed 003): only
//! for the sender's own employers, deactivated and never deleted.

use crate::reps::{security, unverified, verified};
use crate::support::{FIXTURES, Home};
use postbud::store::import::{ImportKind, import};

fn home() -> Home {
    let home = Home::new(&security());
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
