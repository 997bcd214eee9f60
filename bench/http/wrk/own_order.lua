-- GET /api/v2/orders/<id>/ as the customer who owns it: wrk ... own_order.lua -- ORDERS_FILE
-- ORDERS_FILE lines are "<access token> <order id>".
package.path = (os.getenv("BENCH_WRK_DIR") or ".") .. "/?.lua;" .. package.path
local bench = require("common")

setup, response, done = bench.setup, bench.response, bench.done

local pairs_ = {}

function init(args)
   bench.init()
   for _, line in ipairs(bench.lines(args[1])) do
      local token, id = line:match("^(%S+)%s+(%d+)$")
      table.insert(pairs_, { id = id, headers = bench.headers({ Authorization = "Bearer " .. token }) })
   end
end

function request()
   local pick = pairs_[math.random(#pairs_)]
   return wrk.format("GET", "/api/v2/orders/" .. pick.id .. "/", pick.headers)
end
