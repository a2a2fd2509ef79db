-- Event enricher: adds props.campaign_group to every event, the group of
-- the campaign that brought the visitor (this request's utm_source, else
-- the last touch, else the first), so reports can roll campaigns up
-- (docs/plugins.md).
--
-- Config ("plugins": {"campaign_group": {...}}):
--   groups   {"search": ["baidu", "google"], "social": ["xiaohongshu"]}
--            sources per group, compared lowercase
--   default  "other"     for a source in no group; "direct" without one

local groups, default = {}, "other"

return {
    name = "campaign_group",

    init = function(c)
        for group, sources in pairs(c.groups or {}) do
            for _, s in ipairs(sources) do
                groups[string.lower(s)] = group
            end
        end
        default = c.default or default
    end,

    event = function(ev)
        local source = ev.utm.source or ev.lt.source or ev.ft.source
        if source == nil then
            ev.props.campaign_group = "direct"
        else
            ev.props.campaign_group = groups[string.lower(source)] or default
        end
    end,
}
