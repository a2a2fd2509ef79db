# Beacon bodies as HTTP delivers them (DESIGN.md section 8): a body up to
# max_body is accepted however it arrives (chunked, its headers and its
# pieces in separate packets; under an "if" of the location), one byte
# more is refused with the JSON error; a body refused unread is not asked
# for with "100 Continue"; the page's path from the Referer loses its
# control characters.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use Mkt::Test;

my $exp = encode_json({ goals => ['signup', 'purchase'] });

my $ngx = start_nginx(files => { 'exp.json' => $exp }, http => <<'EOF');
    mkt_config %%PREFIX%%/exp.json;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /c { mkt_collect; }

        location = /if {
            mkt_collect;
            if ($arg_debug) { set $debug 1; }
        }

        location = /status { mkt_status; }
    }
EOF

my $log = $ngx->prefix . '/events.jsonl';
my $seen = 0;

sub new_events {
    my @ev = -e $log ? split(/\n/, read_file($log)) : ();
    my @new = @ev[$seen .. $#ev];
    $seen = @ev;
    return map { decode_json($_) } @new;
}

# a beacon of exactly n bytes, its order o
sub body_of {
    my ($n, $o) = @_;
    my $head = qq({"goal":"signup","order":"$o","pad":");
    return $head . ('x' x ($n - length($head) - 2)) . '"}';
}

sub chunked {
    my ($body, $size) = @_;
    return join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                    unpack("(a$size)*", $body)) . "0\r\n\r\n";
}

my $HEAD = "POST /c HTTP/1.1\r\nHost: www.example.com\r\n"
    . "Content-Type: application/json\r\n"
    . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";

my $TOO_LARGE = '{"error":"body larger than 16384 bytes"}';
my %count;

# --- chunked, the headers first, then the body in pieces -----------------

# the headers and each 2000 bytes of the chunked body in packets of their
# own, as a client or a proxy streaming a body sends them
for my $case ([16384, 3000, 'max_body in 3000-byte chunks'],
              [16384, 16384, 'max_body in one chunk'],
              [16383, 100, 'max_body - 1 in 100-byte chunks'],
              [16000, 16000, '16000 bytes in one chunk'])
{
    my ($n, $size, $name) = @$case;
    my $o = "C-$n-$size";
    my $res = raw_request($ngx, [$HEAD, unpack('(a2000)*',
                                               chunked(body_of($n, $o),
                                                       $size))],
                          pause => 0.02);
    is($res->{status}, 204, "chunked, in pieces, $name: 204")
        or diag($res->{body});
    my @ev = new_events();
    is(scalar @ev, 1, "$name: recorded");
    is($ev[0]{order}, $o, "$name: its order") if @ev;
    $count{collect_requests}++;
}

my $res = raw_request($ngx, [$HEAD, unpack('(a2000)*',
                                        chunked(body_of(16385, 'C-over'),
                                                3000))],
                   pause => 0.02);
is($res->{status}, 400, 'chunked, in pieces, max_body + 1: 400');
is($res->{body}, $TOO_LARGE, 'max_body + 1: the JSON error');
is(scalar(new_events()), 0, 'max_body + 1: nothing recorded');
$count{collect_requests}++;
$count{collect_rejected}++;
$count{collect_rejected_too_large}++;

# --- under an "if" of the location -----------------------------------------

# over nginx's default client_body_buffer_size (8k), under max_body (16k)
for my $path ('/if', '/if?debug=1') {
    my $res = request(POST => $path, body => body_of(12000, "IF-$path"),
                      headers => { 'Content-Type' => 'application/json' });
    is($res->{status}, 204, "12000 bytes to $path: 204")
        or diag($res->{body});
    my @ev = new_events();
    is(scalar @ev, 1, "$path: recorded");
    $count{collect_requests}++;
}
ok($ngx->error_log !~ /buffered to a temporary file/,
   'no body under max_body went to a temporary file');

# --- Expect: 100-continue for a body that is refused unread ------------------

# the first response on a connection that sent only headers
sub first_head {
    my ($head) = @_;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $ngx->port,
                                  Timeout => 5) or die "connect: $!";
    print $c $head;
    my $got = '';
    my $rin = '';
    vec($rin, fileno($c), 1) = 1;
    # the head, and the body its Content-Length announces
    while (!($got =~ /\r\n\r\n(.*)\z/s
             && length($1) >= ($got =~ /^Content-Length: (\d+)/mi ? $1 : 0))
           && select(my $r = $rin, undef, undef, 5))
    {
        sysread($c, my $buf, 4096) or last;
        $got .= $buf;
    }
    close $c;
    return $got;
}

my $got = first_head("POST /c HTTP/1.1\r\nHost: www.example.com\r\n"
                     . "Content-Type: application/json\r\n"
                     . "Content-Length: 20000\r\n"
                     . "Expect: 100-continue\r\n\r\n");
like($got, qr{\AHTTP/1\.1 400 }, 'Expect, over max_body: 400 at once, '
     . 'no 100 Continue');
like($got, qr/^Connection: close\r$/mi,
     'Expect, over max_body: the connection closes (the body may never '
     . 'come)');
like($got, qr/\Q$TOO_LARGE\E\z/, 'Expect, over max_body: the JSON error');
$count{collect_requests}++;
$count{collect_rejected}++;
$count{collect_rejected_too_large}++;

$got = first_head("POST /c HTTP/1.1\r\nHost: www.example.com\r\n"
                  . "Content-Type: application/x-www-form-urlencoded\r\n"
                  . "Content-Length: 11\r\n"
                  . "Expect: 100-continue\r\n\r\n");
like($got, qr{\AHTTP/1\.1 400 }, 'Expect, a form: 400 at once');
$count{collect_requests}++;
$count{collect_rejected}++;
$count{collect_rejected_content_type}++;

# a body that fits is asked for and recorded
my $b = body_of(100, 'E-1');
my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $ngx->port,
                              Timeout => 5) or die "connect: $!";
print $c "POST /c HTTP/1.1\r\nHost: www.example.com\r\n"
    . "Content-Type: application/json\r\nContent-Length: 100\r\n"
    . "Expect: 100-continue\r\nConnection: close\r\n\r\n";
my $line = <$c>;
is($line, "HTTP/1.1 100 Continue\r\n", 'Expect, a body that fits: 100');
<$c>;
print $c $b;
$line = <$c>;
is($line, "HTTP/1.1 204 No Content\r\n", 'then 204');
close $c;
is(scalar(new_events()), 1, 'and recorded');
$count{collect_requests}++;

# the page's path from the Referer: percent-decoded, its control
# characters dropped (DESIGN.md section 5), not only escaped
my $page = request(GET => '/c?goal=signup', headers => {
    Referer => 'https://shop.example.com/a%0Ab%09c%7Fd%00e/?q=%0A' });
is($page->{status}, 204, 'a beacon from a page whose path holds controls');
my @ev = new_events();
is(scalar @ev, 1, 'recorded');
is($ev[0]{path}, '/abcde/', 'its path without the control characters');
is($ev[0]{host}, 'shop.example.com', 'its host');
$count{collect_requests}++;

is(scalar(new_events()), 0, 'nothing else recorded');

my $st = decode_json(request(GET => '/status')->{body});
for my $k (sort keys %count) {
    is($st->{$k}, $count{$k}, "counter $k");
}

finish();
