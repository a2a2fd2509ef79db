-- Weekday and hour campaign switch: a slot shows a campaign's variant
-- during its hours, e.g. a lunch offer on weekdays 11:00-14:00 and a
-- weekend banner, in the site's time zone; the attribute "campaign" names
-- the campaign on now, for experiment conditions (docs/plugins.md).
--
-- Config ("plugins": {"campaign_switch": {...}}):
--   slot        "hero"         the slot whose variant is switched
--   utc_offset  8              hours east of UTC of the schedule (8: China)
--   campaigns   [ {"name": "lunch", "days": [1,2,3,4,5], "from": 11,
--                  "to": 14, "variant": "lunch-offer"}, ... ]
--               days: 0 Sunday .. 6 Saturday (all days when absent);
--               from/to: hours, to exclusive (0-24 when absent).  The
--               first campaign on wins; none on: the slot's own choice.

local conf = { slot = "hero", utc_offset = 0, campaigns = {} }

local function valid(c, i)
    if type(c.name) ~= "string" then
        error("campaigns[" .. i .. "].name must be a string")
    end
    c.from = c.from or 0
    c.to = c.to or 24
    if c.days then
        local set = {}
        for _, d in ipairs(c.days) do set[d] = true end
        c.day_set = set
    end
end

-- the campaign on at unix time t, or nil
local function current(t)
    local local_t = t + conf.utc_offset * 3600
    local days = math.floor(local_t / 86400)
    local dow = (days + 4) % 7            -- 1970-01-01 was a Thursday
    local hour = math.floor(local_t % 86400 / 3600)
    for _, c in ipairs(conf.campaigns) do
        if (c.day_set == nil or c.day_set[dow])
           and hour >= c.from and hour < c.to then
            return c
        end
    end
    return nil
end

return {
    name = "campaign_switch",

    init = function(c)
        conf.slot = c.slot or conf.slot
        conf.utc_offset = c.utc_offset or 0
        conf.campaigns = c.campaigns or {}
        for i, camp in ipairs(conf.campaigns) do valid(camp, i) end
    end,

    attributes = function(ctx)
        local c = current(mkt.time())
        if c then return { campaign = c.name } end
        return nil
    end,

    choose = function(slot, ctx)
        if slot.key ~= conf.slot then return nil end
        local c = current(mkt.time())
        return c and c.variant or nil
    end,
}
