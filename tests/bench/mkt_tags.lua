-- make bench: the OpenResty equivalent of the module's tag lookup on a
-- cache miss (scenario lua_tags): the user id from X-User-Id, one
-- ZRANGEBYSCORE on a keepalive connection of lua-resty-redis (Debian's
-- lua-nginx-redis), the tags in a response header.
local redis = require "nginx.redis"

local _M = {}

function _M.run()
    local uid = ngx.var.http_x_user_id
    local tags = {}

    if uid then
        local red = redis:new()
        red:set_timeout(20)
        local ok = red:connect("127.0.0.1", tonumber(ngx.var.bench_redis_port))
        if ok then
            local res = red:zrangebyscore("mkt:tags:" .. uid,
                                          "(" .. ngx.time(), "+inf",
                                          "WITHSCORES", "LIMIT", 0, 64)
            if type(res) == "table" then
                for i = 1, #res, 2 do
                    tags[#tags + 1] = res[i]
                end
            end
            red:set_keepalive(10000, 32)
        end
    end

    ngx.header["X-Tags"] = "[" .. table.concat(tags, ",") .. "]"
end

return _M
