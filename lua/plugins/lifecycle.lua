-- Lifecycle stage from tags: new, active, at-risk or dormant, the stages
-- marketers use for win-back and retention (docs/plugins.md).
--
-- The CDP tags each visitor with the day of their last purchase (or
-- visit), e.g. ZADD mkt:tags:u42 +inf last_purchase:2026-11-02, and
-- optionally an order count, orders:3.  This plugin adds the attributes
--   lifecycle       "new" (no purchase yet), "active", "at-risk", "dormant"
--   days_since      whole days since the last purchase (absent when new)
--   orders          the order count (absent without the tag)
-- for experiment conditions and slot rules:
--   {"if": {"lifecycle": "dormant"}, "variant": "win-back"}
--
-- Config ("plugins": {"lifecycle": {...}}), all optional:
--   tag_prefix   "last_purchase:"   the tag carrying the day (YYYY-MM-DD)
--   active_days  30                 at most this many days: active
--   dormant_days 90                 more than this many days: dormant;
--                                   in between: at-risk

local conf = { tag_prefix = "last_purchase:", active_days = 30,
               dormant_days = 90 }

-- days since 1970-01-01 of a civil date (proleptic Gregorian)
local function days_from_civil(y, m, d)
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local mp = (m + 9) % 12
    local doy = math.floor((153 * mp + 2) / 5) + d - 1
    local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
    return era * 146097 + doe - 719468
end

local function stage(days)
    if days == nil then return "new" end
    if days <= conf.active_days then return "active" end
    if days <= conf.dormant_days then return "at-risk" end
    return "dormant"
end

return {
    name = "lifecycle",

    init = function(c)
        for k, v in pairs(c) do
            if conf[k] == nil then
                error("unknown setting " .. tostring(k))
            end
            if type(v) ~= type(conf[k]) then
                error(k .. " must be a " .. type(conf[k]))
            end
            conf[k] = v
        end
        if conf.active_days > conf.dormant_days then
            error("active_days is more than dormant_days")
        end
    end,

    attributes = function(ctx)
        local tags = ctx.tags
        if tags == nil then return nil end

        local prefix, plen = conf.tag_prefix, #conf.tag_prefix
        local last, orders
        for i = 1, #tags do
            local t = tags[i]
            if t:sub(1, plen) == prefix then
                local y, m, d = t:match("^(%d%d%d%d)-(%d%d)-(%d%d)$",
                                        plen + 1)
                if y then
                    local day = days_from_civil(tonumber(y), tonumber(m),
                                                tonumber(d))
                    if last == nil or day > last then last = day end
                end
            else
                local n = t:match("^orders:(%d+)$")
                if n then orders = tonumber(n) end
            end
        end

        local days
        if last then
            days = math.floor(mkt.time() / 86400) - last
            if days < 0 then days = 0 end
        end

        return { lifecycle = stage(days), days_since = days, orders = orders }
    end,
}
