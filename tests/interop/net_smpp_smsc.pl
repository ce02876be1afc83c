#!/usr/bin/perl
# An SMSC written with Net::SMPP (Debian libnet-smpp-perl), a peer nobody here wrote, driving
# ussdpayd (the ESME) through one USSD dialog and the link-level corner cases.
#
# Listens on 127.0.0.1, port 0 (the kernel picks one), prints "# port N" as its first line on
# stdout, then waits for the daemon. Every check prints TAP ("ok N - ..." / "not ok N - ..."),
# lines starting with "#" are diagnostics (every PDU in and out). Exit status 0 only if every
# check passed. Everything is bounded: 30 s overall (see read_next for why alarm alone is not
# enough with Net::SMPP).
#
# Environment: SMSC_SYSTEM_ID and SMSC_PASSWORD, the credentials the daemon must bind with
# (default ussdpay / secret, as in etc/ussdpay.toml).
#
# Net::SMPP quirks this script works around (1.19):
#  - Named TLVs take the value as raw bytes (pack 'nna*'): ussd_service_op => "\x01", not 1
#    (1 would be sent as the ASCII digit "1", 0x31).
#  - Numeric tags (decimal, e.g. 5377 for 0x1501) are packed as a *signed* integer whose width
#    follows the value: -128 < v < 127 is 1 byte, then 2, then 4 bytes.
#  - Requests are synchronous by default: wait_pdu silently discards every PDU that is not the
#    awaited response (it would eat the daemon's submit_sm). Hence async => 1 and read_pdu.
#  - read_pdu blocks in sysread, always runs "alarm 0" afterwards (cancelling any alarm of
#    ours), and installs its own local $SIG{ALRM} that, when it fires, sends an enquire_link and
#    keeps reading. Reads are therefore bounded with select + SO_RCVTIMEO, and the overall alarm
#    is disarmed around read_pdu and re-armed after it.
#  - Received TLVs land in a hash keyed by tag number and by name: duplicates overwrite each
#    other, and unknown tags "warn" on stderr.
#  - No public API for an arbitrary command id; the internal req_backend builds one fine.
use strict;
use warnings;

use IO::Select;
use Net::SMPP;
use Socket qw(SOL_SOCKET SO_RCVTIMEO);
use Time::HiRes qw(time);

$| = 1;

my $OVERALL = 30;  # seconds, whole script
my $STEP = 5;      # seconds, any single expected PDU
my $SYSTEM_ID = $ENV{SMSC_SYSTEM_ID} // 'ussdpay';
my $PASSWORD = $ENV{SMSC_PASSWORD} // 'secret';
my $MSISDN = '254700000001';
my $SERVICE_ADDR = '123';  # the deliver_sm destination: the USSD service address

use constant {
  CMD_GENERIC_NACK => 0x80000000,
  CMD_SUBMIT_SM => 0x00000004,
  CMD_DELIVER_SM_RESP => 0x80000005,
  CMD_UNBIND_RESP => 0x80000006,
  CMD_BIND_TRANSCEIVER => 0x00000009,
  CMD_ENQUIRE_LINK => 0x00000015,
  CMD_ENQUIRE_LINK_RESP => 0x80000015,
  CMD_UNKNOWN => 0x00000099,
  TAG_USER_MESSAGE_REFERENCE => 0x0204,
  TAG_USSD_SERVICE_OP => 0x0501,
  TAG_ITS_SESSION_INFO => 0x1383,
  TAG_VENDOR => 0x1501,
};

my $deadline = time + $OVERALL;
my $tests = 0;
my $failed = 0;

sub finish {
  print "1..$tests\n";
  print "# $failed of $tests checks failed\n" if $failed;
  exit($failed ? 1 : 0);
}

sub bail {
  my ($why) = @_;
  print "Bail out! $why\n";
  $failed++;
  print "1..$tests\n";
  exit 1;
}

sub rearm {
  my $left = $deadline - time;
  bail("overall timeout ($OVERALL s)") if $left <= 0;
  alarm(int($left) + 1);
}

$SIG{ALRM} = sub { bail("overall timeout ($OVERALL s)") };
rearm();

sub ok {
  my ($cond, $name, @diag) = @_;
  $tests++;
  if ($cond) {
    print "ok $tests - $name\n";
  } else {
    $failed++;
    print "not ok $tests - $name\n";
    print "#   $_\n" for @diag;
  }
  return $cond;
}

sub hex_of { join ' ', map { sprintf '%02x', $_ } unpack 'C*', $_[0] // '' }
sub u8 { defined $_[0] && length($_[0]) == 1 ? unpack('C', $_[0]) : undef }
sub u16 { defined $_[0] && length($_[0]) == 2 ? unpack('n', $_[0]) : undef }
sub show { defined $_[0] ? sprintf('0x%X', $_[0]) : 'absent/bad length' }

sub describe {
  my ($p) = @_;
  return 'nothing (timeout or connection closed)' unless $p;
  return sprintf 'cmd=0x%08X (%s) status=0x%X seq=%d body=[%s]', $p->{cmd},
    $p->explain_cmd, $p->{status}, $p->{seq}, hex_of($p->{data});
}

my $listener = Net::SMPP->new_listen('127.0.0.1', port => 0, timeout => 10, listen => 5)
  or bail("cannot listen on 127.0.0.1: $!");
print '# port ', $listener->sockport, "\n";

my ($smpp, $sel);

sub accept_daemon {
  alarm 0;  # IO::Socket's accept waits at most its Timeout (10 s) in select
  my $c = $listener->accept;
  rearm();
  return undef unless $c;
  # Every blocking sysread inside read_pdu gives up after $STEP seconds.
  setsockopt($c, SOL_SOCKET, SO_RCVTIMEO, pack('l!l!', $STEP, 0))
    or bail("setsockopt SO_RCVTIMEO: $!");
  $smpp = $c;
  $sel = IO::Select->new($c);
  return $c;
}

# The next PDU from the daemon, waiting at most $STEP seconds (or up to the overall deadline).
# An enquire_link from the daemon is answered and skipped. Undef on timeout or closed link.
sub read_next {
  my $until = time + $STEP;
  $until = $deadline if $deadline < $until;
  while (1) {
    my $left = $until - time;
    return undef if $left <= 0;
    alarm 0;
    my @ready = $sel->can_read($left);
    unless (@ready) {
      rearm();
      return undef;
    }
    my $p = $smpp->read_pdu;
    rearm();
    unless ($p) {
      my $why = ${*$smpp}{smpperror} // 'unknown error';
      print "# <- read failed: $why\n";
      return undef;
    }
    print '# <- ', describe($p), "\n";
    if ($p->{cmd} == CMD_ENQUIRE_LINK) {
      $smpp->enquire_link_resp(seq => $p->{seq});
      print "# -> enquire_link_resp seq=$p->{seq}\n";
      next;
    }
    return $p;
  }
}

# Reads up to $n PDUs (stops early on timeout) and returns them.
sub read_some {
  my ($n) = @_;
  my @got;
  while (@got < $n) {
    my $p = read_next() or last;
    push @got, $p;
  }
  return @got;
}

sub sent { print "# -> $_[0]\n" }

# --- bind ----------------------------------------------------------------------------------------

accept_daemon() or bail('the daemon did not connect within 10 s');
ok(1, 'daemon connected');

my $bind = read_next();
bail('no PDU after connect: ' . describe($bind)) unless $bind;
ok($bind->{cmd} == CMD_BIND_TRANSCEIVER, 'first PDU is bind_transceiver', 'got ' . describe($bind))
  or bail('cannot go on without a bind_transceiver');
ok(($bind->{system_id} // '') eq $SYSTEM_ID, "bind system_id is '$SYSTEM_ID'",
   "got '" . ($bind->{system_id} // '') . "'");
ok(($bind->{password} // '') eq $PASSWORD, 'bind password matches',
   "got '" . ($bind->{password} // '') . "'");
ok(($bind->{interface_version} // -1) == 0x34, 'bind interface_version is 0x34',
   'got ' . show($bind->{interface_version}));
$smpp->bind_transceiver_resp(seq => $bind->{seq}, system_id => 'netsmppsmsc');
sent("bind_transceiver_resp seq=$bind->{seq}");

# Expects exactly a deliver_sm_resp (status 0, seq $seq) and a submit_sm answering a dial, in
# either order (SMPP does not order them). Returns the submit_sm, answered with a message_id.
sub expect_dial_answer {
  my ($seq, $what) = @_;
  my @got = read_some(2);
  my ($resp) = grep { $_->{cmd} == CMD_DELIVER_SM_RESP } @got;
  my ($sub) = grep { $_->{cmd} == CMD_SUBMIT_SM } @got;
  ok($resp && $resp->{seq} == $seq && $resp->{status} == 0,
     "$what: deliver_sm_resp status 0, seq $seq", 'got ' . join('; ', map { describe($_) } @got));
  ok($sub, "$what: daemon sends a submit_sm", 'got ' . join('; ', map { describe($_) } @got));
  return undef unless $sub;
  my $id = "nsm-$sub->{seq}";
  $smpp->submit_sm_resp(seq => $sub->{seq}, message_id => $id);
  sent("submit_sm_resp seq=$sub->{seq} message_id=$id");
  return $sub;
}

# --- a dial: deliver_sm with ussd_service_op 1, its_session_info and a vendor TLV ---------------

my $seq = $smpp->deliver_sm(
  async => 1,
  service_type => 'USSD',
  source_addr_ton => 1, source_addr_npi => 1, source_addr => $MSISDN,
  dest_addr_ton => 0, dest_addr_npi => 0, destination_addr => $SERVICE_ADDR,
  data_coding => 0,
  short_message => '*123#',
  ussd_service_op => pack('C', 1),         # PSSR indication
  its_session_info => pack('n', 0x0A04),   # session 0x0A, sequence 2, not the end
  5377 => 42,                              # vendor TLV 0x1501: one byte, 0x2A
);
sent("deliver_sm seq=$seq *123# ussd_service_op=1 its_session_info=0x0A04 0x1501=0x2A");

if (my $sub = expect_dial_answer($seq, 'dial *123#')) {
  ok(($sub->{service_type} // '') eq 'USSD', 'submit_sm service_type is USSD',
     "got '" . ($sub->{service_type} // '') . "'");
  ok(($sub->{destination_addr} // '') eq $MSISDN, "submit_sm goes to $MSISDN",
     "got '" . ($sub->{destination_addr} // '') . "'");
  ok(($sub->{source_addr} // '') eq $SERVICE_ADDR,
     "submit_sm comes from the dialed service address $SERVICE_ADDR",
     "got '" . ($sub->{source_addr} // '') . "'");
  my $op = u8($sub->{TAG_USSD_SERVICE_OP()});
  ok(defined $op && $op == 2, 'submit_sm ussd_service_op is 2 (USSR request: continue)',
     'got ' . show($op));
  my $si = u16($sub->{TAG_ITS_SESSION_INFO()});
  ok(defined $si && $si == 0x0A04, 'submit_sm its_session_info is 0x0A04 (echoed, end bit clear)',
     'got ' . show($si));
  ok(($sub->{short_message} // '') =~ /^Bill Pay\n1\. Pay bill/, 'submit_sm text is the main menu',
     "got '" . ($sub->{short_message} // '') . "'");
} else {
  ok(0, "submit_sm checks skipped: no submit_sm") for 1 .. 6;
}

# --- the subscriber answers twice: Help (6), then Contact us (3), which ends the dialog ---------

sub reply_with {
  my ($text, $si) = @_;
  my $s = $smpp->deliver_sm(
    async => 1,
    service_type => 'USSD',
    source_addr_ton => 1, source_addr_npi => 1, source_addr => $MSISDN,
    destination_addr => $SERVICE_ADDR,
    short_message => $text,
    ussd_service_op => pack('C', 18),     # USSR confirm
    its_session_info => pack('n', $si),
  );
  sent(sprintf 'deliver_sm seq=%d "%s" ussd_service_op=18 its_session_info=0x%04X', $s, $text, $si);
  return $s;
}
{
  my $s = reply_with('6', 0x0A06);
  if (my $sub = expect_dial_answer($s, 'reply 6')) {
    ok(($sub->{short_message} // '') =~ /^Help\n/, 'reply 6: the Help screen',
       "got '" . ($sub->{short_message} // '') . "'");
    ok((u8($sub->{TAG_USSD_SERVICE_OP()}) // -1) == 2, 'reply 6: ussd_service_op 2');
  } else {
    ok(0, 'reply 6 checks skipped') for 1 .. 2;
  }
  $s = reply_with('3', 0x0A08);
  if (my $sub = expect_dial_answer($s, 'reply 3')) {
    ok(($sub->{short_message} // '') =~ /^Call 111/, 'reply 3: the contact screen',
       "got '" . ($sub->{short_message} // '') . "'");
    ok((u8($sub->{TAG_USSD_SERVICE_OP()}) // -1) == 17, 'reply 3: ussd_service_op 17 (final)');
    my $si = u16($sub->{TAG_ITS_SESSION_INFO()});
    ok(defined $si && $si == 0x0A09, 'reply 3: its_session_info 0x0A09 (end bit set)',
       'got ' . show($si));
  } else {
    ok(0, 'reply 3 checks skipped') for 1 .. 3;
  }
}

# --- enquire_link --------------------------------------------------------------------------------

sub check_enquire_link {
  my ($what) = @_;
  my $s = $smpp->enquire_link(async => 1);
  sent("enquire_link seq=$s");
  my $r = read_next();
  ok($r && $r->{cmd} == CMD_ENQUIRE_LINK_RESP && $r->{seq} == $s && $r->{status} == 0,
     "$what: enquire_link_resp status 0 echoes seq $s", 'got ' . describe($r));
}
check_enquire_link('enquire_link');

# --- unknown command id --------------------------------------------------------------------------

{
  my $s = $smpp->req_backend(CMD_UNKNOWN, '', $smpp, async => 1);
  sent(sprintf 'command 0x%08X (no body) seq=%d', CMD_UNKNOWN, $s);
  my $r = read_next();
  ok($r && $r->{cmd} == CMD_GENERIC_NACK && $r->{status} == 0x03 && $r->{seq} == $s,
     "unknown command 0x00000099: generic_nack ESME_RINVCMDID (0x03), seq $s",
     'got ' . describe($r));
}

# --- a deliver_sm with 40 TLVs (more than max_tlvs = 16) ----------------------------------------

{
  my @tlvs = map { (its_session_info => pack('n', 0x0B00 + 2 * $_)) } 1 .. 40;
  my $s = $smpp->deliver_sm(
    async => 1,
    service_type => 'USSD',
    source_addr_ton => 1, source_addr_npi => 1, source_addr => $MSISDN,
    destination_addr => $SERVICE_ADDR,
    short_message => '*123#',
    ussd_service_op => pack('C', 1),
    @tlvs,
  );
  sent("deliver_sm seq=$s with ussd_service_op and 40 its_session_info TLVs");
  my $r = read_next();
  ok($r && $r->{cmd} == CMD_DELIVER_SM_RESP && $r->{status} == 0xC0 && $r->{seq} == $s,
     "41 TLVs: deliver_sm_resp ESME_RINVOPTPARSTREAM (0xC0), seq $s", 'got ' . describe($r));
  # The next thing the daemon sends must be the answer to this enquire_link: no screen for the
  # refused deliver_sm, no drop.
  check_enquire_link('after the refused deliver_sm the link is up');
}

# --- user_message_reference instead of its_session_info ------------------------------------------

{
  my $umr = pack('n', 0x4D2A);
  my $s = $smpp->deliver_sm(
    async => 1,
    service_type => 'USSD',
    source_addr_ton => 1, source_addr_npi => 1, source_addr => $MSISDN,
    destination_addr => $SERVICE_ADDR,
    short_message => '*123#',
    ussd_service_op => pack('C', 1),
    user_message_reference => $umr,
  );
  sent("deliver_sm seq=$s *123# ussd_service_op=1 user_message_reference=0x4D2A");
  if (my $sub = expect_dial_answer($s, 'dial with user_message_reference')) {
    my $op = u8($sub->{TAG_USSD_SERVICE_OP()});
    ok(defined $op && $op == 2, 'submit_sm ussd_service_op is 2', 'got ' . show($op));
    my $got = $sub->{TAG_USER_MESSAGE_REFERENCE()};
    ok(defined $got && $got eq $umr, 'submit_sm echoes user_message_reference 0x4D2A',
       'got [' . (defined $got ? hex_of($got) : 'absent') . ']');
    ok(!exists $sub->{TAG_ITS_SESSION_INFO()}, 'submit_sm has no its_session_info',
       'got [' . hex_of($sub->{TAG_ITS_SESSION_INFO()}) . ']');
    ok(($sub->{destination_addr} // '') eq $MSISDN, "submit_sm goes to $MSISDN",
       "got '" . ($sub->{destination_addr} // '') . "'");
  } else {
    ok(0, "submit_sm checks skipped: no submit_sm") for 1 .. 4;
  }
}

# --- unbind from the SMSC ------------------------------------------------------------------------

{
  my $s = $smpp->unbind(async => 1);
  sent("unbind seq=$s");
  my $r = read_next();
  ok($r && $r->{cmd} == CMD_UNBIND_RESP && $r->{status} == 0 && $r->{seq} == $s,
     "unbind: unbind_resp status 0, seq $s", 'got ' . describe($r));
  $smpp->close;
  sent('close');
}

# The daemon was unbound, not stopped: it reconnects and binds again.
if (accept_daemon()) {
  my $again = read_next();
  ok($again && $again->{cmd} == CMD_BIND_TRANSCEIVER,
     'after the unbind the daemon reconnects and sends bind_transceiver', 'got ' . describe($again));
  if ($again && $again->{cmd} == CMD_BIND_TRANSCEIVER) {
    $smpp->bind_transceiver_resp(seq => $again->{seq}, system_id => 'netsmppsmsc');
    sent("bind_transceiver_resp seq=$again->{seq}");
    # A header whose command_length (65536) is beyond max_command_length: the stream cannot be
    # resynchronised, so the daemon explains (generic_nack ESME_RINVCMDLEN) and drops the link.
    # Net::SMPP always computes the length itself, so these 16 bytes go out raw.
    my $s = 77;
    $smpp->syswrite(pack('NNNN', 65536, CMD_SUBMIT_SM, 0, $s));
    sent("raw header: command_length=65536 submit_sm seq=$s (no body)");
    my $r = read_next();
    ok($r && $r->{cmd} == CMD_GENERIC_NACK && $r->{status} == 0x02 && $r->{seq} == $s,
       "command_length 65536: generic_nack ESME_RINVCMDLEN (0x02), seq $s, before the drop",
       'got ' . describe($r));
  }
  $smpp->close;
} else {
  ok(0, 'after the unbind the daemon reconnects and sends bind_transceiver', 'no connection in 10 s');
}

$listener->close;
finish();
