# The proofs every fault test ends with (sourced, bash; after tests/integration/lib.sh, with
# USSDPAY_STORE_PATH set and a fail() defined). Each is one SQL question whose answer must be 0:
#
#   proof_final                 every payment is COMMITTED/COMPLETED or FAILED
#   proof_demo_book             the demo biller's book (demo_biller_book) and ours agree payment by
#                               payment; nothing posted twice; settlement = what it received
#   proof_journal JOURNAL STATS the HTTP biller's journal and /_stats agree with our payments
#   proof_ledger FUNDED         the ledger sums to 0, nothing on hold, wallets + settlement + fees
#                               = what was funded, fees = fees of committed payments
#   proof_receipts              exactly one receipt of the right kind per final payment
#   proof_entries               each payment's ledger entries match its state
#   proof_sent                  every receipt and message reached the SMSC: sent, or delivered by
#                               its receipt (none queued, none failed, none reported undeliverable)
#   proof_wire SMSLOG KILLED DAEMONLOG...  what the SMSC acknowledged (ussdpay-sim --sms-log, every
#                               simulator of the run) agrees with the store, and no handset got one
#                               text twice but for messages whose submit had no answer
#
# After them, proof_counts prints "total committed failed" for the summary line.

proof() {  # proof "what" "SQL returning 0 when it holds"
  local n
  n=$(q "$2")
  [ "$n" = "0" ] || fail "$1 ($n)"
}

paid_states="'COMMITTED', 'COMPLETED'"

proof_final() {
  proof "payments not final: $(q "SELECT group_concat(ref || ' ' || state, ', ') FROM payments
         WHERE state NOT IN ($paid_states, 'FAILED')")" \
    "SELECT count(*) FROM payments WHERE state NOT IN ($paid_states, 'FAILED')"
}

proof_demo_book() {
  proof "a paid payment the biller did not accept" \
    "SELECT count(*) FROM payments p WHERE state IN ($paid_states) AND NOT EXISTS (SELECT 1 FROM
     demo_biller_book b WHERE b.payment_id = p.ref AND b.accepted = 1 AND b.amount = p.amount)"
  proof "a FAILED payment the biller accepted" \
    "SELECT count(*) FROM payments p JOIN demo_biller_book b ON b.payment_id = p.ref
     WHERE p.state = 'FAILED' AND b.accepted = 1"
  proof "the biller accepted a payment we do not know" \
    "SELECT count(*) FROM demo_biller_book b WHERE accepted = 1 AND NOT EXISTS
     (SELECT 1 FROM payments p WHERE p.ref = b.payment_id)"
  proof "a bill posted twice" \
    "SELECT count(*) FROM (SELECT account FROM demo_biller_book WHERE accepted = 1 AND reversed = 0
     GROUP BY biller, account HAVING count(*) > 1)"
  proof "settlement differs from what the biller received" \
    "SELECT (SELECT coalesce(sum(balance), 0) FROM accounts WHERE kind = 'settlement') -
            (SELECT coalesce(sum(amount), 0) FROM demo_biller_book WHERE accepted = 1 AND reversed = 0)"
}

# The HTTP biller's journal: one line per posting, P<TAB>payment id<TAB>biller<TAB>account<TAB>
# amount (rupees.paisa)<TAB>...<TAB>biller reference<TAB>...; STATS is its /_stats JSON.
proof_journal() {
  local journal=$1 stats=$2 kind id account amount ref got want
  [ -z "$(grep '^P	' "$journal" | cut -f2 | sort | uniq -d)" ] || fail "a payment id posted twice"
  [ "$(stat_of duplicates "$stats") $(stat_of conflicts "$stats")" = "0 0" ] ||
    fail "a payment reached the biller twice: $stats"
  while IFS=$'\t' read -r kind id _ account amount _ ref _; do
    [ "$kind" = P ] || continue
    got=$(q "SELECT replace(state, 'COMPLETED', 'COMMITTED') || ' ' || account || ' ' || amount || ' ' ||
             biller_reference FROM payments WHERE ref = '$id'")
    want="COMMITTED $account ${amount/./} $ref"
    [ "$got" = "$want" ] || fail "the biller's posting $id ($want) differs from our payment ($got)"
  done <"$journal"
  proof "a paid payment the biller has no posting of" \
    "SELECT count(*) FROM payments WHERE state IN ($paid_states) AND ref NOT IN
     ($(grep '^P	' "$journal" | cut -f2 | sed "s/.*/'&'/" | paste -sd, | sed 's/^$/NULL/'))"
  proof "settlement differs from what the biller holds" \
    "SELECT coalesce(sum(balance), 0) - $(stat_of amount_total "$stats") FROM accounts
     WHERE kind = 'settlement'"
}

proof_ledger() {
  proof "the ledger does not sum to zero" "SELECT sum(balance) FROM accounts"
  proof "money left on hold" "SELECT coalesce(sum(balance), 0) FROM accounts WHERE kind = 'hold'"
  proof "wallets + settlement + fees differ from what was funded" \
    "SELECT coalesce(sum(balance), 0) - $1 FROM accounts WHERE kind <> 'funding'"
  proof "fees differ from the fees of committed payments" \
    "SELECT (SELECT coalesce(sum(balance), 0) FROM accounts WHERE kind = 'fees') -
            (SELECT coalesce(sum(fee), 0) FROM payments WHERE state IN ($paid_states))"
}

# Besides at most one 'pending' SMS for a payment that stayed unknown past pending_sms_after.
proof_receipts() {
  proof "a final payment without exactly one receipt of its kind" \
    "SELECT count(*) FROM payments p WHERE (SELECT count(*) FROM outbox o WHERE o.ref = p.ref AND
     o.kind = CASE WHEN p.state IN ($paid_states) THEN 'confirmed' ELSE 'failed' END) <> 1
     OR (SELECT count(*) FROM outbox o WHERE o.ref = p.ref AND o.kind <> 'pending') <> 1"
}

proof_entries() {
  proof "a payment whose entries do not match its state" \
    "SELECT count(*) FROM payments p WHERE
       (SELECT count(*) FROM entries WHERE transfer_id = p.ref || '/hold') <> 1 OR
       (p.state IN ($paid_states) AND
         ((SELECT count(*) FROM entries WHERE transfer_id = p.ref || '/settle') <> 1
         OR EXISTS (SELECT 1 FROM entries WHERE transfer_id = p.ref || '/void'))) OR
       (p.state = 'FAILED' AND
         ((SELECT count(*) FROM entries WHERE transfer_id = p.ref || '/void') <> 1
         OR EXISTS (SELECT 1 FROM entries WHERE transfer_id = p.ref || '/settle')))"
}

proof_sent() {
  proof "messages not sent: $(q "SELECT group_concat(state || ' ' || n, ', ') FROM
         (SELECT state, count(*) n FROM outbox WHERE state NOT IN ('sent', 'delivered') GROUP BY state)")" \
    "SELECT count(*) FROM outbox WHERE state NOT IN ('sent', 'delivered')"
}

# proof_wire SMSLOG DAEMONLOG...: counted on the wire, not in the store. SMSLOG has a line per SMS
# the SMSC acknowledged (sms, msisdn, message id, text as hex). The distinct (number, text) pairs
# there are the messages the store says went out, one each; a pair seen again is a handset that
# got a text twice, allowed only as often as a submit had no answer (timeout, link lost: the SMSC
# may have taken it; the daemon logs each with its outcome), plus KILLED for texts acknowledged
# in the moment before a SIGKILL (the answer never written: the restarted daemon cannot know).
# Sets wire_sms and wire_again.
proof_wire() {
  local log=$1 killed=$2 rows unanswered
  shift 2
  [ -f "$log" ] || fail "no SMS log $log"
  wire_sms=$(cut -f2,4 "$log" | sort -u | wc -l)
  wire_again=$(($(wc -l <"$log") - wire_sms))
  rows=$(q "SELECT count(*) FROM outbox WHERE state IN ('sent', 'delivered')")
  [ "$wire_sms" = "$rows" ] ||
    fail "the SMSC acknowledged $wire_sms distinct SMS; the store says $rows went out"
  unanswered=$(cat "$@" | grep -cE 'sms: message [0-9]+ \(.*\) (timeout|link_lost) \(')
  [ "$wire_again" -le $((unanswered + killed)) ] ||
    fail "$wire_again SMS reached a handset again, with only $unanswered submits unanswered" \
      "and $killed allowed for kills:
$(cut -f2,4 "$log" | sort | uniq -d | head -n 3 | cut -c1-120)"
}

proof_counts() {
  q "SELECT count(*) || ' ' || count(*) FILTER (WHERE state IN ($paid_states)) || ' ' ||
            count(*) FILTER (WHERE state = 'FAILED') FROM payments"
}

# stat_of NAME JSON: a number from a flat JSON object (the billersim's /_stats).
stat_of() { sed -n "s/.*\"$1\":\\([0-9-]*\\).*/\\1/p" <<<"$2"; }
