-- The "lua" bench scenarios: what a web team would write today with
-- OpenResty for A/B tests at the edge.  A visitor id in cookie _mkt (minted
-- when missing), five experiments bucketed GrowthBook-v1 style,
-- fnv1a32(id .. seed) % 1000, each decision sent as a response header.
-- Loaded once per worker by require(), as real deployments do.

local bit = require "bit"

local bxor, lshift, tobit = bit.bxor, bit.lshift, bit.tobit
local byte, char = string.byte, string.char
local random = math.random
local unpack = unpack
local ngx = ngx

local _M = {}

-- key, share of "control" in per mille; the rest get "treatment"
local experiments = {
    { header = "X-Exp-1", seed = "hero",     control = 500 },
    { header = "X-Exp-2", seed = "cta",      control = 500 },
    { header = "X-Exp-3", seed = "pricing",  control = 500 },
    { header = "X-Exp-4", seed = "checkout", control = 500 },
    { header = "X-Exp-5", seed = "banner",   control = 500 },
}

local alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local id_buf = {}


-- FNV-1a 32-bit.  h * 16777619 overflows a double's 53 bits, so it is
-- computed as (h << 24) + h * 403, reduced to 32 bits by tobit().
local function fnv1a32(s)
    local h = tobit(2166136261)

    for i = 1, #s do
        h = bxor(h, byte(s, i))
        h = tobit(lshift(h, 24) + h * 403)
    end

    return h % 4294967296
end

_M.fnv1a32 = fnv1a32


-- 22 base64url characters, like $mkt_vid.  math.random is not a CSPRNG and
-- the cookie is not signed: this is cheaper than what the module does.
local function mint_id()
    for i = 1, 22 do
        id_buf[i] = byte(alphabet, random(1, 64))
    end

    return char(unpack(id_buf, 1, 22))
end


function _M.init_worker()
    math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
end


function _M.run()
    local vid = ngx.var.cookie__mkt

    if vid == nil or #vid ~= 22 then
        vid = mint_id()
        ngx.header["Set-Cookie"] = "_mkt=" .. vid
            .. "; Max-Age=34560000; Path=/; HttpOnly; SameSite=Lax"
    end

    for i = 1, #experiments do
        local e = experiments[i]

        if fnv1a32(vid .. e.seed) % 1000 < e.control then
            ngx.header[e.header] = "control"
        else
            ngx.header[e.header] = "treatment"
        end
    end
end


return _M
