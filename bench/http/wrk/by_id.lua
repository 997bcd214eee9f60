-- GET <prefix><random id>/ with ids from a file: wrk ... by_id.lua -- IDS_FILE PREFIX
package.path = (os.getenv("BENCH_WRK_DIR") or ".") .. "/?.lua;" .. package.path
local bench = require("common")

setup, response, done = bench.setup, bench.response, bench.done

local ids, prefix, headers

function init(args)
   bench.init()
   ids = bench.lines(args[1])
   prefix = args[2]
   headers = bench.headers()
end

function request()
   return wrk.format("GET", prefix .. ids[math.random(#ids)] .. "/", headers)
end
