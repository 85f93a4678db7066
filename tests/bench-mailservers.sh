#!/bin/bash
# The whole job through a real Dovecot and Postfix (SPEC section 13): starts a
# private stack on free ports on 127.0.0.1 (tests/mailstack.sh), runs
# `postbud bench --mailstack` against it (a bare Python client first, then
# postbud), and stops the stack. Usage: tests/bench-mailservers.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
export MAILSTACK_DIR
MAILSTACK_DIR=$(mktemp -d)
trap 'tests/mailstack.sh stop >/dev/null 2>&1 || true; rm -rf "$MAILSTACK_DIR"' EXIT
read -r IMAP_PORT IMAPS_PORT LMTP_PORT SMTP_PORT SUBMISSION_PORT AUTH_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
export IMAP_PORT IMAPS_PORT LMTP_PORT SMTP_PORT SUBMISSION_PORT AUTH_PORT
tests/mailstack.sh start
target/release/postbud bench --mailstack "$MAILSTACK_DIR" --server-messages "${1:-2000}"
