#!/usr/bin/env perl
# Writes an experiments file (mkt_config JSON) for the benchmarks: TOTAL
# running experiments of which MATCHING can apply to a desktop browser's
# request for http://www.example.com/index.html, the request that
# tests/bench/run.sh and tests/bench/engine send.
#
#   experiments.pl TOTAL MATCHING > FILE
#
# The first five are hero, cta, pricing, checkout and banner: 50/50, no
# condition, no namespace, so every visitor gets a variation (the bench's
# X-Exp-1..5 headers).  The other matching ones are what a site's file
# looks like: conditions on device, query.X and header.X (some true for
# that request, some false), namespaces, three-way splits, partial
# coverage.  The rest are kept off the request by match.host and by the
# literal prefix of match.path, as the index sees them.  Two slots
# follow.  Deterministic: the same arguments give the same file.
use strict;
use warnings;
use JSON::PP;

my ($total, $matching) = @ARGV;
die "usage: $0 TOTAL MATCHING\n"
    unless defined $matching && $total =~ /^\d+$/ && $matching =~ /^\d+$/
        && $matching <= $total && $total >= 1;

my @headline = qw(hero cta pricing checkout banner);
my @other_hosts = qw(shop.example.com m.example.com www.example.cn
                     help.example.com);
my @sections = qw(landing product checkout blog account search);

# conditions a matching experiment may carry; the comment says what the
# bench's request makes of it
my @conditions = (
    {device => {'$in' => ['desktop', 'tablet']}},              # true
    {device => 'mobile'},                                      # false
    {'query.utm_source' => 'newsletter'},                      # false
    {'header.accept-language' => {'$regex' => '^en'}},         # true
    {'$or' => [{'query.utm_campaign' => {'$exists' => JSON::PP::true}},
               {device => {'$ne' => 'bot'}}]},                 # true
    {'header.accept-language' => {'$regex' => '^(zh|ja)'}},    # false
    {device => {'$nin' => ['bot']},
     'query.ref' => {'$exists' => JSON::PP::false}},           # true
);

# where a matching experiment runs: all of them take /index.html on
# www.example.com
my @match_here = (
    undef,                                                     # everywhere
    {host => 'www.example.com'},
    {host => 'www.example.com', path => '^/'},
    {path => '^/index'},
    {host => ['www.example.com', 'example.com'],
     path => '^/index\.html$'},
);

sub experiment {
    my ($key, %f) = @_;
    return {key => $key, status => 'running', hashVersion => 2,
            start => '2026-01-01T00:00:00Z',
            end => '2030-01-01T00:00:00Z', %f};
}

my @exps;
for my $i (0 .. $total - 1) {
    if ($i < $matching && $i < @headline) {
        push @exps, experiment($headline[$i],
            variations => ['control', 'treatment'],
            match => {path => '^/index'});

    } elsif ($i < $matching) {
        my %f = (variations => ['control', 'treatment']);
        $f{match} = $match_here[$i % @match_here]
            if defined $match_here[$i % @match_here];
        $f{condition} = $conditions[$i % @conditions] if $i % 3 != 0;
        $f{namespace} = ['ns' . ($i % 7), ($i % 2) * 0.5, ($i % 2) * 0.5 + 0.5]
            if $i % 4 == 1;
        if ($i % 5 == 2) {
            $f{variations} = ['control', 'a', 'b'];
            $f{weights} = [0.34, 0.33, 0.33];
        }
        $f{coverage} = 0.8 if $i % 6 == 5;
        push @exps, experiment(sprintf('site-%04d', $i), %f);

    } else {
        # kept off /index.html: another section's path, or another host
        my $section = $sections[$i % @sections];
        my %match = $i % 3 == 0
            ? (host => $other_hosts[$i % @other_hosts], path => '^/')
            : $i % 3 == 1
            ? (host => 'www.example.com', path => "^/$section/$i/")
            : (path => "^/$section/$i(/|\$)");
        push @exps, experiment(sprintf('off-%04d', $i),
            variations => ['control', 'treatment'],
            match => \%match,
            ($i % 4 == 0 ? (condition => $conditions[$i % @conditions]) : ()));
    }
}

# the two personalisation slots of the bench (M7 scenario 4: "5
# experiments, 2 slots, tags cached"): rules on tags, geo, the last touch
# and the device, none of which the bench's visitor matches, so that every
# rule is evaluated before the default is served
my @slots = (
    {key => 'hero', variants => ['generic', 'new-mom', 'vip'],
     rules => [{if => {tags => 'vip'}, variant => 'vip'},
               {if => {tags => 'new_mom', 'geo.country' => 'CN'},
                variant => 'new-mom'}],
     default => 'generic'},
    {key => 'promo', variants => ['none', 'paid', 'app'],
     rules => [{if => {'lt.medium' => {'$in' => ['cpc', 'paid_social']}},
                variant => 'paid'},
               {if => {device => 'mobile'}, variant => 'app'}],
     default => 'none'},
);

print JSON::PP->new->canonical->indent->space_after
    ->encode({experiments => \@exps, slots => \@slots});
