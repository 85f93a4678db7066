#!/bin/bash
# mailstack.sh start|stop|restart-dovecot|stop-dovecot|start-dovecot|
#              restart-postfix|stop-postfix|start-postfix
#
# A private Dovecot + Postfix on 127.0.0.1 for integration tests: no systemd,
# nothing in /etc touched, every port a parameter, several stacks side by side.
#
#   MAILSTACK_DIR    a fresh directory per stack (required)
#   IMAP_PORT        IMAP with STARTTLS
#   IMAPS_PORT       IMAP, implicit TLS
#   LMTP_PORT        Dovecot LMTP (Postfix delivers here)
#   SMTP_PORT        Postfix SMTP, no auth, takes mail for the test domains only
#   SUBMISSION_PORT  Postfix submission: STARTTLS required, AUTH via Dovecot
#   AUTH_PORT        Dovecot auth service for Postfix SASL
#   SMTPS_PORT       optional: Postfix submission with implicit TLS, AUTH
#
# Ports are saved in $MAILSTACK_DIR/ports.env by `start`; the other commands
# read them from there. Every address at any domain logs in with password
# "pw"; LMTP takes any recipient. Postfix takes mail for the domains in
# $DOMAINS only and never sends anything off the machine.
#
# It fails (non-zero exit, a message on stderr) when a server is missing or
# does not come up; it never skips.
set -euo pipefail

die() { echo "mailstack: $*" >&2; exit 1; }

BASE=${MAILSTACK_DIR:?set MAILSTACK_DIR to a fresh directory}
VMAIL_UID=${VMAIL_UID:-5000}           # Dovecot refuses uid 0 for mail storage
DOMAINS="example.test example.no forbund.example ffm.example bedrift.example"
DC=$BASE/dovecot
PF=$BASE/postfix
PATH=$PATH:/usr/sbin:/sbin

need() {
  for cmd in dovecot doveconf postfix postconf openssl; do
    command -v "$cmd" >/dev/null 2>&1 ||
      die "'$cmd' is not installed: apt-get install dovecot-imapd dovecot-lmtpd postfix openssl (see /work/shared/notes/mail-servers.md)"
  done
  [ -x /usr/lib/dovecot/lmtp ] || die "Dovecot LMTP is not installed: apt-get install dovecot-lmtpd"
  [ -x /usr/lib/dovecot/imap ] || die "Dovecot IMAP is not installed: apt-get install dovecot-imapd"
}

load_ports() {
  if [ -f "$BASE/ports.env" ]; then
    # shellcheck disable=SC1091
    . "$BASE/ports.env"
  fi
  : "${IMAP_PORT:?IMAP_PORT not set}" "${IMAPS_PORT:?IMAPS_PORT not set}" "${LMTP_PORT:?LMTP_PORT not set}"
  : "${SMTP_PORT:?SMTP_PORT not set}" "${SUBMISSION_PORT:?SUBMISSION_PORT not set}" "${AUTH_PORT:?AUTH_PORT not set}"
  SMTPS_PORT=${SMTPS_PORT:-}
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 200); do port_open "$1" && return 0; sleep 0.05; done
  return 1
}

wait_closed() {
  for _ in $(seq 1 200); do port_open "$1" || return 0; sleep 0.05; done
  return 1
}

dovecot_logs() {
  echo "--- $DC/stderr.log" >&2; tail -n 30 "$DC/stderr.log" >&2 2>/dev/null || true
  echo "--- $DC/dovecot.log" >&2; tail -n 30 "$DC/dovecot.log" >&2 2>/dev/null || true
}

postfix_logs() {
  echo "--- $PF/stderr.log" >&2; tail -n 30 "$PF/stderr.log" >&2 2>/dev/null || true
  echo "--- $PF/maillog" >&2; tail -n 30 "$PF/maillog" >&2 2>/dev/null || true
}

certs() {
  # A cert.pem and key.pem already in $MAILSTACK_DIR are served as they are
  # (MailStack::start_with_cert puts a test's own there before `start`).
  [ -f "$BASE/cert.pem" ] && return 0
  # A private CA and a server certificate it signed: rustls takes neither a
  # CA certificate as a server certificate nor a v1 certificate.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=mailstack test CA" -keyout "$BASE/ca-key.pem" -out "$BASE/ca.pem" 2>"$BASE/openssl.log" ||
    { cat "$BASE/openssl.log" >&2; die "cannot make the test CA"; }
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
    -keyout "$BASE/key.pem" -out "$BASE/cert.csr" 2>>"$BASE/openssl.log" ||
    { cat "$BASE/openssl.log" >&2; die "cannot make the server key"; }
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$BASE/cert.ext"
  openssl x509 -req -in "$BASE/cert.csr" -CA "$BASE/ca.pem" -CAkey "$BASE/ca-key.pem" -CAcreateserial \
    -days 3650 -extfile "$BASE/cert.ext" -out "$BASE/cert.pem" 2>>"$BASE/openssl.log" ||
    { cat "$BASE/openssl.log" >&2; die "cannot sign the server certificate"; }
  # Dovecot and Postfix read the key as root; clients only need ca.pem.
  chmod 600 "$BASE/key.pem" "$BASE/ca-key.pem"
}

write_dovecot_conf() {
  # The instance name is unique per directory, so stacks side by side stay apart.
  local instance
  instance="mailstack-$(printf '%s' "$BASE" | cksum | cut -d' ' -f1)"
  cat >"$DC/dovecot.conf" <<EOF
instance_name = $instance
base_dir  = $DC/run
state_dir = $DC/state
log_path  = $DC/dovecot.log
protocols = imap lmtp
listen    = 127.0.0.1
ssl = yes
ssl_cert = <$BASE/cert.pem
ssl_key  = <$BASE/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
# Test mail need not survive a power cut: no fsync, much faster APPEND and LMTP.
mail_fsync = never
# Any address logs in with "pw"; LMTP delivers to any recipient.
passdb {
  driver = static
  args = password=pw
}
userdb {
  driver = static
  args = uid=$VMAIL_UID gid=$VMAIL_UID home=$DC/mail/%u allow_all_users=yes
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = $AUTH_PORT
  }
}
EOF
}

write_postfix_conf() {
  cat >"$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory  = $PF/data
maillog_file    = $PF/maillog
maillog_file_prefixes = $PF
myhostname = mail.example.test
myorigin   = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols  = ipv4
# No client is trusted to relay: mail to a domain outside the test domains is
# refused at RCPT (554 relay access denied), and default_transport is an error
# as a second guard, so nothing ever leaves the machine.
mynetworks = 192.0.2.1/32
alias_maps =
alias_database =
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
virtual_mailbox_domains = $DOMAINS
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
default_transport = error:outbound mail disabled in tests
relay_transport   = error:outbound mail disabled in tests
smtp_dns_support_level = disabled
lmtp_host_lookup = native
smtpd_tls_cert_file = $BASE/cert.pem
smtpd_tls_key_file  = $BASE/key.pem
smtpd_tls_security_level = may
# Retry deferred mail (Dovecot restarted in a test) within a second or two.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
# Deliver as soon as a message is queued; parallel tests send many.
in_flow_delay = 0
message_size_limit = 52428800
EOF
  {
    echo "127.0.0.1:$SMTP_PORT inet n - n - - smtpd"
    echo "127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd"
    echo "  -o smtpd_tls_security_level=encrypt"
    echo "  -o smtpd_sasl_auth_enable=yes"
    echo "  -o smtpd_sasl_type=dovecot"
    echo "  -o smtpd_sasl_path=inet:127.0.0.1:$AUTH_PORT"
    echo "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
    if [ -n "$SMTPS_PORT" ]; then
      echo "127.0.0.1:$SMTPS_PORT inet n - n - - smtpd"
      echo "  -o smtpd_tls_wrappermode=yes"
      echo "  -o smtpd_sasl_auth_enable=yes"
      echo "  -o smtpd_sasl_type=dovecot"
      echo "  -o smtpd_sasl_path=inet:127.0.0.1:$AUTH_PORT"
      echo "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
    fi
    cat <<'EOF'
pickup   unix n - n 60 1 pickup
cleanup  unix n - n - 0 cleanup
qmgr     unix n - n 300 1 qmgr
tlsmgr   unix - - n 1000? 1 tlsmgr
rewrite  unix - - n - - trivial-rewrite
bounce   unix - - n - 0 bounce
defer    unix - - n - 0 bounce
trace    unix - - n - 0 bounce
verify   unix - - n - 1 verify
flush    unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
showq    unix n - n - - showq
error    unix - - n - - error
retry    unix - - n - - error
discard  unix - - n - - discard
smtp     unix - - n - - smtp
relay    unix - - n - - smtp
lmtp     unix - - n - - lmtp
anvil    unix - - n - 1 anvil
scache   unix - - n - 1 scache
postlog  unix-dgram n - n - 1 postlogd
EOF
  } >"$PF/etc/master.cf"
}

start_dovecot() {
  load_ports
  [ -f "$DC/run/master.pid" ] && alive "$(cat "$DC/run/master.pid")" &&
    die "dovecot already running in $DC"
  # Dovecot's own checks first: config errors show up here, with their line.
  doveconf -c "$DC/dovecot.conf" -n >/dev/null 2>"$DC/doveconf.err" ||
    { cat "$DC/doveconf.err" >&2; die "bad dovecot config $DC/dovecot.conf"; }
  # Dovecot keeps its stderr open for its whole life: never a pipe.
  dovecot -c "$DC/dovecot.conf" </dev/null >>"$DC/stderr.log" 2>&1 ||
    { dovecot_logs; die "dovecot did not start"; }
  for p in "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" "$AUTH_PORT"; do
    wait_port "$p" || { dovecot_logs; die "dovecot: port $p not listening after 10 s"; }
  done
}

# Whether a process runs: a zombie does not (PID 1 of a container may take
# a second or two to reap one, and `kill -0` still finds it meanwhile).
alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}

# Waits until none of the given PIDs runs, at most $1 twentieths of a
# second; returns 1 when some still do.
wait_gone() {
  local ticks=$1 pid running
  shift
  for _ in $(seq 1 "$ticks"); do
    running=
    for pid in "$@"; do alive "$pid" && { running=1; break; }; done
    [ -z "$running" ] && return 0
    sleep 0.05
  done
  return 1
}

stop_dovecot() {
  load_ports
  local pidfile=$DC/run/master.pid pid children
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  # The master's children by PID: imap processes serving clients outlive
  # the master here (shutdown_clients notwithstanding), and a restart must
  # cut every connection as a real one does.
  children=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ' || true)
  # SIGTERM to the master is what `dovecot stop` sends (which then waits for
  # the master to be reaped, seconds here). Each imap process says "BYE
  # Server shutting down" and goes. The children get SIGTERM at the same
  # moment; one deadline for all of them (lmtp finishing with Postfix, or
  # the log process waiting for the others, may take seconds), then SIGKILL.
  # shellcheck disable=SC2086
  kill -TERM "$pid" $children 2>/dev/null || true
  # shellcheck disable=SC2086
  if ! wait_gone 20 "$pid" $children; then
    # shellcheck disable=SC2086
    kill -KILL "$pid" $children 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone 100 "$pid" $children || die "dovecot: processes still there 5 s after SIGKILL"
  fi
  rm -f "$pidfile"
  for p in "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT" "$AUTH_PORT"; do
    wait_closed "$p" || die "dovecot: port $p still open after stop"
  done
}

start_postfix() {
  load_ports
  local pidfile=$PF/spool/pid/master.pid
  [ -f "$pidfile" ] && alive "$(tr -d " " <"$pidfile")" && die "postfix already running in $PF"
  postfix -c "$PF/etc" start </dev/null >>"$PF/stderr.log" 2>&1 ||
    { postfix_logs; die "postfix did not start"; }
  local ports="$SMTP_PORT $SUBMISSION_PORT${SMTPS_PORT:+ $SMTPS_PORT}"
  for p in $ports; do
    wait_port "$p" || { postfix_logs; die "postfix: port $p not listening after 10 s"; }
  done
}

stop_postfix() {
  load_ports
  local pidfile=$PF/spool/pid/master.pid pid children
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" | tr -d ' ')
  # `postfix stop` lets an smtpd serving a client finish its session; a
  # stopped server must cut it, as a crash or a restart does: the master's
  # children get SIGTERM too, then one deadline, then SIGKILL.
  children=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ' || true)
  postfix -c "$PF/etc" stop </dev/null >>"$PF/stderr.log" 2>&1 || true
  # shellcheck disable=SC2086
  kill -TERM $children 2>/dev/null || true
  # shellcheck disable=SC2086
  if ! wait_gone 40 "$pid" $children; then
    # shellcheck disable=SC2086
    kill -KILL "$pid" $children 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone 100 "$pid" $children || die "postfix: processes still there 5 s after SIGKILL"
  fi
  rm -f "$pidfile"
  local ports="$SMTP_PORT $SUBMISSION_PORT${SMTPS_PORT:+ $SMTPS_PORT}"
  for p in $ports; do
    wait_closed "$p" || die "postfix: port $p still open after stop"
  done
}

start() {
  need
  load_ports
  [ "$(id -u)" = 0 ] || die "must run as root (Dovecot and Postfix drop privileges themselves)"
  id postfix >/dev/null 2>&1 || die "no 'postfix' user: is the postfix package installed?"
  mkdir -p "$DC"/{run,state,mail} "$PF"/{etc,spool,data}
  # Dovecot (uid $VMAIL_UID) and Postfix workers must reach files below here.
  chmod 755 "$BASE"
  chown "$VMAIL_UID:$VMAIL_UID" "$DC/mail"
  chown postfix "$PF/data"
  {
    echo "IMAP_PORT=$IMAP_PORT"
    echo "IMAPS_PORT=$IMAPS_PORT"
    echo "LMTP_PORT=$LMTP_PORT"
    echo "SMTP_PORT=$SMTP_PORT"
    echo "SUBMISSION_PORT=$SUBMISSION_PORT"
    echo "AUTH_PORT=$AUTH_PORT"
    echo "SMTPS_PORT=$SMTPS_PORT"
  } >"$BASE/ports.env"
  certs
  write_dovecot_conf
  write_postfix_conf
  start_dovecot
  start_postfix
}

stop() {
  [ -f "$BASE/ports.env" ] || return 0
  stop_postfix
  stop_dovecot
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart-dovecot) need; stop_dovecot; start_dovecot ;;
  stop-dovecot) stop_dovecot ;;
  start-dovecot) need; start_dovecot ;;
  restart-postfix) need; stop_postfix; start_postfix ;;
  stop-postfix) stop_postfix ;;
  start-postfix) need; start_postfix ;;
  *) die "usage: mailstack.sh start|stop|restart-dovecot|stop-dovecot|start-dovecot|restart-postfix|stop-postfix|start-postfix" ;;
esac
