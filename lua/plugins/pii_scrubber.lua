-- PII scrubber: removes query parameters that carry personal data (phone,
-- email, ...) from the path of every event before it is written, and any
-- parameter whose value looks like an email address or a mobile number,
-- whatever its name (docs/plugins.md).
--
-- Config ("plugins": {"pii_scrubber": {...}}):
--   params  ["phone", "email", ...]   names to drop (case-insensitive);
--           the default list is below
--   values  true                      also drop values that look like an
--                                     email or a phone number

local drop = {}
local check_values = true
local defaults = { "phone", "mobile", "tel", "email", "mail", "name",
                   "id_card", "idcard", "address", "token", "password" }

local function looks_personal(v)
    -- percent-decoded enough for the usual shapes: @ may be %40
    local s = v:gsub("%%40", "@")
    if s:find("^[%w._%%+-]+@[%w.-]+%.%a%a+$") then return true end
    local digits = s:gsub("[%s+().-]", "")
    if digits:find("^%d+$") and #digits >= 11 and #digits <= 15 then
        return true
    end
    return false
end

local function scrub(path)
    local base, query = path:match("^([^?]*)%?(.*)$")
    if base == nil then return path end

    local kept = {}
    for pair in query:gmatch("[^&]+") do
        local name, value = pair:match("^([^=]*)=?(.*)$")
        if not drop[string.lower(name)]
           and not (check_values and looks_personal(value)) then
            kept[#kept + 1] = pair
        end
    end

    if #kept == 0 then return base end
    return base .. "?" .. table.concat(kept, "&")
end

return {
    name = "pii_scrubber",

    init = function(c)
        for _, p in ipairs(c.params or defaults) do
            drop[string.lower(p)] = true
        end
        if c.values ~= nil then check_values = c.values end
    end,

    event = function(ev)
        if ev.path then ev.path = scrub(ev.path) end
    end,
}
