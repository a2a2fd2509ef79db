# mkt eval end to end: GrowthBook run() answers for inputs the conformance
# vectors do not hold.
use strict;
use warnings;
use Test::More;
use Mkt::Test;

my $mkt = $ENV{MKT_CLI};
plan skip_all => 'MKT_CLI is not set (make integration sets it)'
    unless defined $mkt && -x $mkt;

sub eval_lines {
    my @in = @_;
    my ($code, $out, $err) = run_cmd([$mkt, 'eval', '-'],
        stdin => join('', map { "$_\n" } @in));
    is($code, 0, 'mkt eval exits 0') or diag $err;
    return split /\n/, $out;
}

my $ctx = '{"attributes":{"id":"1"}';
my $exp = '"key":"my-test","variations":["a","b"]';
my $in  = '{"value":"b","inExperiment":true,"hashUsed":false,'
    . '"variationId":1}';
my $out = '{"value":"a","inExperiment":false,"hashUsed":false,'
    . '"variationId":0}';

# JSON has one number type: 1.0 is the index 1 (GrowthBook's SDK agrees)
my @r = eval_lines(
    qq({"context":$ctx},"experiment":{$exp,"force":1.0}}),
    qq({"context":$ctx,"forcedVariations":{"my-test":1.0}},"experiment":{$exp}}),
    qq({"context":$ctx},"experiment":{$exp,"force":1.5}}),
    qq({"context":$ctx},"experiment":{$exp,"force":2.0}}),
    qq({"context":$ctx},"experiment":{$exp,"force":-1.0}}),
);
is($r[0], $in, 'force 1.0 is variation 1');
is($r[1], $in, 'forcedVariations 1.0 is variation 1');
is($r[2], $out, 'force 1.5 is no variation');
is($r[3], $out, 'force 2.0 is out of range');
is($r[4], $out, 'force -1.0 is out of range');

# run() step 12, "if (context.qaMode)": any truthy value, as JavaScript
# reads it; the hashed assignment of id 1 is "b"
my $hashed = '{"value":"b","inExperiment":true,"hashUsed":true,'
    . '"variationId":1}';
@r = eval_lines(map { qq({"context":{"attributes":{"id":"1"},"qaMode":$_},)
    . qq("experiment":{$exp}}) } qw(true 1 "yes" [] false 0 "" null));
is_deeply(\@r, [($out) x 4, ($hashed) x 4],
    'qaMode: true, 1, "yes", [] are on; false, 0, "", null are off');

done_testing();
