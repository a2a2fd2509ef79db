package Mkt::Faults;

# Helpers of the fault tests under load (t/070, t/071, t/072): wrk in the
# background and its numbers, the collect location's access log of
# "STATUS ORDER" lines, event log files, the spool. (A fake Redis:
# Mkt::FakeRedis.)

use strict;
use warnings;

use Exporter qw(import);
use JSON::PP qw(decode_json);
use POSIX ();
use Test::More ();
use Mkt::Test qw(test_dir write_file read_file);

our @EXPORT = qw(status wrk_start wrk_wait pages_and_beacons beacons
    events_of check_acked spool_files);

our $WRK = '/usr/bin/wrk';

sub status {
    my ($ngx) = @_;
    return decode_json($ngx->get('/status')->{body});
}

# wrk in the background for $secs with $conns connections, running the
# Lua script $lua, by default conversion beacons with orders PFX-1,
# PFX-2, ... to /mkt/collect
sub wrk_start {
    my ($ngx, $pfx, $secs, $conns, $lua) = @_;
    my $dir = test_dir();
    write_file("$dir/$pfx.lua", $lua // <<"EOF");
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/mkt/collect?goal=purchase&value=1.5&order=$pfx-" .. n)
end
EOF
    my $out = "$dir/$pfx.wrk";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec($WRK, '-t1', '-c' . ($conns // 4), "-d${secs}s", '--latency',
             '-s', "$dir/$pfx.lua", $ngx->url('/')) or POSIX::_exit(127);
    }
    return { pid => $pid, out => $out, pfx => $pfx };
}

# a wrk script for wrk_start: pages /page of a new user each (odd
# requests: X-User-Id PFX-u-N, a browser's User-Agent, so that they are
# exposures, not bots) and conversion beacons with order PFX-N (even ones);
# each connection waits $delay_ms between its requests, if given
sub pages_and_beacons {
    my ($pfx, $delay_ms) = @_;
    my $delay = $delay_ms ? "delay = function() return $delay_ms end\n" : '';
    return <<"EOF";
${delay}local n = 0
local ua = "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0"
request = function()
  n = n + 1
  if n % 2 == 1 then
    return wrk.format("GET", "/page", {["X-User-Id"] = "$pfx-u-" .. n,
                                       ["User-Agent"] = ua})
  end
  return wrk.format("GET", "/mkt/collect?goal=purchase&value=1.5&order=$pfx-" .. n)
end
EOF
}

sub _ms {
    my ($v) = @_;
    my ($n, $u) = ($v // '') =~ /^([\d.]+)(us|ms|s|m)$/ or return undef;
    return $n * { us => 0.001, ms => 1, s => 1000, m => 60000 }->{$u};
}

# waits for wrk; its numbers (p99_ms and max_ms in milliseconds)
sub wrk_wait {
    my ($w) = @_;
    waitpid $w->{pid}, 0;
    my $rc = $? >> 8;
    my $text = read_file($w->{out}) // '';
    my %r = (rc => $rc, text => $text, non2xx => 0, socket_errors => 0);
    $r{requests} = $1 if $text =~ /(\d+) requests in /;
    $r{non2xx} = $1 if $text =~ /Non-2xx or 3xx responses: (\d+)/;
    if ($text =~ /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/) {
        $r{socket_errors} = $1 + $2 + $3 + $4;
        $r{socket_text} = "connect $1, read $2, write $3, timeout $4";
    }
    $r{p99} = $1 if $text =~ /^\s+99%\s+(\S+)/m;
    $r{max} = $1 if $text =~ /^\s+Latency\s+\S+\s+\S+\s+(\S+)/m;
    $r{p99_ms} = _ms($r{p99});
    $r{max_ms} = _ms($r{max});
    return \%r;
}

# the collect location's access log: { order => [statuses] } for a prefix
sub beacons {
    my ($ngx, $pfx) = @_;
    my %st;
    for (split /\n/, read_file($ngx->prefix . '/beacons.log') // '') {
        my ($s, $o) = split / /;
        push @{ $st{$o} }, $s if defined $o && $o =~ /^\Q$pfx\E-\d+$/;
    }
    return \%st;
}

# the events of some log files: list of decoded events; counts bad lines
sub events_of {
    my (@files) = @_;
    my (@ev, $bad);
    $bad = 0;
    for my $f (@files) {
        for my $line (split /\n/, read_file($f) // '') {
            my $e = eval { decode_json($line) };
            if (ref $e eq 'HASH' && $e->{id}) { push @ev, $e } else { $bad++ }
        }
    }
    return (\@ev, $bad);
}

# every acknowledged beacon of $pfx in the events exactly once, no 5xx;
# the acknowledged orders
sub check_acked {
    my ($what, $ngx, $pfx, $events) = @_;
    my $b = beacons($ngx, $pfx);
    my @acked = grep { grep { $_ == 204 } @{ $b->{$_} } } keys %$b;
    my @fivexx = grep { grep { $_ >= 500 } @{ $b->{$_} } } keys %$b;
    my %n;
    $n{ $_->{order} }++ for grep { ($_->{order} // '') =~ /^\Q$pfx\E-/ }
        @$events;
    Test::More::ok(@acked > 100, "$what: beacons acknowledged under load ("
       . scalar(@acked) . ')');
    Test::More::is_deeply(\@fivexx, [], "$what: no 5xx in the access log");
    Test::More::is_deeply([grep { ($n{$_} // 0) != 1 } sort @acked], [],
              "$what: every acknowledged beacon in the log exactly once");
    Test::More::is_deeply([grep { $n{$_} != 1 } sort keys %n], [],
              "$what: no order logged twice");
    return \@acked;
}

# the spool's files; their number in scalar context
sub spool_files {
    my ($ngx) = @_;
    opendir my $d, $ngx->prefix . '/spool' or return ();
    my @files = sort grep {/^spool-\d+-\d+\.jsonl$/} readdir $d;
    return @files;
}

1;
