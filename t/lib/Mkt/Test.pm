package Mkt::Test;

# Integration-test harness for ngx_mkt: per test file a temp dir, real nginx
# and redis-server processes on free loopback ports, an HTTP client with a
# cookie jar, and a scan of every nginx log for alerts and crashes at the end.
# Core Perl modules only (Debian 12's perl 5.36). See t/README.md.

use strict;
use warnings;

use Test::More ();
use Exporter qw(import);
use Config ();
use Errno ();
use File::Path ();
use File::Spec ();
use File::Temp ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Socket ();
use Time::HiRes qw(time sleep);
use Time::Local ();

our @EXPORT = qw(start_nginx nginx_test_config nginx_test_fails start_redis
    request raw_request
    new_jar finish free_port wait_for header_all parse_set_cookie scan_log
    test_dir write_file read_file run_cmd is_redis_error);
our @EXPORT_OK = qw(scan_log_text parse_cookie_date current_nginx
    current_redis);

our $NGINX_BIN = $ENV{NGINX_BIN} || '/usr/sbin/nginx';
our $REDIS_BIN = $ENV{REDIS_BIN} || 'redis-server';
our $TIMEOUT   = 10;
our $USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 '
    . '(KHTML, like Gecko) Chrome/124.0 Safari/537.36';

# A line matching this in an nginx error log or stderr fails the test file.
our $BAD_LOG_RE = qr/\[(?:alert|emerg|crit)\]|exited\ on\ signal|runtime\ error:
    |(?:Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer/x;

my $ORIG_PID = $$;
my ($ROOT, $FINISHED, $SEQ) = (undef, 0, 0);
my (%PORT_GIVEN, @NGINX, @REDIS, $CUR_NGINX, $CUR_REDIS, %CONN);

# A write to a socket the server closed must be an error, not a silent death
# that skips END; ^C and kill must still run END so no process is left.
$SIG{PIPE} = 'IGNORE';
for my $sig (qw(INT TERM HUP)) {
    next if defined $SIG{$sig} && $SIG{$sig} ne '' && $SIG{$sig} ne 'DEFAULT';
    $SIG{$sig} = sub {
        Test::More::diag("Mkt::Test: caught SIG$sig, stopping servers");
        exit 1;
    };
}

# ------------------------------------------------------------ files, ports

sub test_dir {
    return $ROOT if defined $ROOT;
    my $name = (File::Spec->splitpath($0))[2] // 'test';
    $name =~ s/\.t\z//;
    $name =~ s/[^\w.-]+/_/g;
    $ROOT = File::Temp::tempdir("mkt-$name-XXXXXX", TMPDIR => 1,
        CLEANUP => 0);
    chmod 0755, $ROOT;
    Test::More::diag("Mkt::Test: test files in $ROOT (MKT_KEEP=1)")
        if $ENV{MKT_KEEP};
    return $ROOT;
}

sub write_file {
    my ($path, $content) = @_;
    $path = test_dir() . "/$path"
        unless File::Spec->file_name_is_absolute($path);
    my $dir = (File::Spec->splitpath($path))[1];
    File::Path::make_path($dir) if length $dir && !-d $dir;
    open my $fh, '>:raw', $path or die "write_file $path: $!\n";
    print {$fh} $content // '';
    close $fh or die "write_file $path: $!\n";
    return $path;
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return undef;
    local $/;
    my $text = <$fh>;
    return $text // '';
}

sub free_port {
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => 0, Proto => 'tcp', Listen => 1)
            or die "free_port: $!\n";
        my $port = $s->sockport;
        close $s;
        return $port unless $PORT_GIVEN{$port}++;
    }
    die "free_port: the kernel keeps handing out ports already given\n";
}

sub wait_for {
    my ($cond, $timeout, $interval) = @_;
    my $deadline = time + ($timeout // $TIMEOUT);
    while (1) {
        my $v = $cond->();
        return $v if $v;
        return if time >= $deadline;
        sleep($interval // 0.02);
    }
}

sub current_nginx { $CUR_NGINX }
sub current_redis { $CUR_REDIS }

# --------------------------------------------------------------- processes

# Starts argv in its own process group (so stop can kill everything it
# forked) with stdout/stderr to files; dies if exec fails.
sub _spawn {
    my ($argv, %o) = @_;
    pipe(my $r, my $w) or die "pipe: $!\n";
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        close $r;
        eval {
            POSIX::setpgid(0, 0);
            _set_pdeathsig();
            @ENV{ keys %{ $o{env} } } = values %{ $o{env} } if $o{env};
            open STDIN, '<', $o{stdin} // '/dev/null'
                or die "stdin: $!\n";
            open STDOUT, '>>', $o{stdout} or die "open $o{stdout}: $!\n";
            if (defined $o{stderr}) {
                open STDERR, '>>', $o{stderr}
                    or die "open $o{stderr}: $!\n";
            } else {
                open STDERR, '>&', \*STDOUT or die "dup: $!\n";
            }
            exec { $argv->[0] } @$argv;
            die "exec $argv->[0]: $!\n";
        };
        syswrite $w, $@ || "spawn failed\n";
        POSIX::_exit(127);
    }
    close $w;
    POSIX::setpgid($pid, $pid);
    my $err = do { local $/; <$r> } // '';
    close $r;
    if (length $err) {
        waitpid $pid, 0;
        die "cannot run @$argv: $err";
    }
    return $pid;
}

# If the test process is killed outright, SIGTERM its servers (Linux only).
sub _set_pdeathsig {
    return unless $^O eq 'linux';
    my %nr = (x86_64 => 157, aarch64 => 167);
    my $nr = $nr{ (split /-/, $Config::Config{archname})[0] } or return;
    syscall($nr, 1, 15);
}

# True once the child of handle $h has exited; its wait status goes in
# $h->{status}.
sub _reap {
    my ($h) = @_;
    return 1 if defined $h->{status} || !$h->{pid};
    local $?;
    my $r = waitpid($h->{pid}, POSIX::WNOHANG());
    if ($r == $h->{pid}) { $h->{status} = $?; return 1 }
    if ($r == -1) { $h->{status} = -1; return 1 }
    return 0;
}

sub _wait_exit {
    my ($h, $timeout) = @_;
    return wait_for(sub { _reap($h) }, $timeout, 0.01);
}

# Ends $h's process: $sig, then TERM, then KILL of its whole process group;
# then makes sure nothing of the group survives.
sub _terminate {
    my ($h, $sig, $timeout) = @_;
    return unless $h->{pid};
    my $pg = $h->{pid};
    unless (_reap($h)) {
        kill 'CONT', -$pg;
        kill $sig, $h->{pid};
        unless (_wait_exit($h, $timeout)) {
            $h->{forced} = "still running ${timeout}s after SIG$sig"
                if $sig ne 'KILL';
            kill 'TERM', $h->{pid};
            unless (_wait_exit($h, 3)) {
                kill 'KILL', -$pg;
                kill 'KILL', $h->{pid};
                _wait_exit($h, 5);
            }
        }
    }
    if (kill 0, -$pg) {
        unless (wait_for(sub { !kill 0, -$pg }, 2, 0.02)) {
            $h->{forced} //= 'processes of its group outlived it';
            kill 'KILL', -$pg;
            wait_for(sub { !kill 0, -$pg }, 2, 0.02);
        }
    }
}

sub _exit_code {
    my ($st) = @_;
    return -1 if !defined $st || $st == -1;
    return POSIX::WIFSIGNALED($st) ? 128 + POSIX::WTERMSIG($st) : $st >> 8;
}

sub _status_text {
    my ($st) = @_;
    return 'unknown status' if !defined $st || $st == -1;
    return 'signal ' . POSIX::WTERMSIG($st) if POSIX::WIFSIGNALED($st);
    return 'exit code ' . ($st >> 8);
}

sub _proc_stat {    # (state, ppid) of a pid
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return;
    my $l = <$fh> // return;
    return $l =~ /\A\d+ \(.*\) (\S) (-?\d+) /s ? ($1, $2) : ();
}

sub _children {
    my ($ppid) = @_;
    opendir my $d, '/proc' or return;
    my @kids;
    for my $p (grep /\A\d+\z/, readdir $d) {
        my ($st, $pp) = _proc_stat($p) or next;
        push @kids, $p if $pp == $ppid && $st ne 'Z' && $st ne 'X';
    }
    return sort { $a <=> $b } @kids;
}

sub _cmdline {
    my $t = read_file("/proc/$_[0]/cmdline") // '';
    $t =~ tr/\0/ /;
    $t =~ s/\s+\z//;
    return $t;
}

# Is some socket of process $pid listening on TCP $port?  Read from /proc so
# that probing leaves no "client closed connection" lines in the log.
sub _listening {
    my ($port, $pid) = @_;
    my (%ino, $tables);
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        $tables++;
        <$fh>;
        while (my $l = <$fh>) {
            my @c = split ' ', $l;
            next unless @c > 9 && $c[3] eq '0A'
                && $c[1] =~ /:([0-9A-Fa-f]+)\z/ && hex($1) == $port;
            $ino{ $c[9] } = 1;
        }
    }
    unless ($tables) {
        return !!IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $port, Timeout => 1);
    }
    return 0 unless %ino;
    opendir my $d, "/proc/$pid/fd" or return 0;
    for my $fd (readdir $d) {
        my $t = readlink "/proc/$pid/fd/$fd" // next;
        return 1 if $t =~ /\Asocket:\[(\d+)\]\z/ && $ino{$1};
    }
    return 0;
}

sub run_cmd {
    my ($argv, %o) = @_;
    $argv = [$argv] unless ref $argv;
    my $base = test_dir() . '/run-' . ++$SEQ;
    write_file("$base.in", $o{stdin}) if defined $o{stdin};
    my $h = { pid => _spawn($argv, stdout => "$base.out",
        stderr => "$base.err", env => $o{env},
        defined $o{stdin} ? (stdin => "$base.in") : ()) };
    my $timeout = $o{timeout} // 60;
    unless (_wait_exit($h, $timeout)) {
        _terminate($h, 'KILL', 1);
        die "run_cmd @$argv: still running after ${timeout}s\n";
    }
    return (_exit_code($h->{status}), read_file("$base.out") // '',
        read_file("$base.err") // '');
}

# ----------------------------------------------------------------- nginx

sub _module_path {
    my $m = $ENV{MKT_MODULE};
    die "MKT_MODULE is not set: it must name the built "
        . "ngx_http_mkt_module.so (make integration sets it)\n"
        unless defined $m && length $m;
    die "MKT_MODULE=$m: no such file\n" unless -f $m;
    return File::Spec->rel2abs($m);
}

sub _args { @_ % 2 ? (http => @_) : @_ }

sub start_nginx {
    my %o = _args(@_);
    my $timeout = delete $o{timeout};
    my $n = Mkt::Test::Nginx->_new(%o);
    push @NGINX, $n;
    $n->_start(timeout => $timeout, initial => 1);
    $CUR_NGINX = $n;
    return $n;
}

sub nginx_test_config {
    my %o = _args(@_);
    my $timeout = delete($o{timeout}) // 30;
    my $t = Mkt::Test::Nginx->_new(%o, _kind => 'nginx-t');
    $t->_write_files($t->{spec}{files});
    $t->_write_conf;
    my $out = "$t->{prefix}/nginx-t.out";
    my $h = { pid => _spawn([$t->{bin}, '-t', '-p', "$t->{prefix}/", '-c',
        $t->conf_path, '-e', $t->error_log_path], stdout => $out) };
    unless (_wait_exit($h, $timeout)) {
        _terminate($h, 'KILL', 1);
        die "nginx -t still running after ${timeout}s\n";
    }
    my @r = (_exit_code($h->{status}), read_file($out) // '', $t->conf_path);
    return wantarray ? @r : $r[0];
}

# Three tests: nginx -t refuses the config, with output matching $want, and
# the message names the config file and line.
sub nginx_test_fails {
    my ($name, $http, $want) = @_;
    my ($rc, $out, $conf) = nginx_test_config(http => $http);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::isnt($rc, 0, "$name: nginx -t fails");
    Test::More::like($out, $want, "$name: message");
    Test::More::like($out, qr/\Q$conf\E:\d+/,
        "$name: names the config file and line");
    return $out;
}

# ----------------------------------------------------------------- redis

sub start_redis {
    my $r = Mkt::Test::Redis->_new(@_);
    push @REDIS, $r;
    $r->start;
    $CUR_REDIS = $r;
    return $r;
}

sub is_redis_error {
    return ref $_[0] && UNIVERSAL::isa($_[0], 'Mkt::Test::RedisError');
}

# ---------------------------------------------------------- socket reading

sub _connect {
    my ($host, $port, $deadline) = @_;
    my $left = $deadline - time;
    $left = 0.1 if $left < 0.1;
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
        Proto => 'tcp', Timeout => $left)
        or die "connect to $host:$port: " . ($@ || $!) . "\n";
    binmode $s;
    setsockopt($s, Socket::IPPROTO_TCP(), Socket::TCP_NODELAY(), 1);
    return { sock => $s, buf => '', raw => '', port => $port };
}

sub _write_all {
    my ($c, $data, $deadline) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $left = $deadline - time;
        die "timeout while writing\n" if $left <= 0;
        my $win = '';
        vec($win, fileno($c->{sock}), 1) = 1;
        my $n = select(undef, my $wout = $win, undef, $left);
        next if $n < 0 && $!{EINTR};
        next unless $n > 0;
        my $w = syswrite($c->{sock}, $data, length($data) - $off, $off);
        if (!defined $w) {
            next if $!{EINTR} || $!{EAGAIN};
            die "write: $!\n";
        }
        $off += $w;
    }
}

# Reads more bytes into $c->{buf}; 0 at EOF; dies past $deadline.
sub _fill {
    my ($c, $deadline) = @_;
    while (1) {
        my $left = $deadline - time;
        die "timeout while reading\n" if $left <= 0;
        my $rin = '';
        vec($rin, fileno($c->{sock}), 1) = 1;
        my $n = select(my $rout = $rin, undef, undef, $left);
        next if $n < 0 && $!{EINTR};
        next unless $n > 0;
        my $r = sysread($c->{sock}, my $chunk, 65536);
        if (!defined $r) {
            next if $!{EINTR} || $!{EAGAIN};
            die "read: $!\n";
        }
        $c->{buf} .= $chunk;
        return $r;
    }
}

sub _readline {    # a line with its "\n", or undef at EOF
    my ($c, $deadline) = @_;
    while (1) {
        my $i = index $c->{buf}, "\n";
        if ($i >= 0) {
            my $l = substr $c->{buf}, 0, $i + 1, '';
            $c->{raw} .= $l;
            return $l;
        }
        _fill($c, $deadline) or return undef;
    }
}

sub _readn {
    my ($c, $n, $deadline) = @_;
    while (length $c->{buf} < $n) {
        _fill($c, $deadline) or die "connection closed in the middle of a "
            . "message\n";
    }
    my $d = substr $c->{buf}, 0, $n, '';
    $c->{raw} .= $d;
    return $d;
}

# ------------------------------------------------------------ HTTP client

sub header_all {
    my ($res, $name) = @_;
    my $v = $res->{headers}{ lc $name };
    return () unless defined $v;
    return ref $v ? @$v : ($v);
}

# Reads one response (skipping 1xx); undef if the peer closed before
# sending a byte.
sub _read_response {
    my ($c, $method, $deadline) = @_;
    $c->{raw} = '';
    while (1) {
        my $sl = _readline($c, $deadline);
        if (!defined $sl) {
            return undef unless length $c->{raw} || length $c->{buf};
            die "connection closed in the middle of a status line\n";
        }
        $sl =~ s/\r?\n\z//;
        my ($proto, $status, $reason) =
            $sl =~ m{\AHTTP/(\d+\.\d+) (\d{3})(?: (.*))?\z}
            or die "bad status line: $sl\n";
        my (@list, %h);
        while (1) {
            my $l = _readline($c, $deadline)
                // die "connection closed in the middle of the headers\n";
            $l =~ s/\r?\n\z//;
            last if $l eq '';
            my ($k, $v) = $l =~ /\A([^:\s]+):[ \t]*(.*?)[ \t]*\z/
                or die "bad header line: $l\n";
            push @list, [$k, $v];
            my $lk = lc $k;
            $h{$lk} = exists $h{$lk}
                ? [ref $h{$lk} ? @{ $h{$lk} } : $h{$lk}, $v] : $v;
        }
        next if $status >= 100 && $status < 200 && $status != 101;
        my $res = { protocol => "HTTP/$proto", status => 0 + $status,
            reason => $reason // '', headers => \%h, header_list => \@list };
        my $body = '';
        my $close = 0;
        my $te = lc join ',', header_all($res, 'transfer-encoding');
        if ($method eq 'HEAD' || $status == 204 || $status == 304
            || $status == 101)
        {
            # no body
        } elsif ($te =~ /chunked/) {
            while (1) {
                my $sz = _readline($c, $deadline)
                    // die "connection closed in a chunked body\n";
                $sz =~ /\A([0-9a-fA-F]+)/ or die "bad chunk size: $sz\n";
                my $n = hex $1;
                if ($n == 0) {
                    while (1) {
                        my $t = _readline($c, $deadline)
                            // die "connection closed in chunk trailers\n";
                        last if $t =~ /\A\r?\n\z/;
                    }
                    last;
                }
                $body .= _readn($c, $n, $deadline);
                _readn($c, 2, $deadline) eq "\r\n"
                    or die "chunk not followed by CRLF\n";
            }
        } elsif (defined(my $cl = $h{'content-length'})) {
            $cl = $cl->[0] if ref $cl;
            $body = _readn($c, $cl, $deadline);
        } else {
            1 while _fill($c, $deadline);
            $body = $c->{buf};
            $c->{raw} .= $body;
            $c->{buf} = '';
            $close = 1;
        }
        $res->{body} = $body;
        $res->{raw} = $c->{raw};
        my $conn = lc join ',', header_all($res, 'connection');
        $res->{_close} = $close || $conn =~ /close/
            || ($proto eq '1.0' && $conn !~ /keep-alive/);
        $res->{set_cookies} =
            [map { parse_set_cookie($_) } header_all($res, 'set-cookie')];
        return $res;
    }
}

sub _error_res {
    my ($status, $err, $raw) = @_;
    chomp $err;
    return { status => $status, reason => 'No response', error => $err,
        body => $err, raw => $raw // '', headers => {}, header_list => [],
        set_cookies => [] };
}

sub _drop_conns {
    my ($port) = @_;
    for my $k (keys %CONN) {
        next if defined $port && $CONN{$k}{port} != $port;
        close delete($CONN{$k})->{sock};
    }
}

sub _target {
    my ($t, $ngx) = @_;
    return ($1, $2 // 80, length $3 ? $3 : '/')
        if $t =~ m{\Ahttp://([^/:?#]+)(?::(\d+))?(.*)\z}s;
    die "request target must be http://... or a path: $t\n"
        unless $t =~ m{\A[/*]};
    $ngx //= $CUR_NGINX or die "request $t: no nginx started\n";
    return ('127.0.0.1', $ngx->port, $t);
}

sub request {
    my ($method, $target, %o) = @_;
    my ($host, $port, $path) = _target($target, $o{nginx});
    my $deadline = time + ($o{timeout} // $TIMEOUT);
    my $keep = $o{keep_alive} // 1;
    my $body = $o{body};
    my $jar = $o{jar};

    my @hdr = (['Host', $o{host} // ($port == 80 ? $host : "$host:$port")],
        ['User-Agent', $USER_AGENT]);
    if (exists $o{json}) {
        $body = JSON::PP->new->canonical->utf8->encode($o{json});
        push @hdr, ['Content-Type', 'application/json'];
    }
    my %replaceable = map { (lc($_->[0]) => $_) } @hdr;
    if ($jar && defined(my $ch = $jar->header)) {
        push @hdr, ['Cookie', $ch];
        $replaceable{cookie} = $hdr[-1];
    }
    my $uh = $o{headers} // [];
    my @pairs = ref $uh eq 'HASH' ? map { [$_, $uh->{$_}] } sort keys %$uh
        : map { [$uh->[2 * $_], $uh->[2 * $_ + 1]] } 0 .. @$uh / 2 - 1;
    my %given;
    for my $p (@pairs) {
        my ($k, $v) = @$p;
        my $lk = lc $k;
        $given{$lk} = 1;
        if (my $d = $replaceable{$lk}) {
            if ($lk eq 'cookie' && defined $v) {
                $d->[1] .= "; $v";    # jar cookies, then the test's
            } else {
                $d->[1] = $v;         # undef: don't send it at all
            }
            next;
        }
        push @hdr, map { [$k, $_] } ref $v ? @$v : defined $v ? ($v) : ();
    }
    @hdr = grep { defined $_->[1] } @hdr;
    if (!$given{'content-length'} && !$given{'transfer-encoding'}) {
        push @hdr, ['Content-Length', length $body] if defined $body;
        push @hdr, ['Content-Length', 0]
            if !defined $body && $method =~ /\A(?:POST|PUT|PATCH)\z/;
    }
    push @hdr, ['Connection', 'close'] if !$keep && !$given{connection};
    my $req = "$method $path HTTP/1.1\r\n"
        . join('', map {"$_->[0]: $_->[1]\r\n"} @hdr) . "\r\n" . ($body // '');

    my $key = "$host:$port";
    my $res;
    for my $try (1, 2) {
        my $c = $keep ? delete $CONN{$key} : undef;
        if ($c) {    # readable while idle means closed (or garbage): drop
            my $rin = '';
            vec($rin, fileno($c->{sock}), 1) = 1;
            if (select(my $rout = $rin, undef, undef, 0) != 0) {
                close $c->{sock};
                undef $c;
            }
        }
        my $reused = !!$c;
        $c //= eval { _connect($host, $port, $deadline) }
            or return _error_res(599, $@);
        my $werr = eval { _write_all($c, $req, $deadline); 1 } ? '' : $@;
        # a server may answer and close before it read the whole body
        my $got = eval { _read_response($c, $method, $deadline) };
        my $err = $@ || $werr;
        if ($got) {
            $res = $got;
            if ($keep && !$got->{_close}) { $CONN{$key} = $c }
            else { close $c->{sock} }
            last;
        }
        close $c->{sock};
        next if $reused && $try == 1 && !length $c->{raw};
        return _error_res(599, $err || "connection closed without a "
            . "response", $c->{raw});
    }
    delete $res->{_close};
    if ($jar) { $jar->store($_) for @{ $res->{set_cookies} } }
    return $res;
}

sub raw_request {
    my ($port, $bytes, %o) = @_;
    $port = $port->port if ref $port;
    $port //= ($CUR_NGINX // die "raw_request: no nginx started\n")->port;
    my $deadline = time + ($o{timeout} // $TIMEOUT);
    my $c = eval { _connect('127.0.0.1', $port, $deadline) }
        or return _error_res(0, $@);
    my @parts = ref $bytes eq 'ARRAY' ? @$bytes : ($bytes);
    for my $i (0 .. $#parts) {
        last unless eval { _write_all($c, $parts[$i], $deadline); 1 };
        sleep $o{pause} if $o{pause} && $i < $#parts;
    }
    shutdown $c->{sock}, 1 if $o{half_close};
    my $method = $parts[0] =~ /\A([A-Z]+) / ? $1 : 'GET';
    my @res;
    for (1 .. $o{responses} // 1) {
        my $r = eval { _read_response($c, $method, $deadline) };
        unless ($r) {
            push @res, _error_res(0, $@ || 'connection closed without a '
                . 'response', $c->{raw} . $c->{buf});
            last;
        }
        delete $r->{_close};
        push @res, $r;
    }
    if ($o{until_eof}) {
        eval { 1 while _fill($c, $deadline) };
        $res[-1]{trailing} = $c->{buf};
    }
    close $c->{sock};
    return wantarray ? @res : $res[0];
}

# ----------------------------------------------------------------- cookies

sub new_jar { Mkt::Test::Jar->new }

sub _trim { my $s = shift // ''; $s =~ s/\A[ \t]+|[ \t]+\z//g; $s }

sub parse_set_cookie {
    my ($str) = @_;
    my ($pair, @attrs) = split /;/, $str, -1;
    my ($name, $value) = $pair =~ /=/ ? split(/=/, $pair, 2) : ('', $pair);
    my %a;
    for my $av (@attrs) {
        my ($k, $v) = $av =~ /=/ ? split(/=/, $av, 2) : ($av, undef);
        $k = lc _trim($k);
        next if $k eq '';
        $a{$k} = defined $v ? _trim($v) : 1;
    }
    return { name => _trim($name), value => _trim($value), attrs => \%a,
        raw => $str };
}

my %MON = (jan => 1, feb => 2, mar => 3, apr => 4, may => 5, jun => 6,
    jul => 7, aug => 8, sep => 9, oct => 10, nov => 11, dec => 12);

# RFC 6265 5.1.1 date parsing: unix time, or undef.
sub parse_cookie_date {
    my ($s) = @_;
    my ($time, $day, $mon, $year);
    for my $tok (split /[\x09\x20-\x2F\x3B-\x40\x5B-\x60\x7B-\x7E]+/,
        $s // '')
    {
        if (!$time && $tok =~ /\A(\d{1,2}):(\d{1,2}):(\d{1,2})(?!\d)/) {
            $time = [$1, $2, $3];
        } elsif (!defined $day && $tok =~ /\A(\d{1,2})(?!\d)/) {
            $day = $1;
        } elsif (!defined $mon && $tok =~ /\A(jan|feb|mar|apr|may|jun|jul
                |aug|sep|oct|nov|dec)/xi)
        {
            $mon = $MON{ lc $1 };
        } elsif (!defined $year && $tok =~ /\A(\d{2,4})(?!\d)/) {
            $year = $1;
        }
    }
    return undef unless $time && defined $day && $mon && defined $year;
    $year += 1900 if $year >= 70 && $year <= 99;
    $year += 2000 if $year <= 69;
    return undef if $year < 1601 || $day < 1 || $day > 31
        || $time->[0] > 23 || $time->[1] > 59 || $time->[2] > 59;
    return eval { Time::Local::timegm($time->[2], $time->[1], $time->[0],
        $day, $mon - 1, $year) };
}

# ------------------------------------------------------- failure detection

sub scan_log_text {
    my ($text, %o) = @_;
    my %exact = map { $_ => 1 } @{ $o{allowed_lines} || [] };
    my @bad;
    for my $line (split /\n/, $text // '') {
        next unless $line =~ $BAD_LOG_RE;
        next if $exact{$line} || grep { $line =~ $_ } @{ $o{allow} || [] };
        push @bad, $line;
    }
    return @bad;
}

sub scan_log {
    my ($path, %o) = @_;
    return scan_log_text(read_file($path), %o);
}

sub _stop_all {
    for my $n (@NGINX) { eval { $n->stop; 1 } or warn $@ }
    for my $r (@REDIS) { eval { $r->stop; 1 } or warn $@ }
    _drop_conns();
}

sub _problems { map { $_->problems } @NGINX }

sub finish {
    $FINISHED = 1;
    _stop_all();
    my $plan = Test::More->builder->has_plan;
    my $fixed = defined $plan && $plan ne 'no_plan';
    for my $n (@NGINX) {
        my @p = $n->problems;
        my $name = (File::Spec->splitdir($n->{prefix}))[-1]
            . ': no alert, emerg, crit or crash in logs';
        if (@p) {
            Test::More::ok(0, $name);
            Test::More::diag(join "\n", @p);
        } elsif (!$fixed) {
            Test::More::ok(1, $name);
        }
    }
    Test::More::done_testing() unless defined $plan;
}

END {
    if ($$ == $ORIG_PID) {
        my $exit = $?;
        _stop_all();
        if (!$FINISHED && (my @p = _problems())) {
            Test::More::diag("Mkt::Test: nginx logged failures (and finish() "
                . "was not called):\n" . join "\n", @p);
            $exit ||= 1;
        }
        if (defined $ROOT) {
            if ($ENV{MKT_KEEP}) {
                Test::More::diag("Mkt::Test: kept $ROOT");
            } else {
                File::Path::remove_tree($ROOT);
            }
        }
        $? = $exit;
    }
}

# ===================================================================== nginx

package Mkt::Test::Nginx;

use strict;
use warnings;
use Time::HiRes qw(time sleep);

my %KNOWN = map { $_ => 1 } qw(http body server main events workers module
    log_level user vars redis wait_port files allow port bin);

sub _new {
    my ($class, %o) = @_;
    my $kind = delete $o{_kind} // 'nginx';
    my $self = bless { id => ++$SEQ, spec => { module => 1, workers => 1 },
        ports => {}, allow => [], allowed_lines => {} }, $class;
    $self->{prefix} = Mkt::Test::test_dir() . "/$kind-$self->{id}";
    File::Path::make_path($self->{prefix});
    chmod 0755, $self->{prefix};
    $self->{bin} = delete $o{bin} // $NGINX_BIN;
    $self->{fixed_port} = defined $o{port};
    $self->{ports}{PORT} = delete $o{port} // Mkt::Test::free_port();
    $self->_update_spec(%o);
    return $self;
}

sub _update_spec {
    my ($self, %o) = @_;
    my @unknown = grep { !$KNOWN{$_} } sort keys %o;
    die "unknown nginx option(s): @unknown\n" if @unknown;
    $o{http} = delete $o{body} if exists $o{body};
    my $s = $self->{spec};
    if (exists $o{http} || exists $o{server}) {
        $s->{http} = $o{http};
        $s->{server} = $o{server};
    }
    for my $k (qw(main events workers module log_level user vars redis
        wait_port files))
    {
        $s->{$k} = $o{$k} if exists $o{$k};
    }
    push @{ $self->{allow} }, ref $o{allow} eq 'ARRAY' ? @{ $o{allow} }
        : $o{allow} if $o{allow};
}

sub port { my ($self, $n) = @_; $self->_placeholder($n ? "PORT$n" : 'PORT') }
sub prefix { $_[0]{prefix} }
sub pid { $_[0]{pid} }
sub conf_path { "$_[0]{prefix}/nginx.conf" }
sub error_log_path { "$_[0]{prefix}/error.log" }
sub access_log_path { "$_[0]{prefix}/access.log" }
sub stderr_path { "$_[0]{prefix}/stderr.log" }
sub error_log { Mkt::Test::read_file($_[0]->error_log_path) // '' }
sub access_log { Mkt::Test::read_file($_[0]->access_log_path) // '' }
sub stderr_log { Mkt::Test::read_file($_[0]->stderr_path) // '' }
sub allow_log { my $self = shift; push @{ $self->{allow} }, @_ }
sub running { !Mkt::Test::_reap($_[0]) }

sub url {
    my ($self, $path) = @_;
    return "http://127.0.0.1:$self->{ports}{PORT}" . ($path // '/');
}

sub request {
    my ($self, $method, $path, %o) = @_;
    return Mkt::Test::request($method,
        $path =~ m{\Ahttp://} ? $path : $self->url($path), %o);
}
sub get { my ($self, $path, %o) = @_; $self->request('GET', $path, %o) }
sub post { my ($self, $path, %o) = @_; $self->request('POST', $path, %o) }
sub raw_request { my $self = shift; Mkt::Test::raw_request($self, @_) }

sub write_file {
    my ($self, $name, $content) = @_;
    Mkt::Test::write_file(File::Spec->file_name_is_absolute($name) ? $name
        : "$self->{prefix}/$name", $content);
}

sub _placeholder {
    my ($self, $name) = @_;
    my $vars = $self->{spec}{vars} || {};
    return $vars->{$name} if exists $vars->{$name};
    if ($name =~ /\APORT\d*\z/) {
        $self->{used}{$name} = 1;
        return $self->{ports}{$name} //= Mkt::Test::free_port();
    }
    return $self->{prefix} if $name eq 'PREFIX';
    return Mkt::Test::test_dir() if $name eq 'TESTDIR';
    return Mkt::Test::_module_path() if $name eq 'MKT_MODULE';
    if ($name eq 'REDIS_PORT') {
        my $r = $self->{spec}{redis} // $CUR_REDIS
            // die "%%REDIS_PORT%% used but no redis started\n";
        return $r->port;
    }
    die "unknown placeholder %%$name%%\n";
}

sub _subst {
    my ($self, $text) = @_;
    $text =~ s{%%([A-Z][A-Z0-9_]*)%%}{$self->_placeholder($1)}ge;
    return $text;
}

sub _conf_text {
    my ($self) = @_;
    my ($s, $p) = ($self->{spec}, $self->{prefix});
    my $level = $s->{log_level} // $ENV{MKT_LOG_LEVEL} // 'info';
    my $user = exists $s->{user} ? $s->{user} : $> == 0 ? 'root' : undef;
    my @c = ("# written by Mkt::Test for $0");
    push @c, 'load_module ' . Mkt::Test::_module_path() . ';'
        if $s->{module};
    push @c, "user $user;" if defined $user && length $user;
    push @c, 'daemon off;', 'master_process on;',
        "worker_processes $s->{workers};", "pid $p/nginx.pid;",
        "lock_file $p/nginx.lock;", "error_log $p/error.log $level;";
    push @c, $s->{main} if defined $s->{main};
    push @c, 'events {', '    worker_connections 1024;',
        (defined $s->{events} ? $s->{events} : ()), '}';
    push @c, 'http {', "    access_log $p/access.log;",
        map {"    ${_}_temp_path $p/${_}_temp;"}
        qw(client_body proxy fastcgi uwsgi scgi);
    push @c, $s->{http} if defined $s->{http};
    push @c, '    server {', '        listen 127.0.0.1:%%PORT%%;',
        '        server_name localhost;', $s->{server}, '    }'
        if defined $s->{server};
    push @c, '}', '';
    return $self->_subst(join "\n", @c);
}

sub _write_files {
    my ($self, $files) = @_;
    for my $name (sort keys %{ $files || {} }) {
        my $v = $files->{$name};
        $self->write_file($name, ref $v eq 'SCALAR' ? $$v : $self->_subst($v));
    }
}

sub _write_conf {
    my ($self) = @_;
    $self->{used} = {};
    Mkt::Test::write_file($self->conf_path, $self->_conf_text);
}

sub _log_mark {
    my ($self) = @_;
    return { map { ($_ => (-s $_) // 0) } $self->error_log_path,
        $self->stderr_path };
}

sub _lines_since {
    my ($self, $mark) = @_;
    my @lines;
    for my $f (sort keys %$mark) {
        my $t = Mkt::Test::read_file($f) // next;
        my $off = length($t) >= $mark->{$f} ? $mark->{$f} : 0;
        push @lines, split /\n/, substr $t, $off;
    }
    return @lines;
}

sub _start {
    my ($self, %o) = @_;
    my $timeout = $o{timeout} // $TIMEOUT;
    $self->_write_files($self->{spec}{files}) if $o{initial};
    for my $attempt (1 .. 3) {
        $self->_write_conf;
        my $mark = $self->_log_mark;
        delete @$self{qw(status forced start_failed)};
        $self->{pid} = Mkt::Test::_spawn([$self->{bin}, '-p',
            "$self->{prefix}/", '-c', $self->conf_path, '-e',
            $self->error_log_path], stdout => $self->stderr_path);
        my $why = $self->_wait_ready($timeout);
        if (!defined $why) {
            open $self->{watch}, '<', $self->error_log_path;
            return $self;
        }
        my $log = join "\n", $self->_lines_since($mark);
        Mkt::Test::_terminate($self, 'TERM', 3);
        # another process took a port between free_port() and nginx's bind
        if ($log =~ /Address already in use/ && $attempt < 3
            && $o{initial} && !$self->{fixed_port})
        {
            for my $f ($self->error_log_path, $self->stderr_path) {
                rename $f, "$f.bind-$attempt";
            }
            $self->{ports} = { PORT => Mkt::Test::free_port() };
            $self->_write_files($self->{spec}{files});
            next;
        }
        $self->{start_failed} = 1;
        die "nginx ($self->{prefix}) $why:\n$log\n";
    }
}

sub _wait_ready {
    my ($self, $timeout) = @_;
    my $need = $self->{spec}{workers} =~ /\A\d+\z/
        ? $self->{spec}{workers} : 1;
    my $port = ($self->{spec}{wait_port} // 1) && $self->{used}{PORT}
        ? $self->{ports}{PORT} : undef;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return 'exited during startup ('
            . Mkt::Test::_status_text($self->{status}) . ')'
            if Mkt::Test::_reap($self);
        return undef if $self->_nworkers >= $need
            && (!$port || Mkt::Test::_listening($port, $self->{pid}));
        sleep 0.01;
    }
    return "not ready after ${timeout}s";
}

sub worker_pids {
    my ($self) = @_;
    return () if Mkt::Test::_reap($self);
    return grep { Mkt::Test::_cmdline($_) =~ /\Anginx: worker process\z/ }
        Mkt::Test::_children($self->{pid});
}

sub _nworkers { my @w = $_[0]->worker_pids; scalar @w }

sub _is_child {
    my ($self, $pid) = @_;
    my ($st, $pp) = Mkt::Test::_proc_stat($pid) or return 0;
    return $pp == $self->{pid} && $st ne 'Z' && $st ne 'X';
}

sub reload {
    my $self = shift;
    my %o = Mkt::Test::_args(@_);
    my $expect_fail = delete $o{expect_fail};
    my $timeout = delete($o{timeout}) // $TIMEOUT;
    die "reload: nginx is not running\n" if Mkt::Test::_reap($self);
    $self->_update_spec(%o);
    $self->_write_files($o{files}) if $o{files};
    $self->_write_conf;
    my @old = $self->worker_pids;
    my $need = $self->{spec}{workers} =~ /\A\d+\z/
        ? $self->{spec}{workers} : 1;
    my $mark = $self->_log_mark;
    Mkt::Test::_drop_conns($self->{ports}{PORT});
    kill 'HUP', $self->{pid} or die "reload: kill HUP: $!\n";
    my $emerg;
    # Done when the new config failed ([emerg], old workers keep serving) or
    # when every old worker is gone and the new ones are up: from then on
    # every connection is served with the new config.
    my $done = Mkt::Test::wait_for(sub {
        die "reload: nginx master exited ("
            . Mkt::Test::_status_text($self->{status}) . ")\n"
            if Mkt::Test::_reap($self);
        my @e = grep {/\[emerg\]/} $self->_lines_since($mark);
        if (@e) { $emerg = \@e; return 1 }
        return 0 if grep { $self->_is_child($_) } @old;
        return $self->_nworkers >= $need;
    }, $timeout, 0.01);
    die "reload: new workers not serving after ${timeout}s:\n"
        . join("\n", $self->_lines_since($mark)) . "\n" unless $done;
    if ($emerg) {
        die "reload failed:\n" . join("\n", @$emerg) . "\n"
            unless $expect_fail;
        my @gone = grep { !$self->_is_child($_) } @old;
        die "reload failed and old workers @gone are gone\n" if @gone;
        $self->{allowed_lines}{$_} = 1 for @$emerg;
        return join "\n", @$emerg;
    }
    die "reload: expected the new config to fail, but it was loaded\n"
        if $expect_fail;
    return 1;
}

sub reopen {
    my ($self, %o) = @_;
    die "reopen: nginx is not running\n" if Mkt::Test::_reap($self);
    my $fh = $self->{watch};
    seek $fh, 0, 2 if $fh;
    my $want = 1 + $self->_nworkers;
    kill 'USR1', $self->{pid} or die "reopen: kill USR1: $!\n";
    my $level = $self->{spec}{log_level} // $ENV{MKT_LOG_LEVEL} // 'info';
    # master and each worker log "reopening logs" (notice) to the old file
    # just before reopening; without notice level, wait a fixed while
    if (!$fh || $level =~ /\A(?:warn|error|crit|alert|emerg)\z/) {
        sleep 0.5;
    } else {
        my ($buf, $seen) = ('', 0);
        Mkt::Test::wait_for(sub {
            seek $fh, 0, 1;
            while (defined(my $l = <$fh>)) {
                $buf .= $l;
                next unless $buf =~ /\n\z/;
                $seen++ if $buf =~ /reopening logs/;
                $buf = '';
            }
            return $seen >= $want;
        }, $o{timeout} // 5) or die "reopen: not all processes reopened\n";
        sleep 0.05;
    }
    close $fh if $fh;
    open $self->{watch}, '<', $self->error_log_path;
    return 1;
}

sub stop {
    my ($self, %o) = @_;
    Mkt::Test::_drop_conns($self->{ports}{PORT});
    close delete $self->{watch} if $self->{watch};
    Mkt::Test::_terminate($self, 'QUIT', $o{timeout} // $TIMEOUT);
    return !$self->{forced};
}

sub restart {
    my ($self, %o) = @_;
    $self->stop;
    $self->_start(%o);
    $CUR_NGINX = $self;
    return $self;
}

sub wait_error_log {
    my ($self, $re, $timeout) = @_;
    return Mkt::Test::wait_for(sub { my $t = $self->error_log;
        $t =~ $re ? $t : 0 }, $timeout);
}

sub wait_access_log {
    my ($self, $re, $timeout) = @_;
    return Mkt::Test::wait_for(sub { my $t = $self->access_log;
        $t =~ $re ? $t : 0 }, $timeout);
}

# What finish() would report for this nginx: log lines matching
# $BAD_LOG_RE (minus allowed ones), an unclean stop, a crashed master.
sub problems {
    my ($self) = @_;
    my @allow = @{ $self->{allow} };
    push @allow, qr/\[emerg\]/ if $self->{start_failed};
    my @p;
    for my $f ($self->error_log_path, $self->stderr_path) {
        push @p, map {"$f: $_"} Mkt::Test::scan_log($f, allow => \@allow,
            allowed_lines => [keys %{ $self->{allowed_lines} }]);
    }
    push @p, "nginx $self->{prefix} did not stop cleanly: $self->{forced}"
        if $self->{forced};
    push @p, "nginx $self->{prefix} master ended with "
        . Mkt::Test::_status_text($self->{status})
        if !$self->{forced} && !$self->{start_failed}
        && defined $self->{status} && $self->{status} != 0;
    return @p;
}

# ===================================================================== redis

package Mkt::Test::Redis;

use strict;
use warnings;
use Time::HiRes qw(time sleep);

sub _new {
    my ($class, %o) = @_;
    my $self = bless { id => ++$SEQ, args => $o{args} || [],
        bin => $o{bin} // $REDIS_BIN, timeout => $o{timeout} // 5,
        fixed_port => defined $o{port} }, $class;
    $self->{port} = $o{port} // Mkt::Test::free_port();
    $self->{dir} = Mkt::Test::test_dir() . "/redis-$self->{id}";
    File::Path::make_path($self->{dir});
    return $self;
}

sub port { $_[0]{port} }
sub pid { $_[0]{pid} }
sub dir { $_[0]{dir} }

sub timeout {    # seconds cmd() waits for a reply
    my ($self, $t) = @_;
    $self->{timeout} = $t if defined $t;
    return $self->{timeout};
}
sub log { Mkt::Test::read_file("$_[0]{dir}/redis.log") // '' }
sub running { !Mkt::Test::_reap($_[0]) }

sub start {
    my ($self) = @_;
    die "redis already running\n" if $self->{pid} && $self->running;
    for my $attempt (1 .. 3) {
        delete @$self{qw(status forced conn)};
        my $log = "$self->{dir}/redis.log";
        my $off = -s $log // 0;
        $self->{pid} = Mkt::Test::_spawn([$self->{bin}, '--bind',
            '127.0.0.1', '--port', $self->{port}, '--save', '',
            '--appendonly', 'no', '--dir', $self->{dir}, '--daemonize', 'no',
            '--logfile', $log, @{ $self->{args} }],
            stdout => "$self->{dir}/stderr.log");
        my $ok = Mkt::Test::wait_for(sub {
            return 1 if Mkt::Test::_reap($self);
            my $r = eval { $self->cmd('PING') };
            return defined $r && !ref $r && $r eq 'PONG';
        }, $TIMEOUT, 0.02);
        if ($ok && !defined $self->{status}) {
            $self->{started} = 1;
            return $self;
        }
        Mkt::Test::_terminate($self, 'KILL', 1);
        my $text = substr(Mkt::Test::read_file($log) // '', $off)
            . (Mkt::Test::read_file("$self->{dir}/stderr.log") // '');
        if ($text =~ /Address already in use/ && $attempt < 3
            && !$self->{fixed_port} && !$self->{started})
        {
            $self->{port} = Mkt::Test::free_port();
            next;
        }
        die "redis-server on port $self->{port} did not start:\n$text\n";
    }
}

sub _drop {
    my ($self) = @_;
    close delete($self->{conn})->{sock} if $self->{conn};
}

sub cmd {
    my ($self, @args) = @_;
    my $deadline = time + $self->{timeout};
    my $c = $self->{conn}
        ||= Mkt::Test::_connect('127.0.0.1', $self->{port}, $deadline);
    my $req = '*' . @args . "\r\n";
    for my $a (@args) {
        my $b = $a // '';
        utf8::encode($b) if utf8::is_utf8($b);
        $req .= '$' . length($b) . "\r\n$b\r\n";
    }
    my $r = eval {
        Mkt::Test::_write_all($c, $req, $deadline);
        _reply($c, $deadline);
    };
    if (my $e = $@) {
        $self->_drop;
        die "redis $args[0]: $e";
    }
    return $r;
}

sub _reply {
    my ($c, $deadline) = @_;
    my $line = Mkt::Test::_readline($c, $deadline)
        // die "connection closed\n";
    $line =~ s/\r?\n\z//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+';
    return Mkt::Test::RedisError->new($v) if $t eq '-';
    return 0 + $v if $t eq ':';
    if ($t eq '$' || $t eq '=') {
        return undef if $v < 0;
        my $d = Mkt::Test::_readn($c, $v + 2, $deadline);
        $d = substr $d, 0, $v;
        $d =~ s/\A...:// if $t eq '=';    # RESP3 verbatim string
        return $d;
    }
    if ($t eq '*' || $t eq '~' || $t eq '>') {
        return undef if $v < 0;
        return [map { _reply($c, $deadline) } 1 .. $v];
    }
    if ($t eq '%') {
        return { map { _reply($c, $deadline) } 1 .. 2 * $v };
    }
    return undef if $t eq '_';
    return $v eq 't' ? 1 : 0 if $t eq '#';
    return $v if $t eq ',' || $t eq '(';
    if ($t eq '|') {    # attributes: skip them, return the reply after
        _reply($c, $deadline) for 1 .. 2 * $v;
        return _reply($c, $deadline);
    }
    die "unknown RESP reply: $line\n";
}

sub pause { my ($self) = @_; CORE::kill('STOP', $self->{pid}); $self }
sub resume { my ($self) = @_; CORE::kill('CONT', $self->{pid}); $self }

sub kill {
    my ($self) = @_;
    $self->_drop;
    Mkt::Test::_terminate($self, 'KILL', 5);
    return $self;
}

sub stop {
    my ($self) = @_;
    $self->_drop;
    Mkt::Test::_terminate($self, 'TERM', 5);
    return !$self->{forced};
}

sub restart {
    my ($self) = @_;
    $self->stop;
    return $self->start;
}

# ============================================================ redis errors

package Mkt::Test::RedisError;

use overload '""' => sub { $_[0]{message} }, 'bool' => sub {1},
    fallback => 1;

sub new { bless { message => $_[1] }, $_[0] }
sub message { $_[0]{message} }

# ============================================================== cookie jar

package Mkt::Test::Jar;

use strict;
use warnings;
use Time::HiRes qw(time);

# One cookie per name (tests talk to one site), sent in the order first set.
sub new { bless { names => [], c => {} }, shift }

sub store {
    my ($self, $sc) = @_;
    $sc = Mkt::Test::parse_set_cookie($sc) unless ref $sc;
    my $a = $sc->{attrs};
    my $exp;
    if (defined $a->{'max-age'} && $a->{'max-age'} =~ /\A-?\d+\z/) {
        $exp = $a->{'max-age'} <= 0 ? 0 : time + $a->{'max-age'};
    } elsif (defined $a->{expires}) {
        $exp = Mkt::Test::parse_cookie_date($a->{expires});
    }
    if (defined $exp && $exp <= time) {
        $self->delete($sc->{name});
        return;
    }
    push @{ $self->{names} }, $sc->{name}
        unless exists $self->{c}{ $sc->{name} };
    $self->{c}{ $sc->{name} } = { %$sc, expires_at => $exp };
    return $self;
}

sub _live {
    my ($self, $name) = @_;
    my $c = $self->{c}{$name} or return undef;
    if (defined $c->{expires_at} && $c->{expires_at} <= time) {
        $self->delete($name);
        return undef;
    }
    return $c;
}

sub get { my ($self, $name) = @_; $self->_live($name) }

sub cookie {
    my ($self, $name) = @_;
    my $c = $self->_live($name) or return undef;
    return $c->{value};
}

sub set {
    my ($self, $name, $value, %attrs) = @_;
    return $self->store({ name => $name, value => $value,
        attrs => { map { lc($_) => $attrs{$_} } keys %attrs },
        raw => "$name=$value" });
}

sub delete {
    my ($self, $name) = @_;
    CORE::delete $self->{c}{$name};
    @{ $self->{names} } = grep { $_ ne $name } @{ $self->{names} };
    return $self;
}

sub clear { my ($self) = @_; @$self{qw(names c)} = ([], {}); $self }

sub names { my ($self) = @_; grep { $self->_live($_) } @{ $self->{names} } }

sub as_hash {
    my ($self) = @_;
    return { map { ($_ => $self->{c}{$_}{value}) } $self->names };
}

sub header {
    my ($self) = @_;
    my @n = $self->names;
    return undef unless @n;
    return join '; ', map {"$_=$self->{c}{$_}{value}"} @n;
}

1;
