-- The bench's trivial plugin (scenario mkt_plugin): one attribute, from
-- nothing, for the experiment of tests/bench/run.sh's "plugin" instances.
return {
    attributes = function(ctx)
        return { tier = "gold" }
    end,
}
