package Mkt::FakeRedis;

# A fake Redis server for integration tests: a forked process on a free
# loopback port that reads RESP commands (pipelined, from any number of
# connections) and answers each with the bytes a handler returns, so that a
# test can make a "Redis" say what a real one never would.
#
#   my $fake = Mkt::FakeRedis->start(sub {
#       my (@args) = @_;                      # ('XADD', 'key', ..., 'e', $json)
#       return "\$5\r\nhello\r\n" if uc $args[0] eq 'XADD';
#       return undef;                         # the default answer below
#   });
#   ... "mkt_redis 127.0.0.1:" . $fake->port . ";" ...
#   $fake->stop;                              # also done at exit
#
#   Mkt::FakeRedis->start($handler, port => $redis->port)  # a given port
#   Mkt::FakeRedis->garbage(port => ...)      # answers @GARBAGE in turn
#
# The handler runs in the child: state it keeps (a counter) lives there, and
# what the test must learn it writes to a file. Default answers: CLIENT
# (ID) ":7", XRANGE and XREVRANGE "*0" (an empty stream), anything else
# "+OK". Core Perl modules only.

use strict;
use warnings;

use IO::Select ();
use IO::Socket::INET ();
use POSIX ();

my @LIVE;

# replies no Redis sends: absurd lengths, not RESP, a wrong type, deep
# nesting, a bulk string cut short, more replies than commands
our @GARBAGE = ("*999999999\r\n", "\$-7\r\nxx\r\n", "hello garbage\r\n",
    "*2\r\n\$3\r\nvip\r\n:12\r\n",
    "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
    "\$100000000\r\nabc", "+OK\r\n+OK\r\n+OK\r\n");

sub start {
    my ($class, $handler, %o) = @_;
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                       LocalPort => $o{port} // 0,
                                       Listen => 16, ReuseAddr => 1)
        or die "Mkt::FakeRedis: listen: $!\n";
    my $parent = $$;
    my $pid = fork // die "Mkt::FakeRedis: fork: $!\n";
    if ($pid == 0) {
        $SIG{$_} = 'DEFAULT' for qw(TERM INT HUP);
        eval { _serve($listen, $handler, $parent) };
        print STDERR "Mkt::FakeRedis: $@" if $@;
        POSIX::_exit(0);    # never the test's END blocks
    }
    my $self = bless { pid => $pid, port => $listen->sockport }, $class;
    close $listen;
    push @LIVE, $self;
    return $self;
}

# a server answering every command with the next of @GARBAGE
sub garbage {
    my ($class, %o) = @_;
    my $i = 0;
    return $class->start(sub { $GARBAGE[$i++ % @GARBAGE] }, %o);
}

sub port { $_[0]{port} }

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    $self->{pid} = undef;
}

END {
    local $?;
    $_->stop for @LIVE;
}

# The complete commands at the head of $$buf (removed from it), each an
# arrayref of its arguments.
sub commands {
    my ($buf) = @_;
    my @cmds;
    while ($$buf =~ /\A\*(\d+)\r\n/) {
        my ($n, $pos, @args) = ($1, length $&);
        for (1 .. $n) {
            substr($$buf, $pos) =~ /\A\$(\d+)\r\n/ or return @cmds;
            my $len = $1;
            $pos += length $&;
            return @cmds if length($$buf) < $pos + $len + 2;
            push @args, substr($$buf, $pos, $len);
            $pos += $len + 2;
        }
        substr($$buf, 0, $pos) = '';
        push @cmds, \@args;
    }
    return @cmds;
}

sub _default {
    my ($cmd) = @_;
    return ":7\r\n" if $cmd eq 'CLIENT';
    return "*0\r\n" if $cmd =~ /\AX(?:REV)?RANGE\z/;
    return "+OK\r\n";
}

sub _serve {
    my ($listen, $handler, $parent) = @_;
    my $sel = IO::Select->new($listen);
    my %buf;
    while (getppid() == $parent) {    # the test is gone: so are we
        for my $fh ($sel->can_read(0.5)) {
            if ($fh == $listen) {
                my $c = $listen->accept or next;
                $sel->add($c);
                $buf{$c} = '';
                next;
            }
            my $chunk;
            if (!sysread($fh, $chunk, 65536)) {
                $sel->remove($fh);
                delete $buf{$fh};
                close $fh;
                next;
            }
            $buf{$fh} .= $chunk;
            my $out = '';
            for my $c (commands(\$buf{$fh})) {
                $out .= $handler->(@$c) // _default(uc $c->[0]);
            }
            syswrite($fh, $out) if length $out;
        }
    }
}

1;
